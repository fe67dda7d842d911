#!/usr/bin/env node
// The `slipway` command. `npm ci` builds dist/ (the prepare script); run `npm run build` after editing src/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('slipway: dist/ is missing; run `npm run build` first\n');
  process.exit(70);
}
// `slipway … | head` closes the pipe early: stop quietly, as Unix tools do, instead of a stack trace
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
