/** `slipway deploy` and `slipway endpoints list | show | history | delete`. */
import type { Command } from 'commander';
import { PlatformError } from '../../core/index.js';
import type { EndpointView } from '../../control/index.js';
import type { EndpointEvent, EndpointTarget } from '../../registry/index.js';
import { commandContext, parseModelRef, type CommandContext } from '../context.js';
import type { CliIo } from '../io.js';
import { formatTime, truncate } from '../output.js';
import { CliErrors } from '../errors.js';
import type { LatencyArm } from '../../rollout/analysis/types.js';
import { sketchQuantile } from '../../stats/index.js';

/** `fraud:3` for a pinned version, `fraud@production` for an alias. */
export function formatTarget(target: EndpointTarget): string {
  return target.kind === 'alias' ? `${target.model}@${target.alias}` : `${target.model}:${target.version}`;
}

/** One word for the live state: ready, loading, failed … or `not deployed`. */
function stateOf(endpoint: EndpointView): string {
  const d = endpoint.deployment;
  if (d === null) return 'not deployed';
  if (d.versions.length === 0) return d.ready ? 'ready' : 'not deployed';
  const stable = d.versions.find((v) => v.role === 'stable');
  const others = d.versions.filter((v) => v !== stable).map((v) => `${v.role} v${v.version} ${v.state}`);
  const head = stable === undefined ? (d.ready ? 'ready' : 'not ready') : stable.state;
  return [head, ...others].join(', ');
}

function serves(endpoint: EndpointView): string {
  const via = endpoint.target.kind === 'alias' ? ` (follows ${endpoint.target.model}@${endpoint.target.alias})` : ' (pinned)';
  return `${endpoint.model}:${endpoint.version}${via}`;
}

function printEndpoint(ctx: CommandContext, e: EndpointView): void {
  ctx.out.fields([
    ['Endpoint', e.name],
    ['Description', e.description === '' ? undefined : e.description],
    ['Serves', serves(e)],
    ['State', stateOf(e)],
    ['Created', formatTime(e.createdAt)],
    ['Updated', formatTime(e.updatedAt)],
    ['Calls', `POST /v2/models/${e.name}/infer`],
  ]);
  const versions = e.deployment?.versions ?? [];
  if (versions.length > 0) {
    ctx.out.line();
    ctx.out.table(
      ['VERSION', 'ROLE', 'STATE', 'PLACEMENT', 'REPLICAS', 'SERVED', 'ERROR'],
      versions.map((v) => [
        `${v.model}:${v.version}`,
        v.variant === undefined || v.variant === v.role ? v.role : `${v.role} (${v.variant})`,
        v.state,
        v.placement ?? '-',
        String(v.replicas.length),
        String(v.replicas.reduce((n, r) => n + r.served, 0)),
        truncate(v.error === undefined ? '' : `${v.error.code}: ${v.error.message}`),
      ]),
      '',
    );
    // the table cuts errors short; why a load failed (a refused artifact, a bad model) is worth reading whole
    const failures = versions.filter((v) => v.error !== undefined);
    if (failures.length > 0) ctx.out.line();
    for (const v of failures) ctx.out.line(`${v.model}:${v.version} ${v.state}: ${v.error?.code ?? ''}: ${v.error?.message ?? ''}`);
  }
}

const side = (s: EndpointEvent['from']): string => (s === null ? '-' : s.target.kind === 'alias' ? `${s.model}:${s.version} (@${s.target.alias})` : `${s.model}:${s.version}`);

interface DeployOptions {
  model: string;
  reason?: string;
  description?: string;
}

interface ReasonOptions {
  reason?: string;
}

export function registerEndpointCommands(program: Command, io: CliIo): void {
  program
    .command('deploy')
    .description('create an endpoint, or point an existing one at another version or alias')
    .argument('<endpoint>', 'endpoint name (what clients call: /v2/models/<endpoint>/infer)')
    .requiredOption('--model <ref>', 'NAME (latest version), NAME:VERSION (pinned) or NAME@ALIAS (follows the alias)')
    .option('--reason <text>', 'why, kept in the history')
    .option('--description <text>', 'what the endpoint is for (when it is created)')
    .action(async (name: string, options: DeployOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const ref = parseModelRef(options.model, '--model');
      const client = ctx.client();
      const target = {
        model: ref.model,
        ...(ref.version === undefined ? {} : { version: ref.version }),
        ...(ref.alias === undefined ? {} : { alias: ref.alias }),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      };
      let exists = true;
      try {
        await client.getEndpoint(name);
      } catch (error) {
        if (!(error instanceof PlatformError) || error.code !== 'REGISTRY_ENDPOINT_NOT_FOUND') throw error;
        exists = false;
      }
      const result = exists
        ? await client.updateEndpoint(name, target)
        : await client.createEndpoint({ name, ...target, ...(options.description === undefined ? {} : { description: options.description }) });
      ctx.out.result(result, () => {
        ctx.out.line(`${exists ? 'Updated' : 'Created'} endpoint ${name}: serves ${serves(result.endpoint)}`);
        ctx.out.line(`  call it: POST ${ctx.server.replace(/\/+$/, '')}/v2/models/${name}/infer`);
      });
    });

  const endpoints = program.command('endpoints').description('list, inspect, audit and delete endpoints');

  endpoints
    .command('list')
    .description('list endpoints with what they serve and their live state')
    .action(async (_options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().listEndpoints();
      ctx.out.result(result, () =>
        ctx.out.table(
          ['NAME', 'TARGET', 'VERSION', 'STATE', 'UPDATED'],
          result.endpoints.map((e) => [e.name, formatTarget(e.target), String(e.version), stateOf(e), formatTime(e.updatedAt)]),
          'No endpoints yet. Create one with `slipway deploy ENDPOINT --model NAME`.',
        ),
      );
    });

  endpoints
    .command('show')
    .description('show one endpoint: its target and its deployed versions')
    .argument('<endpoint>', 'endpoint name')
    .action(async (name: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().getEndpoint(name);
      ctx.out.result(result, () => printEndpoint(ctx, result.endpoint));
    });

  endpoints
    .command('history')
    .description("every change of an endpoint's target: when, who, from, to and why")
    .argument('<endpoint>', 'endpoint name')
    .action(async (name: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().endpointHistory(name);
      ctx.out.result(result, () =>
        ctx.out.table(
          ['SEQ', 'AT', 'BY', 'FROM', 'TO', 'REASON'],
          result.history.map((e) => [String(e.seq), formatTime(e.at), e.by, side(e.from), side(e.to), truncate(e.reason)]),
          'No history.',
        ),
      );
    });

  endpoints
    .command('scaling')
    .description("the endpoint's autoscaler: replicas, observed concurrency and its recent decisions with their inputs; with flags, set the endpoint's own options")
    .argument('<endpoint>', 'endpoint name')
    .option('--limit <n>', 'how many recent decisions to show', '20')
    .option('--min-replicas <n>', 'fewest replicas (0 allows scale to zero)')
    .option('--max-replicas <n>', 'most replicas')
    .option('--target-concurrency <n>', 'requests in flight per replica the autoscaler aims for')
    .option('--scale-to-zero-grace <seconds>', 'idle time before the last replica goes (with --min-replicas 0)')
    .option('--reset', "forget the endpoint's own options: the server's apply")
    .action(async (name: string, options: ScalingOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const body = scalingBody(options);
      let result;
      if (body === 'show') result = await ctx.client().endpointScaling(name);
      else if (body === undefined) result = await ctx.client().setEndpointScaling(name, undefined);
      else {
        // flags change what they name and keep the endpoint's other options
        const current = (await ctx.client().endpointScaling(name)).settings?.overrides ?? {};
        result = await ctx.client().setEndpointScaling(name, { ...current, ...body });
      }
      ctx.out.result(result, () => {
        const set = result.settings;
        if (set !== null) {
          const own = Object.entries(set.overrides).map(([k, v]) => `${k} ${String(v)}`);
          const e = set.effective;
          ctx.out.line(
            `Options: replicas ${e.minReplicas}–${e.maxReplicas}, target concurrency ${e.targetConcurrency}, windows ${e.stableWindowSeconds} s / ${e.panicWindowSeconds} s, ` +
              `scale-to-zero grace ${e.scaleToZeroGracePeriodSeconds} s (${own.length === 0 ? "the server's" : `endpoint sets ${own.join(', ')}`})`,
          );
        }
        const scaling = result.scaling;
        if (scaling === null) {
          ctx.out.line(`Endpoint ${name} has no autoscaler (serving.autoscaling.enabled is false, or nothing is deployed yet).`);
          return;
        }
        const st = scaling.status;
        ctx.out.line(`Endpoint ${scaling.endpoint} · ${scaling.model}:${scaling.version} · mode ${st.mode}`);
        ctx.out.line(`Replicas: desired ${st.desiredReplicas}, applied ${st.appliedReplicas}, ready ${st.readyReplicas ?? '-'}`);
        ctx.out.line(`Concurrency: stable window ${st.stableConcurrency.toFixed(2)}, panic window ${st.panicConcurrency.toFixed(2)}`);
        const limit = Math.max(1, Number.parseInt(options.limit, 10) || 20);
        ctx.out.table(
          ['SEQ', 'AT', 'REASON', 'REPLICAS', 'CONCURRENCY', 'TIMES', 'MESSAGE'],
          scaling.events.slice(-limit).map((e) => [
            String(e.seq),
            formatTime(new Date(e.atMs).toISOString()),
            e.reason,
            `${e.currentReplicas} → ${e.desiredReplicas}`,
            `${e.stableConcurrency.toFixed(1)} / ${e.panicConcurrency.toFixed(1)}`,
            String(e.count),
            truncate(e.message),
          ]),
          'No decisions yet.',
        );
      });
    });

  endpoints
    .command('traffic')
    .description("show or set the endpoint's traffic policy: a canary split, sticky assignment, a header route, a shadow mirror; and per-variant figures")
    .argument('<endpoint>', 'endpoint name')
    .option('--candidate <version>', 'version that gets --weight percent of requests')
    .option('--weight <percent>', "the candidate's share of requests, 0–100")
    .option('--sticky-header <name>', 'keep each value of this header on one version')
    .option('--sticky-cookie <name>', 'keep each value of this cookie on one version')
    .option('--header-route <name=value>', 'requests with this header value always go to the candidate')
    .option('--mirror <version>', 'send a copy of requests to this version and compare its answers (never returned)')
    .option('--mirror-percent <percent>', 'share of requests mirrored, 0–100', '100')
    .option('--clear', 'remove the policy: every request goes to the stable version')
    .action(async (name: string, options: TrafficOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const body = trafficBody(options);
      const result = body === 'show' ? await ctx.client().endpointTraffic(name) : await ctx.client().setEndpointTraffic(name, body);
      ctx.out.result(result, () => {
        const t = result.traffic;
        if (t === null) ctx.out.line(`Endpoint ${name}: no traffic policy; every request goes to the stable version.`);
        else {
          const parts = [`stable v${t.stable}`];
          if (t.candidate !== undefined) parts.push(`candidate v${t.candidate.version} at ${t.candidate.weight} %`);
          for (const v of t.variants ?? []) parts.push(`${v.name} v${v.version} weight ${v.weight}`);
          if (t.stickiness !== undefined) parts.push(`sticky by ${t.stickiness.kind} ${t.stickiness.name}`);
          for (const h of t.headerRoutes ?? []) parts.push(`${h.header}: ${h.value} → ${h.variant}`);
          if (t.mirror !== undefined) parts.push(`mirror ${t.mirror.percent} % to v${t.mirror.version}`);
          ctx.out.line(`Endpoint ${name}: ${parts.join(' · ')}`);
        }
        const f = result.figures;
        ctx.out.table(
          ['VARIANT', 'VERSION', 'REQUESTS', 'ERRORS', 'ERROR RATE', 'P50 MS', 'P99 MS'],
          (f?.variants ?? []).map((v) => [
            v.variant,
            String(v.version),
            String(v.requests),
            String(v.errors.successes),
            v.errors.n === 0 ? '-' : (v.errors.successes / v.errors.n).toFixed(4),
            quantileMs(v.latency, 0.5),
            quantileMs(v.latency, 0.99),
          ]),
          'No requests since the policy was set.',
        );
        const sh = f?.shadow;
        if (sh !== undefined) {
          const m = sh.summary;
          ctx.out.line(
            `Shadow v${sh.version}: ${m.comparisons} compared, ${sh.mirror.failed} failed, ${sh.mirror.dropped} dropped` +
              (m.agreementRate === null ? '' : `, label agreement ${(m.agreementRate * 100).toFixed(1)} %`) +
              (m.meanAbsDiff === null ? '' : `, mean |Δ| ${m.meanAbsDiff.toPrecision(3)}`) +
              (m.meanLatencyDiffMs === null ? '' : `, latency Δ ${m.meanLatencyDiffMs.toFixed(2)} ms`),
          );
        }
      });
    });

  endpoints
    .command('delete')
    .description('delete an endpoint (its history is kept)')
    .argument('<endpoint>', 'endpoint name')
    .option('--reason <text>', 'why, kept in the history')
    .action(async (name: string, options: ReasonOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().deleteEndpoint(name, options.reason);
      ctx.out.result(result, () => ctx.out.line(`Deleted endpoint ${name} (was serving ${result.endpoint.model}:${result.endpoint.version})`));
    });
}

interface TrafficOptions {
  readonly candidate?: string;
  readonly weight?: string;
  readonly stickyHeader?: string;
  readonly stickyCookie?: string;
  readonly headerRoute?: string;
  readonly mirror?: string;
  readonly mirrorPercent: string;
  readonly clear?: boolean;
}

/** The PUT body from the flags; `show` when no flag changes anything, undefined to clear. The server checks the values. */
function trafficBody(o: TrafficOptions): Record<string, unknown> | undefined | 'show' {
  if (o.clear === true) return undefined;
  const num = (v: string | undefined): number | string | undefined => (v === undefined ? undefined : Number.isFinite(Number(v)) && v.trim() !== '' ? Number(v) : v);
  const body: Record<string, unknown> = {};
  if (o.candidate !== undefined || o.weight !== undefined) body.candidate = { version: num(o.candidate), weight: num(o.weight) };
  if (o.stickyHeader !== undefined) body.stickiness = { header: o.stickyHeader };
  if (o.stickyCookie !== undefined) body.stickiness = { ...(body.stickiness as object | undefined), cookie: o.stickyCookie };
  if (o.headerRoute !== undefined) {
    const eq = o.headerRoute.indexOf('=');
    if (eq <= 0) throw CliErrors.CLI_USAGE(`--header-route must be NAME=VALUE, got ${JSON.stringify(o.headerRoute)}`);
    body.headerRoutes = [{ header: o.headerRoute.slice(0, eq), value: o.headerRoute.slice(eq + 1), variant: 'candidate' }];
  }
  if (o.mirror !== undefined) body.mirror = { version: num(o.mirror), percent: num(o.mirrorPercent) };
  return Object.keys(body).length === 0 ? 'show' : body;
}

/** A latency quantile from an arm's sketch, in ms, or `-`. */
function quantileMs(arm: LatencyArm, q: number): string {
  if (arm.sketch === undefined || arm.sketch === null || arm.n === 0) return '-';
  const v = sketchQuantile(arm.sketch, q);
  return Number.isFinite(v) ? v.toFixed(2) : '-';
}

interface ScalingOptions {
  readonly limit: string;
  readonly minReplicas?: string;
  readonly maxReplicas?: string;
  readonly targetConcurrency?: string;
  readonly scaleToZeroGrace?: string;
  readonly reset?: boolean;
}

/** The PUT body from the flags (values checked by the server); `show` without flags, undefined to reset. */
function scalingBody(o: ScalingOptions): Record<string, unknown> | undefined | 'show' {
  if (o.reset === true) return undefined;
  const body: Record<string, unknown> = {};
  const put = (key: string, v: string | undefined): void => {
    if (v !== undefined) body[key] = v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  };
  put('minReplicas', o.minReplicas);
  put('maxReplicas', o.maxReplicas);
  put('targetConcurrency', o.targetConcurrency);
  put('scaleToZeroGracePeriodSeconds', o.scaleToZeroGrace);
  return Object.keys(body).length === 0 ? 'show' : body;
}
