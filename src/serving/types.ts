/**
 * What the data plane exposes to the control plane about deployments: which versions an endpoint
 * serves right now and in what state their replicas are.
 */
import type { ReplicaStats } from '../runtime/index.js';

export type DeploymentState = 'loading' | 'ready' | 'failed' | 'draining';

export interface DeployedVersion {
  readonly model: string;
  readonly version: number;
  /**
   * `stable` serves traffic; `pending` is loading to replace it; `retiring` finishes its in-flight
   * requests before unloading. `candidate` and `shadow` arrive with rollouts.
   */
  readonly role: 'stable' | 'pending' | 'retiring' | 'candidate' | 'shadow';
  readonly state: DeploymentState;
  /** Why the version failed to load, when state is `failed`. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly replicas: readonly ReplicaStats[];
}

export interface EndpointDeployment {
  readonly endpoint: string;
  /** True when a request can be answered right now. */
  readonly ready: boolean;
  readonly versions: readonly DeployedVersion[];
}

export interface DeploymentStatusView {
  /** The live state of one endpoint's deployment, or undefined if the data plane has none. */
  deployment(endpoint: string): EndpointDeployment | undefined;
}
