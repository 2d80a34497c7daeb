import {
  CertflowError,
  VaultPermissionError,
  VaultRateLimitedError,
  VaultRequestError,
  VaultSealedError,
  VaultUnavailableError,
  TlsIdentityError,
} from '../../contracts/errors';
import { tlsIdentityFailureCode } from '../tls/tls-identity';

/** What node-vault rejects with: ApiResponseError has `response.statusCode` (VAULT_API.md 7). */
interface NodeVaultFailure {
  message?: string;
  response?: { statusCode?: number; body?: unknown };
  code?: string;
}

/** Vault's EnsureUsage refusal (builtin/logical/pki/issuing/issuers.go), stable since the multi-issuer API (1.11). */
const MISSING_ISSUING_USAGE = 'requested usage issuing-certificates for issuer';

export function vaultStatusOf(error: unknown): number | undefined {
  return (error as NodeVaultFailure | undefined)?.response?.statusCode;
}

/**
 * Maps a node-vault rejection to the typed family, by HTTP status first (VAULT_API.md 1.2):
 * 503 sealed, 403 permission, 429/502 rate limits, other 4xx bad request (with Vault's message),
 * other 5xx and network failures unavailable, a certificate that does not prove the listener's
 * identity TlsIdentityError. Messages carry the operation and address only.
 */
export function mapVaultError(error: unknown, where: { operation: string; address: string }): CertflowError {
  if (error instanceof CertflowError) return error;
  const failure = (error ?? {}) as NodeVaultFailure;
  const status = vaultStatusOf(error);
  const vaultMessage = typeof failure.message === 'string' ? failure.message : 'unknown error';
  const details = { operation: where.operation, address: where.address, status };
  const prefix = `${where.operation} on ${where.address}`;
  const tlsCode = status === undefined ? tlsIdentityFailureCode(error) : undefined;
  // A listener whose certificate does not prove it is this address (the pinned CA, the name):
  // refused, never retried, and no token went past the handshake.
  if (tlsCode !== undefined) return new TlsIdentityError(`${prefix}: Vault's certificate was refused (${tlsCode})`, { cause: error, details: { ...details, tlsCode } });
  if (status === undefined) {
    return new VaultUnavailableError(`${prefix}: Vault could not be reached (${failure.code ?? vaultMessage})`, { cause: error, details });
  }
  if (status === 503) return new VaultSealedError(`${prefix}: ${vaultMessage}`, { cause: error, details });
  if (status === 403) return new VaultPermissionError(`${prefix}: permission denied`, { cause: error, details });
  if (status === 429 || status === 502) return new VaultRateLimitedError(`${prefix}: rate limited (${status})`, { cause: error, details });
  if (status >= 400 && status < 500) return new VaultRequestError(`${prefix}: ${vaultMessage}`, { cause: error, details });
  // Signing with an issuer that lacks `issuing-certificates` (a retired one) is a 500 in Vault (an
  // errutil.InternalError), but the same request can never pass: a known string, so terminal.
  if (status === 500 && vaultMessage.includes(MISSING_ISSUING_USAGE)) {
    return new VaultRequestError(`${prefix}: the issuer may not issue: ${vaultMessage}`, { cause: error, details: { ...details, reason: 'IssuerUsageRefused' } });
  }
  return new VaultUnavailableError(`${prefix}: Vault answered ${status}: ${vaultMessage}`, { cause: error, details });
}
