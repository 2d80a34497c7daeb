import { ApiException } from '@kubernetes/client-node';
import { isTransientError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';
import { tlsIdentityFailureCode } from '../tls/tls-identity';
import {
  CertflowError,
  KubernetesConflictError,
  KubernetesForbiddenError,
  KubernetesNotFoundError,
  KubernetesRequestError,
  KubernetesUnavailableError,
  TlsIdentityError,
} from '../../contracts/errors';

/** The object a call was about, as error messages name it: `Secret payments/web-tls`. */
export interface KubernetesObjectRef {
  cluster: string;
  /** The Kind (`Secret`, `Deployment`, `Certificate`). */
  kind: string;
  /** Absent for a list across all namespaces. */
  namespace?: string;
  /** Absent for a list. */
  name?: string;
  /** What was being done, e.g. `replace`: in the message, for the runbook. */
  operation: string;
}

/** The parts of the API server's `Status` answer the adapter reads; client-node keeps it as a JSON string. */
export interface KubernetesStatus {
  code?: number;
  reason?: string;
  message?: string;
}

export function describeRef(ref: KubernetesObjectRef): string {
  if (ref.name !== undefined) return `${ref.kind} ${ref.namespace ?? ''}/${ref.name}`;
  return `${ref.kind} list in ${ref.namespace === undefined ? 'all namespaces' : `namespace ${ref.namespace}`}`;
}

export function statusOf(error: ApiException<unknown>): KubernetesStatus {
  let body: unknown = error.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = undefined;
    }
  }
  const value = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  return {
    code: error.code,
    ...(typeof value.reason === 'string' && { reason: value.reason }),
    ...(typeof value.message === 'string' && { message: value.message }),
  };
}

/** The HTTP status of a client-node failure, or undefined when no answer arrived. */
export function httpStatusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/**
 * True for a failure that never got an HTTP answer and may pass on retry. The socket and timeout
 * cases are the AWS SDK's own classification (@smithy/core/retry isTransientError, which walks
 * `cause`: undici's `TypeError: fetch failed` wraps the socket error there); undici's own
 * failures carry `UND_ERR_*` codes. A TLS identity failure is never one of them: an API server
 * presenting the wrong certificate is refused, not retried.
 */
export function isNetworkFailure(error: unknown): boolean {
  if (tlsIdentityFailureCode(error) !== undefined) return false;
  if (typeof error === 'object' && error !== null && isTransientError(error as SdkError)) return true;
  // undici rejects every request that got no answer with exactly this TypeError; the cause varies.
  if (error instanceof TypeError && error.message === 'fetch failed') return true;
  for (let current: unknown = error, depth = 0; current && typeof current === 'object' && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('UND_ERR')) return true;
  }
  return false;
}

/** For an object the adapter found absent itself (a read answered 404 before the write that needed it). */
export function notFound(ref: KubernetesObjectRef): KubernetesNotFoundError {
  return new KubernetesNotFoundError(`${ref.operation} ${describeRef(ref)} in cluster ${ref.cluster}: not found (404)`, {
    details: { cluster: ref.cluster, kind: ref.kind, namespace: ref.namespace, name: ref.name, operation: ref.operation, status: 404 },
  });
}

// Status messages can be long (a list of causes); enough to act on, never a whole object.
const MAX_SERVER_MESSAGE = 300;

function serverText(status: KubernetesStatus): string {
  const reason = status.reason ? ` ${status.reason}` : '';
  const message = status.message ? `: ${status.message.length > MAX_SERVER_MESSAGE ? `${status.message.slice(0, MAX_SERVER_MESSAGE)}...` : status.message}` : '';
  return `(${status.code ?? 'no status'}${reason})${message}`;
}

/**
 * Maps a client-node failure to the typed family by HTTP status (never by message): 404 not
 * found, 401/403 forbidden, 409 conflict, 429 and 5xx and no answer at all unavailable
 * (retryable), other 4xx a bad request; a certificate that does not prove the API server's
 * identity is TlsIdentityError (terminal). The message names the object and carries the API
 * server's Status reason and message, which describe the request, never Secret data: the adapter
 * never puts data in a message, and the server's validation messages name fields, not values.
 * Errors that are already typed (thrown by the adapter itself) pass through; anything else that
 * is not a network failure is a bug and is rethrown as it is.
 */
export function mapKubernetesError(error: unknown, ref: KubernetesObjectRef): Error {
  if (error instanceof CertflowError) return error;
  const what = `${ref.operation} ${describeRef(ref)} in cluster ${ref.cluster}`;
  const baseDetails = { cluster: ref.cluster, kind: ref.kind, namespace: ref.namespace, name: ref.name, operation: ref.operation };
  if (!(error instanceof ApiException)) {
    const tlsCode = tlsIdentityFailureCode(error);
    if (tlsCode !== undefined) {
      return new TlsIdentityError(`${what}: the API server's certificate was refused (${tlsCode})`, { cause: error, details: { ...baseDetails, tlsCode } });
    }
    if (!isNetworkFailure(error)) return error instanceof Error ? error : new Error(String(error));
    const cause = (error as { cause?: { code?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? cause.code : (error as Error).name;
    return new KubernetesUnavailableError(`${what}: the API server could not be reached (${code})`, { cause: error, details: baseDetails });
  }
  const status = statusOf(error);
  const options = { cause: error, details: { ...baseDetails, status: status.code, reason: status.reason } };
  const text = serverText(status);
  const code = status.code ?? 0;
  if (code === 404) return new KubernetesNotFoundError(`${what}: not found ${text}`, options);
  if (code === 401) return new KubernetesForbiddenError(`${what}: the API server did not accept the credentials ${text}`, options);
  if (code === 403) return new KubernetesForbiddenError(`${what}: forbidden ${text}`, options);
  if (code === 409) return new KubernetesConflictError(`${what}: conflict ${text}`, options);
  if (code === 429 || code >= 500) return new KubernetesUnavailableError(`${what}: the API server is unavailable ${text}`, options);
  return new KubernetesRequestError(`${what}: the API server refused the request ${text}`, options);
}
