/**
 * What the CLI talks to besides the server: its output streams, environment and working directory,
 * and (for `slipway serve`) the server starter and the stop signal. `main` takes them injected so
 * tests run commands in-process and read what they print.
 */

/** A text sink such as process.stdout. */
export interface TextOutput {
  write(text: string): unknown;
  /** True when a person is watching (progress bars and such only then). */
  readonly isTTY?: boolean;
}

/** What `slipway serve` passes to the composition root's `startServer`. */
export interface ServeOptions {
  readonly host?: string;
  readonly port?: number;
  readonly dataDir?: string;
  readonly configFile?: string;
  readonly examples?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The running server as `slipway serve` sees it. */
export interface RunningServer {
  readonly url: string;
  /** Endpoints of the example models deployed at start (with --examples). */
  readonly examples?: readonly string[];
  readonly config?: { readonly dataDir: string };
  /** How requests are authenticated; the admin key when this start created it. */
  readonly auth?: { readonly enabled: boolean; readonly dataPlane: 'required' | 'open'; readonly adminKeyFile: string; readonly createdAdminKey?: { readonly token: string; readonly generated: boolean } };
  close(): Promise<void>;
}

export type StartServer = (options: ServeOptions) => Promise<RunningServer>;

export interface CliIo {
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative file paths are resolved against it. */
  readonly cwd: string;
  /** Replaces the composition root's startServer (tests). Default: imported from src/app on demand. */
  readonly startServer?: StartServer;
  /** Resolves with the signal name when the server should stop. Default: the first SIGINT or SIGTERM. */
  readonly waitForStop: () => Promise<string>;
  /** Replaces the global fetch for every request the CLI makes (tests). */
  readonly fetch?: typeof fetch;
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once (a stuck shutdown can always be cut). */
function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const force = (): never => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** The real process's streams, environment and signals, with `overrides` on top. */
export function resolveIo(overrides: Partial<CliIo> = {}): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    waitForStop: waitForSignal,
    ...overrides,
  };
}
