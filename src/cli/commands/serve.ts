/** `slipway serve`: starts the server in this process (the only command that opens the data directory). */
import { InvalidArgumentError, type Command } from 'commander';
import { commandContext } from '../context.js';
import type { CliIo, StartServer } from '../io.js';

interface ServeFlags {
  port?: number;
  host?: string;
  dataDir?: string;
  config?: string;
  examples?: boolean;
}

function portArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a port number (0–65535; 0 picks a free one)');
  return n;
}

export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('run the Slipway server (registry, control API and Open Inference Protocol) until SIGINT or SIGTERM')
    .option('--port <port>', 'port to listen on (default 8080, or the config file / SLIPWAY_* setting)', portArg)
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--data-dir <dir>', 'data directory (default ./.slipway)')
    .option('--config <file>', 'YAML config file')
    .option('--examples', 'register and deploy the example models')
    .action(async (flags: ServeFlags, command: Command) => {
      const ctx = commandContext(io, command);
      // imported on demand so that every other command starts without loading the server
      const start: StartServer = io.startServer ?? (await import('../../app/index.js')).startServer;
      const server = await start({
        ...(flags.host === undefined ? {} : { host: flags.host }),
        ...(flags.port === undefined ? {} : { port: flags.port }),
        ...(flags.dataDir === undefined ? {} : { dataDir: ctx.path(flags.dataDir) }),
        ...(flags.config === undefined ? {} : { configFile: ctx.path(flags.config) }),
        ...(flags.examples === true ? { examples: true } : {}),
        env: io.env,
      });
      ctx.out.result({ url: server.url, examples: server.examples ?? [] }, () => {
        ctx.out.line(`Slipway is listening on ${server.url} (stop with Ctrl-C)`);
        if (server.config !== undefined) ctx.out.line(`  data directory:  ${server.config.dataDir}`);
        // said plainly until the security release switches authentication on
        ctx.out.line('  authentication:  off: every request acts as the anonymous principal');
        const examples = server.examples ?? [];
        if (examples.length > 0) {
          ctx.out.line(`  example endpoints: ${examples.join(', ')}`);
          ctx.out.line(`  try: curl -s ${server.url}/v2/models/${examples[0] ?? ''}`);
        }
      });
      const signal = await io.waitForStop();
      ctx.out.note(`${signal}: finishing in-flight requests, then stopping`);
      await server.close();
      ctx.out.note('stopped');
    });
}
