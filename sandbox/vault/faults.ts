import { randomUUID } from 'node:crypto';

/**
 * Injected failures (DESIGN.md "Faults"): a status code, latency, or a dropped connection on a
 * named operation, for one node or all, a number of times or until cleared.
 */

export interface FaultSpec {
  /** Only this node; every node when absent. */
  readonly nodeId?: string;
  /**
   * A logical path or path prefix without `/v1/`: `sys/unseal`, `sys/seal-status`, `pki_int`.
   * Matches the path itself and everything below it (`pki_int` matches `pki_int/issue/web`, but
   * `sys/seal` does not match `sys/seal-status`). `*` matches every path.
   */
  readonly operation: string;
  /** Only this HTTP method (`GET`, `PUT`, `LIST`...); every method when absent. */
  readonly method?: string;
  /** Answer with this status and the error envelope instead of handling the request. */
  readonly status?: number;
  /** The error message; a Vault-like default per status when absent. */
  readonly message?: string;
  /** Delay before anything else happens (then the request is handled or failed as specified). */
  readonly latencyMs?: number;
  /** How many matching requests the fault applies to. @default unlimited */
  readonly times?: number;
  /** Let this many matching requests through first (`vault:sign:after=3` fails the fourth sign). @default 0 */
  readonly after?: number;
  /** Destroy the socket without an answer (the client sees a network error). */
  readonly dropConnection?: boolean;
}

export interface FaultControls {
  /** Adds a fault; returns its id for {@link FaultControls.clear}. */
  inject(spec: FaultSpec): string;
  /** Removes one fault, or all of them when no id is given. */
  clear(id?: string): void;
  /** The faults still armed (for assertions). */
  active(): readonly (FaultSpec & { readonly id: string; readonly remaining: number })[];
  /** When the fault failed a request (epoch ms), also after it is used up or cleared. */
  firings(id: string): readonly number[];
}

const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  403: 'permission denied',
  429: 'rate limit quota exceeded',
  500: 'internal error',
  502: 'upstream rate limited',
  503: 'Vault is sealed',
};

export function defaultFaultMessage(status: number): string {
  return DEFAULT_MESSAGES[status] ?? `injected fault (status ${status})`;
}

interface ArmedFault {
  readonly id: string;
  readonly spec: FaultSpec;
  skip: number;
  remaining: number;
}

function pathMatches(operation: string, path: string): boolean {
  if (operation === '*') return true;
  const prefix = operation.replace(/^\/+|\/+$/g, '');
  return path === prefix || path.startsWith(`${prefix}/`);
}

export class FaultRegistry implements FaultControls {
  private faults: ArmedFault[] = [];
  private readonly fired = new Map<string, number[]>();

  firings(id: string): readonly number[] {
    return this.fired.get(id) ?? [];
  }

  inject(spec: FaultSpec): string {
    if (spec.times !== undefined && (!Number.isInteger(spec.times) || spec.times < 1)) {
      throw new RangeError('fault times must be a positive integer');
    }
    const id = randomUUID();
    this.faults.push({ id, spec: { ...spec }, remaining: spec.times ?? Number.POSITIVE_INFINITY, skip: spec.after ?? 0 });
    return id;
  }

  clear(id?: string): void {
    this.faults = id === undefined ? [] : this.faults.filter((fault) => fault.id !== id);
  }

  active(): readonly (FaultSpec & { readonly id: string; readonly remaining: number })[] {
    return this.faults.map((fault) => ({ ...fault.spec, id: fault.id, remaining: fault.remaining }));
  }

  /** The first armed fault for this request, counted as used; undefined when none applies. */
  take(nodeId: string, method: string, path: string): FaultSpec | undefined {
    const fault = this.faults.find(
      (candidate) =>
        (candidate.spec.nodeId === undefined || candidate.spec.nodeId === nodeId) &&
        (candidate.spec.method === undefined || candidate.spec.method.toUpperCase() === method) &&
        pathMatches(candidate.spec.operation, path),
    );
    if (!fault) return undefined;
    if (fault.skip > 0) {
      fault.skip -= 1;
      return undefined;
    }
    fault.remaining -= 1;
    this.fired.set(fault.id, [...this.firings(fault.id), Date.now()]);
    if (fault.remaining <= 0) this.faults = this.faults.filter((candidate) => candidate !== fault);
    return fault.spec;
  }
}
