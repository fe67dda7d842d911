/**
 * The `slipway` command line: a client of the control API (and of the Open Inference Protocol for
 * `predict`), plus `serve`, which runs the server, and `inspect`, which reads a file locally.
 * `bin/slipway.js` calls {@link main} and exits with the code it returns (see docs/cli.md).
 */
import { Command, CommanderError } from 'commander';
import { SLIPWAY_VERSION, toPlatformError } from '../core/index.js';
import { registerAliasCommands } from './commands/aliases.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerEndpointCommands } from './commands/endpoints.js';
import { registerFeedbackCommands } from './commands/feedback.js';
import { registerInspectCommand } from './commands/inspect.js';
import { registerModelCommands } from './commands/models.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerProfileCommand } from './commands/profile.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerCiCommand } from './commands/ci.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerOptimizeCommand } from './commands/optimize.js';
import { registerDriftCommand } from './commands/drift.js';
import { registerAlertsCommand } from './commands/alerts.js';
import { registerPayloadsCommands } from './commands/payloads.js';
import { registerBusinessCommand } from './commands/business.js';
import { registerRollbackCommand } from './commands/rollback.js';
import { registerRolloutCommands } from './commands/rollout.js';
import { registerServeCommand } from './commands/serve.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerTlsCommands } from './commands/tls.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerAbuseCommands } from './commands/abuse.js';
import { registerEncryptionCommands } from './commands/encryption.js';
import { DEFAULT_SERVER } from './context.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { resolveIo, type CliIo } from './io.js';
import { Output } from './output.js';

export { CliErrors } from './errors.js';
export { EXIT, exitCodeFor } from './exit-codes.js';
export type { CliIo, ServeOptions, RunningServer, StartServer, TextOutput } from './io.js';

function buildProgram(io: CliIo): Command {
  const program = new Command('slipway')
    .description('Register ONNX models, deploy them to endpoints and call them over the Open Inference Protocol.')
    // only -V here: a program-level --version would swallow `predict --version N` (commander reads
    // program options after the subcommand too); main() maps a leading --version to -V
    .version(SLIPWAY_VERSION, '-V', 'print the Slipway version (also --version)')
    .option('--server <url>', `Slipway server address (default: $SLIPWAY_SERVER, else ${DEFAULT_SERVER})`)
    .option('--api-key <key>', 'API key (default: $SLIPWAY_API_KEY, else the local .slipway/admin.key for the default server)')
    .option('--json', 'print the raw API result as JSON instead of tables')
    .showHelpAfterError('(run with --help for usage)')
    // settings below are inherited by every subcommand added after them
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    });
  registerModelCommands(program, io);
  registerAliasCommands(program, io);
  registerEndpointCommands(program, io);
  registerApplyCommand(program, io);
  registerRolloutCommands(program, io);
  registerRollbackCommand(program, io);
  registerPredictCommand(program, io);
  registerFeedbackCommands(program, io);
  registerProfileCommand(program, io);
  registerValidateCommand(program, io);
  registerCiCommand(program, io);
  registerPlanCommand(program, io);
  registerOptimizeCommand(program, io);
  registerDriftCommand(program, io);
  registerAlertsCommand(program, io);
  registerPayloadsCommands(program, io);
  registerBusinessCommand(program, io);
  registerKeysCommands(program, io);
  registerAuditCommands(program, io);
  registerAbuseCommands(program, io);
  registerEncryptionCommands(program, io);
  registerInspectCommand(program, io);
  registerTlsCommands(program, io);
  registerServeCommand(program, io);
  return program;
}

/**
 * Runs one CLI invocation and resolves with its exit code; never throws and never exits the
 * process. `argv` excludes the node binary and script (process.argv.slice(2)).
 */
export async function main(argv: readonly string[], ioOverrides: Partial<CliIo> = {}): Promise<number> {
  const io = resolveIo(ioOverrides);
  const program = buildProgram(io);
  const args = argv[0] === '--version' ? ['-V', ...argv.slice(1)] : [...argv];
  try {
    await program.parseAsync(args, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    // commander has already printed its own usage errors and help
    if (error instanceof CommanderError) return exitCodeFor(error);
    const platform = toPlatformError(error);
    new Output(io.stdout, io.stderr, argv.includes('--json')).error(platform);
    return exitCodeFor(platform);
  }
}
