import { randomUUID } from 'node:crypto';

/**
 * The response shapes of VAULT_API.md section 1: bare JSON for the raw sys handlers, the success
 * envelope for logical paths, 204 for empty answers, `{"errors":[...]}` for every error, and raw
 * bodies (PEM, DER CRLs) for the few PKI paths that send them.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface VaultResponse {
  readonly status: number;
  /** Serialized as JSON with `Content-Type: application/json`. */
  readonly json?: unknown;
  /** Sent as is; wins over `json`. */
  readonly raw?: { readonly contentType: string; readonly body: Buffer | string };
  readonly headers?: Readonly<Record<string, string>>;
}

/** Thrown by route handlers and nodes; the HTTP layer turns it into the error envelope (1.2). */
export class VaultApiError extends Error {
  override readonly name = 'VaultApiError';
  readonly errors: readonly string[];

  /** `message` undefined gives `{"errors":[]}`, as Vault's `respondError(w, code, nil)` does. */
  constructor(
    readonly status: number,
    message?: string,
  ) {
    super(message ?? `status ${status}`);
    this.errors = message === undefined ? [] : [message];
  }
}

/** 503 `Vault is sealed`: the text clients match on (VAULT_API.md 1.2). */
export const SEALED_MESSAGE = 'Vault is sealed';
export const PERMISSION_DENIED_MESSAGE = 'permission denied';

export function errorResponse(status: number, errors: readonly string[] = []): VaultResponse {
  return { status, json: { errors } };
}

/** A bare JSON body, as `sys/seal-status`, `sys/unseal`, `sys/init`, `sys/health`, `sys/leader` send. */
export function bare(body: unknown, status = 200): VaultResponse {
  return { status, json: body };
}

export function noContent(): VaultResponse {
  return { status: 204 };
}

export interface EnvelopeExtras {
  readonly warnings?: readonly string[];
  readonly auth?: unknown;
  readonly leaseId?: string;
  readonly leaseDuration?: number;
  readonly renewable?: boolean;
  readonly mountType?: string;
  readonly status?: number;
}

/** The success envelope of VAULT_API.md 1.1 around `data`. */
export function envelope(data: unknown, extras: EnvelopeExtras = {}): VaultResponse {
  return {
    status: extras.status ?? 200,
    json: {
      request_id: randomUUID(),
      lease_id: extras.leaseId ?? '',
      renewable: extras.renewable ?? false,
      lease_duration: extras.leaseDuration ?? 0,
      data: data ?? null,
      wrap_info: null,
      warnings: extras.warnings && extras.warnings.length > 0 ? [...extras.warnings] : null,
      auth: extras.auth ?? null,
      ...(extras.mountType !== undefined ? { mount_type: extras.mountType } : {}),
    },
  };
}

export function rawBody(contentType: string, body: Buffer | string, status = 200): VaultResponse {
  return { status, raw: { contentType, body } };
}
