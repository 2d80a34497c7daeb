/**
 * Faults an emulator applies to incoming calls, so tests and `certflow simulate --fault` can make
 * a named operation fail, stall or drop its connection (DESIGN.md, The sandbox).
 */
export interface FaultSpec<Operation extends string = string> {
  /** Only calls of this operation; every operation when absent. */
  operation?: Operation;
  /** HTTP status of the error answer; the exception defaults from it (500 -> the service's internal exception). */
  status?: number;
  /** Exception name of the error answer (`__type`); the status defaults from it (400 for most). */
  exception?: string;
  /** Delay before the call is answered (or failed). */
  latencyMs?: number;
  /** How many matching calls the fault applies to. @default every call until cleared */
  times?: number;
  /** Destroy the socket instead of answering: the client sees ECONNRESET / socket hang up. */
  dropConnection?: boolean;
}

/** The part of a fault plan that emulator handles expose. */
export interface FaultControls<Operation extends string = string> {
  /** Adds a fault and returns its id (for `clear`). */
  inject(fault: FaultSpec<Operation>): string;
  /** Removes one fault, or all of them when no id is given. */
  clear(id?: string): void;
  /** When the fault applied to a call (epoch ms), also after it is used up or cleared. */
  firings(id: string): readonly number[];
}

/** What the server must do to one call, after consulting the plan. */
export interface FaultDecision {
  latencyMs: number;
  failure?: { kind: 'drop' } | { kind: 'error'; status: number; exception: string };
}

interface ActiveFault extends FaultSpec {
  id: string;
  remaining: number;
}

/**
 * Exception names per status where a service has no better name. KMS and EventBridge both answer
 * throttling as a 400 `ThrottlingException`, and 503 as `ServiceUnavailableException`; the SDK
 * retries all of these, which is what the adapters' retry tests rely on.
 */
function exceptionForStatus(status: number, internalException: string): string {
  if (status === 503) return 'ServiceUnavailableException';
  if (status === 429) return 'ThrottlingException';
  if (status >= 500) return internalException;
  return 'ValidationException';
}

function statusForException(exception: string, internalException: string): number {
  if (exception === internalException) return 500;
  if (exception === 'ServiceUnavailableException') return 503;
  return 400;
}

export class FaultPlan implements FaultControls {
  private faults: ActiveFault[] = [];
  private nextId = 1;
  private readonly fired = new Map<string, number[]>();

  firings(id: string): readonly number[] {
    return this.fired.get(id) ?? [];
  }

  /** @param internalException the service's 500 exception (`KMSInternalException`, `InternalException`). */
  constructor(private readonly internalException: string) {}

  inject(fault: FaultSpec): string {
    if (fault.times !== undefined && (!Number.isInteger(fault.times) || fault.times < 1)) {
      throw new RangeError(`fault.times must be a positive integer, got ${fault.times}`);
    }
    if (fault.status !== undefined && (fault.status < 400 || fault.status > 599)) {
      throw new RangeError(`fault.status must be a 4xx or 5xx status, got ${fault.status}`);
    }
    const id = `fault-${this.nextId++}`;
    this.faults.push({ ...fault, id, remaining: fault.times ?? Number.POSITIVE_INFINITY });
    return id;
  }

  clear(id?: string): void {
    this.faults = id === undefined ? [] : this.faults.filter((fault) => fault.id !== id);
  }

  /**
   * Consumes one use of every fault matching `operation`: latencies add up, and the first fault
   * that fails the call (in injection order) decides how it fails.
   */
  take(operation: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0 };
    for (const fault of this.faults) {
      if (fault.operation !== undefined && fault.operation !== operation) continue;
      fault.remaining -= 1;
      this.fired.set(fault.id, [...this.firings(fault.id), Date.now()]);
      decision.latencyMs += fault.latencyMs ?? 0;
      if (decision.failure) continue;
      if (fault.dropConnection) {
        decision.failure = { kind: 'drop' };
      } else if (fault.status !== undefined || fault.exception !== undefined) {
        const status = fault.status ?? statusForException(fault.exception!, this.internalException);
        decision.failure = { kind: 'error', status, exception: fault.exception ?? exceptionForStatus(status, this.internalException) };
      }
    }
    this.faults = this.faults.filter((fault) => fault.remaining > 0);
    return decision;
  }
}
