/** The CLI's own error table: mistakes on the command line and in local input files. */
import { defineErrors } from '../core/index.js';

export const CliErrors = defineErrors({
  CLI_USAGE: {
    kind: 'invalid',
    help: 'A command-line argument is malformed (a version that is not a number, a --tag without "=", …); `slipway <command> --help` shows the expected form.',
  },
  CLI_CHECK_FAILED: {
    kind: 'conflict',
    help: 'A check the command ran did not pass (`slipway validate` or `slipway ci`: a gate or an edge case failed, or the rollout was aborted; `slipway audit verify`: a bad entry); the message names what failed. Exit code 11.',
  },
  CLI_TIMEOUT: {
    kind: 'timeout',
    help: 'The command waited longer than its --timeout for an outcome (`slipway ci` for a rollout’s verdict); what it waited for keeps running on the server. Exit code 10.',
  },
  CLI_INVALID_DATA: {
    kind: 'invalid',
    help: 'The data given to `slipway predict` cannot be turned into a request (a CSV cell that is not a number, rows of different lengths, more columns than the model takes); the message names the row and column.',
  },
});
