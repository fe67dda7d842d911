/**
 * An open-loop HTTP load generator: requests arrive as a Poisson process at a fixed mean rate,
 * whatever the server does, and each latency is measured from the request's scheduled arrival, so a
 * server that falls behind is charged for the queue it builds (no coordinated omission). This is how
 * `slipway plan` loads a model in-process; autocannon's `-R` instead sends each second's requests in
 * a burst, which a plan made for smooth arrivals was never meant to absorb.
 */
import { Agent, request } from 'node:http';
import { createSeededRandom } from '../../src/stats/random.js';
import { quantileSorted } from '../../src/stats/quantiles.js';

export interface OpenLoopResult {
  readonly offeredRps: number;
  readonly achievedRps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly requests: number;
}

/**
 * Sends POST `body` to `url` at `rps` (Poisson arrivals) for `seconds`, with at most `maxSockets`
 * connections (a request whose turn comes while every socket is busy waits, and that wait counts).
 */
export async function openLoop(url: string, body: string, headers: Readonly<Record<string, string>>, rps: number, seconds: number, maxSockets = 64): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const target = new URL(url);
  const random = createSeededRandom(7);
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.max(1, Math.round(rps * seconds));
  const start = performance.now() + 50;
  // the arrival times, drawn up front (exponential gaps)
  const arrivals = new Float64Array(total);
  let t = start;
  for (let i = 0; i < total; i++) {
    t += (-Math.log(1 - random.next()) / rps) * 1000;
    arrivals[i] = t;
  }
  const payload = Buffer.from(body);
  const send = (scheduled: number): Promise<void> =>
    new Promise((resolve) => {
      const req = request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) errors++;
            latencies.push(performance.now() - scheduled);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(payload);
    });
  const pending: Promise<void>[] = [];
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (next < total && (arrivals[next] as number) <= now) pending.push(send(arrivals[next++] as number));
      if (next >= total) return resolve();
      setTimeout(tick, Math.max(0, Math.min(5, (arrivals[next] as number) - performance.now())));
    };
    setTimeout(tick, 50);
  });
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return {
    offeredRps: rps,
    achievedRps: latencies.length / elapsed,
    p50Ms: sorted.length === 0 ? NaN : quantileSorted(sorted, 0.5),
    p99Ms: sorted.length === 0 ? NaN : quantileSorted(sorted, 0.99),
    errors,
    requests: total,
  };
}
