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
      ctx.out.result(
        {
          url: server.url,
          examples: server.examples ?? [],
          ...(server.auth === undefined
            ? {}
            : { auth: { enabled: server.auth.enabled, dataPlane: server.auth.dataPlane, adminKeyFile: server.auth.adminKeyFile, ...(server.auth.createdAdminKey?.generated === true ? { adminKey: server.auth.createdAdminKey.token } : {}) } }),
        },
        () => {
        ctx.out.line(`Slipway is listening on ${server.url} (stop with Ctrl-C)`);
        if (server.config !== undefined) ctx.out.line(`  data directory:  ${server.config.dataDir}`);
        const auth = server.auth;
        if (auth === undefined) {
          // a server that does not say (a stand-in in tests) gets no claim either way
        } else if (!auth.enabled) {
          ctx.out.line('  authentication:  OFF (security.auth.enabled: false): every request acts as an anonymous admin');
        } else {
          ctx.out.line('  authentication:  on for the control plane (/api/v1, /metrics)');
          ctx.out.line(
            auth.dataPlane === 'open'
              ? '  data plane:      OPEN (security.auth.dataPlane: open): /v2 inference needs no key'
              : '  data plane:      a key is required for /v2 inference too (security.auth.dataPlane: open opens it)',
          );
          if (auth.createdAdminKey?.generated === true) {
            // printed this once: the next start finds a key and says only where it is
            ctx.out.line(`  admin key:       ${auth.createdAdminKey.token}`);
            ctx.out.line(`                   generated and written to ${auth.adminKeyFile} (mode 0600); shown only now`);
          } else if (auth.createdAdminKey !== undefined) {
            // the operator chose it: never echoed to a terminal or a log
            ctx.out.line(`  admin key:       taken from SLIPWAY_BOOTSTRAP_ADMIN_KEY and written to ${auth.adminKeyFile} (mode 0600)`);
          } else {
            ctx.out.line(`  admin key:       in ${auth.adminKeyFile} if this server made it; the CLI reads it from there`);
          }
        }
        const examples = server.examples ?? [];
        if (examples.length > 0) {
          ctx.out.line(`  example endpoints: ${examples.join(', ')}`);
          const header = auth?.enabled === true && auth.dataPlane === 'required' ? ` -H "Authorization: Bearer $(cat ${auth.adminKeyFile})"` : '';
          ctx.out.line(`  try: curl -s${header} ${server.url}/v2/models/${examples[0] ?? ''}`);
        }
      });
      const signal = await io.waitForStop();
      ctx.out.note(`${signal}: finishing in-flight requests, then stopping`);
      await server.close();
      ctx.out.note('stopped');
    });
}
