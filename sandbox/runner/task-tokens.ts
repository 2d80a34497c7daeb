import { randomBytes } from 'node:crypto';

/**
 * The task tokens of `.waitForTaskToken` tasks run locally: each token is minted when a task's
 * parameters read `$$.Task.Token`, and the task waits until SendTaskSuccess or SendTaskFailure
 * names it (or its TimeoutSeconds, which aws-local-stepfunctions enforces, passes). Tokens are
 * opaque random text, as Step Functions' are; a token is spent by its first answer.
 */
export interface PendingTask {
  token: string;
  executionArn: string;
  stateName?: string;
  issuedAt: Date;
}

interface Waiter {
  resolve(output: unknown): void;
  reject(error: Error): void;
}

/** Step Functions' errors for a token it does not know, or one already answered. */
export class TaskTokenError extends Error {
  constructor(
    override readonly name: 'InvalidToken' | 'TaskDoesNotExist' | 'TaskTimedOut',
    message: string,
  ) {
    super(message);
  }
}

export class TaskTokens {
  private readonly issued = new Map<string, PendingTask>();
  private readonly waiters = new Map<string, Waiter>();
  /** Answers that came before the task began waiting (the callback can be that quick). */
  private readonly early = new Map<string, { output?: unknown; error?: Error }>();
  private readonly listeners = new Set<(task: PendingTask) => void>();

  /** A fresh token for one task of one execution. */
  mint(executionArn: string): string {
    const token = `sandbox-${randomBytes(24).toString('base64url')}`;
    this.issued.set(token, { token, executionArn, issuedAt: new Date() });
    return token;
  }

  /** The execution a token belongs to (for IAM), or InvalidToken. */
  taskOf(token: string): PendingTask {
    const task = this.issued.get(token);
    if (!task) throw new TaskTokenError('InvalidToken', 'Invalid token');
    return task;
  }

  /** Waits for the answer to `token` (the task's result, or its failure). */
  wait(token: string, stateName: string): Promise<unknown> {
    const task = this.taskOf(token);
    task.stateName = stateName;
    const answered = this.early.get(token);
    if (answered) {
      this.early.delete(token);
      this.issued.delete(token);
      return answered.error ? Promise.reject(answered.error) : Promise.resolve(answered.output);
    }
    const waiting = new Promise<unknown>((resolve, reject) => this.waiters.set(token, { resolve, reject }));
    for (const listener of this.listeners) listener(task);
    return waiting;
  }

  succeed(token: string, output: unknown): void {
    this.answer(token, { output });
  }

  fail(token: string, error: string, cause: string): void {
    const failure = new Error(cause);
    failure.name = error;
    this.answer(token, { error: failure });
  }

  /** Tasks waiting now, oldest first; of one execution when named. */
  pending(executionArn?: string): PendingTask[] {
    return [...this.waiters.keys()].map((token) => this.issued.get(token)!).filter((task) => executionArn === undefined || task.executionArn === executionArn);
  }

  /** Calls `listener` each time a task starts waiting (tests await an approval request with it). */
  onWaiting(listener: (task: PendingTask) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets the tokens of an execution that ended (a later answer is TaskTimedOut, as in AWS). */
  release(executionArn: string): void {
    for (const [token, task] of this.issued) {
      if (task.executionArn !== executionArn) continue;
      this.issued.delete(token);
      this.waiters.delete(token);
      this.early.delete(token);
    }
  }

  private answer(token: string, answer: { output?: unknown; error?: Error }): void {
    this.taskOf(token);
    const waiter = this.waiters.get(token);
    if (!waiter) {
      if (this.early.has(token)) throw new TaskTokenError('TaskTimedOut', 'Task Timed Out: the task was already answered');
      this.early.set(token, answer);
      return;
    }
    this.waiters.delete(token);
    this.issued.delete(token);
    if (answer.error) waiter.reject(answer.error);
    else waiter.resolve(answer.output);
  }
}
