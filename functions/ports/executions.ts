/**
 * The running executions of one state machine (the Rotation), as the compromise response needs
 * them: list what runs, stop it. Step Functions in AWS; in the sandbox, its API emulator.
 */
export interface Executions {
  /** ARNs of the executions that are RUNNING now. */
  listRunning(): Promise<string[]>;
  /** Stops one execution (StopExecution); one that has already ended is not an error. */
  stop(executionArn: string, cause: string): Promise<void>;
}
