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
} as const;

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
