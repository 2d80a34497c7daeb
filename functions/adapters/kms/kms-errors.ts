import { InvalidInputError, KmsAccessDeniedError, KmsUnavailableError, ShareDecryptError, type CertflowError } from '../../contracts/errors';
import type { EncryptionContext } from '../../ports/key-wrapper';
import { sdkErrorFacts } from '../aws/sdk-error';

// KMS's answer when the blob or its encryption context does not match; it never says which (P11).
const mismatchNames = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);
// IAM or key-state problems: a retry with the same role and key cannot pass.
const deniedNames = new Set(['AccessDeniedException', 'DisabledException', 'KMSInvalidStateException', 'NotFoundException', 'InvalidKeyUsageException', 'InvalidArnException']);
// KMS-side failures that pass with time.
const unavailableNames = new Set(['KMSInternalException', 'DependencyTimeoutException', 'KeyUnavailableException']);

export interface KmsCall {
  operation: 'Encrypt' | 'Decrypt';
  keyId: string;
  context: EncryptionContext;
}

/**
 * Maps a KMSClient failure to the certflow error a Step Functions Retry/Catch matches, by
 * exception name and status, never by message. Messages name the key and the encryption
 * context (contexts are not secret, and they are the usual culprit) but never any plaintext.
 */
export function kmsError(error: unknown, call: KmsCall): CertflowError {
  const facts = sdkErrorFacts(error);
  const details = {
    kmsError: facts.name,
    operation: call.operation,
    keyId: call.keyId,
    encryptionContext: JSON.stringify(sortedContext(call.context)),
    httpStatus: facts.httpStatus,
    requestId: facts.requestId,
  };
  const options = { cause: error, details };
  const reason = `${facts.name}${error instanceof Error && error.message ? `: ${error.message}` : ''}`;

  if (mismatchNames.has(facts.name)) {
    return new ShareDecryptError(
      `KMS could not decrypt with key ${call.keyId}: the ciphertext or its encryption context does not match ` +
        `(encryption context ${describeContext(call.context)}). KMS does not say which: check the context stored with ` +
        `the share and the key it was wrapped under (${facts.name}).`,
      options,
    );
  }
  if (deniedNames.has(facts.name)) {
    return new KmsAccessDeniedError(`KMS ${call.operation} with key ${call.keyId} was refused: ${reason}`, options);
  }
  if (unavailableNames.has(facts.name) || facts.transient) {
    return new KmsUnavailableError(`KMS ${call.operation} with key ${call.keyId} failed and may pass on retry: ${reason}`, options);
  }
  // Any other 4xx (ValidationException...) means the request itself was malformed.
  return new InvalidInputError(`KMS ${call.operation} with key ${call.keyId} rejected the request: ${reason}`, options);
}

function sortedContext(context: EncryptionContext): Record<string, string> {
  return Object.fromEntries(Object.keys(context).sort().map((key) => [key, context[key]!]));
}

/** `{share-index="0", vault-cluster="prod"}`, or `{} (empty)` so a missing context is obvious. */
function describeContext(context: EncryptionContext): string {
  const pairs = Object.entries(sortedContext(context)).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return pairs.length === 0 ? '{} (empty)' : `{${pairs.join(', ')}}`;
}
