import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';
import { tlsIdentityFailureCode } from '../tls/tls-identity';

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
  /**
   * True when the call may pass on retry, as the SDK's own retry strategy decides it
   * (@smithy/core/retry: throttling, transient network and timeout errors, 5xx). An error the
   * SDK would not retry (missing credentials, AccessDenied, a validation error) is not transient.
   */
  transient: boolean;
  /** Node's code when the endpoint's certificate did not prove its identity; never transient. */
  tlsIdentityFailure?: string;
}

export function sdkErrorFacts(error: unknown): SdkErrorFacts {
  const value = (typeof error === 'object' && error !== null ? error : {}) as Partial<SdkError> & { name?: unknown };
  const name = typeof value.name === 'string' ? value.name : 'UnknownError';
  const httpStatus = value.$metadata?.httpStatusCode;
  const requestId = value.$metadata?.requestId;
  const tlsIdentityFailure = tlsIdentityFailureCode(error);
  const classified = value as SdkError;
  const transient = tlsIdentityFailure === undefined && (isThrottlingError(classified) || isTransientError(classified) || isServerError(classified));
  return {
    name,
    transient,
    ...(httpStatus !== undefined && { httpStatus }),
    ...(requestId !== undefined && { requestId }),
    ...(tlsIdentityFailure !== undefined && { tlsIdentityFailure }),
  };
}
