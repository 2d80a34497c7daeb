import { AwsUnavailableError, ConfigError, TlsIdentityError, type CertflowError } from '../../contracts/errors';
import { sdkErrorFacts } from './sdk-error';

/**
 * The typed error for a failed AWS call, classified as the SDK's own retry strategy would
 * (sdkErrorFacts): an endpoint whose certificate does not prove its identity is TlsIdentityError;
 * what may pass on retry (throttling, no answer, 5xx) is AwsUnavailableError; everything else
 * (AccessDenied, ValidationException, a missing table or credentials) is a refusal that a retry
 * cannot fix: ConfigError. Messages name the call and the exception, never a value.
 *
 * @param what the call, e.g. `DynamoDB PutItem on certflow-lock`.
 */
export function awsCallError(what: string, error: unknown, details: CertflowError['details'] = {}): CertflowError {
  if (error instanceof AwsUnavailableError || error instanceof ConfigError || error instanceof TlsIdentityError) return error;
  const facts = sdkErrorFacts(error);
  const all = { ...details, awsError: facts.name, httpStatus: facts.httpStatus, requestId: facts.requestId };
  if (facts.tlsIdentityFailure) {
    return new TlsIdentityError(`${what}: the endpoint's certificate was refused (${facts.tlsIdentityFailure})`, { cause: error, details: { ...all, tlsCode: facts.tlsIdentityFailure } });
  }
  if (facts.transient) return new AwsUnavailableError(`${what} failed and may pass on retry: ${facts.name}`, { cause: error, details: all });
  return new ConfigError(`${what} was refused: ${facts.name}`, { cause: error, details: all });
}
