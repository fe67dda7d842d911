/**
 * The Adam optimiser (Kingma & Ba, 2015) over a list of parameter arrays, updated in place.
 */
import { ExamplesErrors } from './errors.js';

/** Adam hyper-parameters; the defaults are the paper's. */
export interface AdamOptions {
  readonly learningRate: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

/** An Adam optimiser bound to its parameters. */
export interface Adam {
  /** Applies one update from gradients shaped like the parameters, at the given or the configured rate. */
  step(gradients: readonly Float64Array[], learningRate?: number): void;
}

/** Creates an optimiser that updates `parameters` in place on each step. */
export function createAdam(parameters: readonly Float64Array[], options: AdamOptions): Adam {
  const { learningRate } = options;
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const epsilon = options.epsilon ?? 1e-8;
  if (!(learningRate > 0)) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`adam: learningRate must be > 0, got ${learningRate}`);
  const m = parameters.map((p) => new Float64Array(p.length));
  const v = parameters.map((p) => new Float64Array(p.length));
  let t = 0;
  return {
    step(gradients, rate = learningRate) {
      if (gradients.length !== parameters.length) {
        throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`adam: ${gradients.length} gradient arrays for ${parameters.length} parameter arrays`);
      }
      t++;
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      parameters.forEach((p, k) => {
        const g = gradients[k] as Float64Array;
        const mk = m[k] as Float64Array;
        const vk = v[k] as Float64Array;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i] as number;
          const mi = beta1 * (mk[i] as number) + (1 - beta1) * gi;
          const vi = beta2 * (vk[i] as number) + (1 - beta2) * gi * gi;
          mk[i] = mi;
          vk[i] = vi;
          p[i] = (p[i] as number) - (rate * (mi / c1)) / (Math.sqrt(vi / c2) + epsilon);
        }
      });
    },
  };
}
