import { conflict, KubernetesApiError, notFound, qualifiedResource, unauthorized, type StatusReason } from './api-status';
import type { ResourceTarget, Verb } from './request-path';

/**
 * Injected failures for resource requests (DESIGN.md, The sandbox: faults), matched by verb,
 * resource, namespace and name: a status answered as the API server's `Status` for that code, a
 * latency, or a dropped connection, a number of times or until cleared. Like the AWS emulators'
 * fault plan, every matching fault uses up one of its times on each request; latencies add up and
 * the first failing fault (in injection order) decides the answer. Discovery is never faulted.
 */

export type FaultVerb = Verb | '*';

export interface KubernetesFaultSpec {
  /** Only this verb; every verb when absent or `*`. */
  readonly verb?: FaultVerb;
  /**
   * Only this resource: `secrets`, `deployments` (or `deployments.apps`); the main resource and
   * its subresources. `certificates/status` matches the status subresource only.
   */
  readonly resource?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** Answer with this code (409, 500, 401, 403, 503...) instead of handling the request. */
  readonly status?: number;
  /** The Status message; the API server's text for the code when absent. */
  readonly message?: string;
  /** Delay before the request is answered (or failed). */
  readonly latencyMs?: number;
  /** How many matching requests the fault applies to. @default every request until cleared */
  readonly times?: number;
  /** Let this many matching requests through first. @default 0 */
  readonly after?: number;
  /** Destroy the socket without an answer: the client sees a reset connection. */
  readonly dropConnection?: boolean;
}

export interface KubernetesFaultControls {
  /** Adds a fault; returns its id for {@link KubernetesFaultControls.clear}. */
  inject(fault: KubernetesFaultSpec): string;
  /** Removes one fault, or all of them when no id is given. */
  clear(id?: string): void;
  /** The faults still armed, with the uses they have left. */
  active(): readonly (KubernetesFaultSpec & { readonly id: string; readonly remaining: number })[];
  /** When the fault applied to a request (epoch ms), also after it is used up or cleared. */
  firings(id: string): readonly number[];
}

export interface FaultDecision {
  readonly latencyMs: number;
  readonly failure?: { readonly kind: 'drop' } | { readonly kind: 'error'; readonly error: KubernetesApiError };
}

interface ArmedFault {
  readonly id: string;
  readonly spec: KubernetesFaultSpec;
  remaining: number;
  skip?: number;
}

const REASONS: Readonly<Record<number, StatusReason>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The Status the API server would send for this code on this request. */
export function faultError(status: number, target: ResourceTarget, message?: string): KubernetesApiError {
  const name = target.name ?? '';
  const resource = qualifiedResource(target.kind);
  if (message === undefined) {
    if (status === 401) return unauthorized();
    if (status === 404 && name) return notFound(target.kind, name);
    if (status === 409 && name) return conflict(target.kind, name);
  }
  const where = target.namespace === undefined ? '' : ` in the namespace "${target.namespace}"`;
  const defaults: Readonly<Record<number, string>> = {
    403: `${resource}${name ? ` "${name}"` : ''} is forbidden: User "certflow" cannot ${target.verb} resource "${target.kind.resource}" in API group "${target.kind.group}"${where}`,
    429: 'Too many requests, please try again later.',
    500: 'Internal error occurred: injected fault',
    503: 'the server is currently unable to handle the request',
    504: 'the server was unable to return a response in the time allotted, but may still be processing the request',
  };
  const details = name ? { name, kind: target.kind.resource, ...(target.kind.group ? { group: target.kind.group } : {}) } : undefined;
  return new KubernetesApiError(status, REASONS[status] ?? 'InternalError', message ?? defaults[status] ?? `injected fault (status ${status})`, details);
}

function resourceMatches(pattern: string | undefined, target: ResourceTarget): boolean {
  if (pattern === undefined || pattern === '*') return true;
  const [resource, subresource] = pattern.split('/');
  const names = [target.kind.resource, qualifiedResource(target.kind)];
  if (!names.includes(resource!)) return false;
  return subresource === undefined || subresource === target.subresource;
}

export class KubernetesFaultPlan implements KubernetesFaultControls {
  private faults: ArmedFault[] = [];
  private nextId = 1;
  private readonly fired = new Map<string, number[]>();

  /** When the fault applied to a request (epoch ms), also after it is used up or cleared. */
  firings(id: string): readonly number[] {
    return this.fired.get(id) ?? [];
  }

  inject(fault: KubernetesFaultSpec): string {
    if (fault.times !== undefined && (!Number.isInteger(fault.times) || fault.times < 1)) {
      throw new RangeError(`fault.times must be a positive integer, got ${fault.times}`);
    }
    if (fault.status !== undefined && (!Number.isInteger(fault.status) || fault.status < 400 || fault.status > 599)) {
      throw new RangeError(`fault.status must be a 4xx or 5xx status, got ${fault.status}`);
    }
    if (fault.status === undefined && !fault.latencyMs && !fault.dropConnection) {
      throw new RangeError('a fault needs a status, a latencyMs or dropConnection');
    }
    const id = `fault-${this.nextId++}`;
    this.faults.push({ id, spec: { ...fault }, remaining: fault.times ?? Number.POSITIVE_INFINITY, skip: fault.after ?? 0 });
    return id;
  }

  clear(id?: string): void {
    this.faults = id === undefined ? [] : this.faults.filter((fault) => fault.id !== id);
  }

  active(): readonly (KubernetesFaultSpec & { readonly id: string; readonly remaining: number })[] {
    return this.faults.map((fault) => ({ ...fault.spec, id: fault.id, remaining: fault.remaining }));
  }

  take(target: ResourceTarget): FaultDecision {
    let latencyMs = 0;
    let failure: FaultDecision['failure'];
    for (const fault of this.faults) {
      const { spec } = fault;
      if (spec.verb !== undefined && spec.verb !== '*' && spec.verb !== target.verb) continue;
      if (!resourceMatches(spec.resource, target)) continue;
      if (spec.namespace !== undefined && spec.namespace !== target.namespace) continue;
      if (spec.name !== undefined && spec.name !== target.name) continue;
      if ((fault.skip ?? 0) > 0) {
        fault.skip! -= 1;
        continue;
      }
      fault.remaining -= 1;
      this.fired.set(fault.id, [...this.firings(fault.id), Date.now()]);
      latencyMs += spec.latencyMs ?? 0;
      if (failure) continue;
      if (spec.dropConnection) failure = { kind: 'drop' };
      else if (spec.status !== undefined) failure = { kind: 'error', error: faultError(spec.status, target, spec.message) };
    }
    this.faults = this.faults.filter((fault) => fault.remaining > 0);
    return { latencyMs, ...(failure ? { failure } : {}) };
  }
}
