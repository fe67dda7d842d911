/**
 * What the data plane exposes to the control plane about deployments: which versions an endpoint
 * serves right now and in what state their replicas are.
 */
import type { ReplicaStats } from '../runtime/index.js';
import type { AutoscalerEvent, AutoscalerStatus } from '../scaling/index.js';
import type { BatchStats } from './batching/index.js';
import type { TrafficPolicy } from './routing/index.js';

export type DeploymentState = 'loading' | 'ready' | 'failed' | 'draining';

export interface DeployedVersion {
  readonly model: string;
  readonly version: number;
  /**
   * `stable` serves traffic; `pending` is loading to replace it; `retiring` finishes its in-flight
   * requests before unloading; `warm` is a former stable version kept loaded, unrouted, so that
   * switching back is instant (blue-green's scaleDownDelaySeconds). `candidate` and `shadow` serve a traffic policy.
   */
  readonly role: 'stable' | 'pending' | 'retiring' | 'candidate' | 'shadow' | 'warm';
  /** Its variant in the endpoint's traffic policy (`candidate`, an experiment variant, `shadow`). */
  readonly variant?: string;
  readonly state: DeploymentState;
  /** Why the version failed to load, when state is `failed`. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly replicas: readonly ReplicaStats[];
  /** Where its sessions run (`worker` threads, or the `main-thread` for models cheaper than a thread hop), once loaded. */
  readonly placement?: 'worker' | 'main-thread';
  /** The version's batch scheduler figures (queue depth, batches, mean batch size, …), when batching is on. */
  readonly batching?: BatchStats;
}

export interface EndpointDeployment {
  readonly endpoint: string;
  /** True when a request can be answered right now. */
  readonly ready: boolean;
  readonly versions: readonly DeployedVersion[];
  /** The traffic policy splitting requests between the versions, when one is set. */
  readonly traffic?: TrafficPolicy;
}

/** The autoscaler of an endpoint's stable version: its state now and its recent decisions, oldest first. */
export interface EndpointScaling {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  readonly status: AutoscalerStatus;
  readonly events: readonly AutoscalerEvent[];
}

export interface DeploymentStatusView {
  /** The live state of one endpoint's deployment, or undefined if the data plane has none. */
  deployment(endpoint: string): EndpointDeployment | undefined;
  /** The endpoint's autoscaler, or undefined when autoscaling is off or nothing is deployed. */
  scaling?(endpoint: string): EndpointScaling | undefined;
}
