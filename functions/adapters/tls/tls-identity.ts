/**
 * TLS identity failures: the server answered the handshake with a certificate that does not
 * prove it is the endpoint certflow was configured to reach (the wrong name, a chain that does
 * not reach the pinned CA, an expired or revoked certificate). Retrying cannot fix that, and
 * sending the request anyway would hand a token to whoever holds that certificate, so every
 * adapter treats them as permanent, typed failures.
 *
 * The codes are Node's: `ERR_TLS_CERT_ALTNAME_*` from tls.checkServerIdentity, and OpenSSL's
 * X509_V_ERR_* names (without the prefix) that Node puts in `code` when verification fails
 * (Node's tls documentation, "X509 certificate error codes"). No library exports the list.
 */
const TLS_IDENTITY_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);

/** The TLS identity code of `error` or of one of its causes (undici and axios wrap the socket error). */
export function tlsIdentityFailureCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && typeof current === 'object' && depth < 6; current = (current as { cause?: unknown }).cause, depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TLS_IDENTITY_CODES.has(code)) return code;
  }
  return undefined;
}
