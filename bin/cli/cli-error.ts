/**
 * Documented exit codes of `certflow` (README "Exit codes"). Every failure the CLI reports maps
 * to one of these; the message says what to do next.
 */
export const ExitCodes = {
  Ok: 0,
  /** The workflow ran and failed, or rolled back. */
  WorkflowFailed: 1,
  /** Bad flags or arguments; nothing was changed. */
  Usage: 2,
  /** The config file is invalid; nothing was changed. */
  Config: 3,
  /** The environment is not ready (no running sandbox, AWS unreachable, missing permissions). */
  Environment: 4,
  /** A safety refusal (shares already exist, node already initialized). */
  Refused: 5,
  /** simulate --fault: the run passed, but the injected fault never fired (it tested nothing). */
  FaultNotFired: 6,
  /** status: the run is still running (not a failure, not a success yet). */
  StillRunning: 7,
  /** A bug in certflow itself (an error nobody anticipated): please report it with the output. */
  Internal: 70,
  /** Stopped by Ctrl-C (128 + SIGINT), with nothing left behind. */
  Interrupted: 130,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0 ok, 1 workflow failed or rolled back, 2 usage, 3 config invalid,
  4 environment not ready, 5 refused for safety (or another run holds the lock),
  6 an injected fault never fired, 7 the run is still running, 70 internal error (a bug),
  130 interrupted`;

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
