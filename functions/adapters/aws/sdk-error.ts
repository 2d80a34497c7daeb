/**
 * What the adapters need to know about an error thrown by an AWS SDK v3 client, read from the
 * stable parts of it: the exception `name` (the service's `__type`), `$metadata.httpStatusCode`,
 * and Node's `code` for socket errors. Never the message, which is not a contract.
 */
export interface SdkErrorFacts {
  /** The service exception name, or the JS error name for a client-side failure. */
  name: string;
  /** HTTP status of the service's answer; absent when no answer arrived. */
  httpStatus?: number;
  requestId?: string;
  /** True when the call may pass on retry: no answer, a 5xx, or throttling. */
  transient: boolean;
}

// Throttling names across AWS services; the SDK retries them too.
const throttlingNames = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
]);

// Client-side failures where the request never got an answer.
const networkNames = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError']);
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);

export function sdkErrorFacts(error: unknown): SdkErrorFacts {
  const value = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: number; requestId?: string };
  };
  const name = typeof value.name === 'string' ? value.name : 'UnknownError';
  const httpStatus = value.$metadata?.httpStatusCode;
  const requestId = value.$metadata?.requestId;
  const transient =
    httpStatus === undefined ||
    httpStatus >= 500 ||
    httpStatus === 429 ||
    throttlingNames.has(name) ||
    networkNames.has(name) ||
    (typeof value.code === 'string' && networkCodes.has(value.code));
  return { name, transient, ...(httpStatus !== undefined && { httpStatus }), ...(requestId !== undefined && { requestId }) };
}
