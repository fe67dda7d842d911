/**
 * A child process of the rollout simulator: receives one {@link ShardTask}, runs it, sends the
 * results back and exits. Started by runner.ts with `--import tsx`.
 */
import { runShard, type ShardTask } from './runner.js';

process.once('message', (message) => {
  const result = runShard(message as ShardTask);
  process.send?.(result, () => process.disconnect());
});
