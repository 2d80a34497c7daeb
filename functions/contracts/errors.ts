/**
 * The error family of certflow. Each class sets a stable `name` (Lambda reports `error.name`,
 * and Step Functions `Retry`/`Catch` match on it) and a `code`, because `instanceof` does not
 * survive the Lambda -> Step Functions boundary. Retryable versus terminal is decided by class,
 * never by parsing messages. Messages and `details` must be safe to log: no keys, shares, tokens
 * or plaintext ever go in them.
 */
export abstract class CertflowError extends Error {
  /** A literal in every subclass: minified bundles rename classes, so `new.target.name` would not survive. */
  abstract override readonly name: string;
  abstract readonly code: string;
  /** Whether a Step Functions Retry may try the same input again. */
  abstract readonly retryable: boolean;
  readonly details: Record<string, string | number | boolean | undefined>;

  constructor(message: string, options: { cause?: unknown; details?: CertflowError['details'] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details ?? {};
  }
}

/** Input (an event, a payload, a CLI flag, a config file) failed validation; nothing was changed. */
export class InvalidInputError extends CertflowError {
  override readonly name = 'InvalidInputError';
  readonly code = 'INVALID_INPUT';
  readonly retryable = false;
}

/** The deployment config failed validation; synth and the CLI stop before changing anything. */
export class ConfigError extends CertflowError {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;
}

/** Vault answered 503 `Vault is sealed` (VAULT_API.md 1.2). Retry after the unseal workflow runs. */
export class VaultSealedError extends CertflowError {
  override readonly name = 'VaultSealedError';
  readonly code = 'VAULT_SEALED';
  readonly retryable = true;
}

/** Vault answered 403 `permission denied`: a token or policy problem a retry will not fix. */
export class VaultPermissionError extends CertflowError {
  override readonly name = 'VaultPermissionError';
  readonly code = 'VAULT_PERMISSION_DENIED';
  readonly retryable = false;
}

/** Vault answered 429 (quota) or 502 (upstream rate limit). */
export class VaultRateLimitedError extends CertflowError {
  override readonly name = 'VaultRateLimitedError';
  readonly code = 'VAULT_RATE_LIMITED';
  readonly retryable = true;
}

/** Vault answered 400 (or another 4xx): bad input; carries Vault's own message. */
export class VaultRequestError extends CertflowError {
  override readonly name = 'VaultRequestError';
  readonly code = 'VAULT_BAD_REQUEST';
  readonly retryable = false;
}

/** Vault could not be reached, or answered 5xx other than sealed. */
export class VaultUnavailableError extends CertflowError {
  override readonly name = 'VaultUnavailableError';
  readonly code = 'VAULT_UNAVAILABLE';
  readonly retryable = true;
}

/**
 * The threshold share was submitted and Vault refused the combination (400 `Unseal failed,
 * invalid key` or 500, VAULT_API.md 2.2): the stored shares do not open this Vault (a rekey, or
 * the wrong cluster). Retrying the same shares cannot help, so this is terminal.
 */
export class UnsealKeySetRejectedError extends CertflowError {
  override readonly name = 'UnsealKeySetRejectedError';
  readonly code = 'UNSEAL_KEY_SET_REJECTED';
  readonly retryable = false;
}

/**
 * A node is not the Vault certflow was configured for (issue 13 item 1): it reports a threshold
 * or share count other than the configured ones (an impostor answering `t = n` would otherwise
 * receive every share), or a cluster id other than the configured one. Nothing is decrypted for
 * it and nothing is sent; terminal, and counted by the report (the VaultImpostorNodes alarm).
 */
export class VaultIdentityMismatchError extends CertflowError {
  override readonly name = 'VaultIdentityMismatchError';
  readonly code = 'VAULT_IDENTITY_MISMATCH';
  readonly retryable = false;
}

/**
 * KMS answered an Encrypt with a KeyId other than the key ARN certflow asked for (issue 13 item 2):
 * an alias redirected, or an endpoint that is not KMS. The ciphertext is discarded, never stored.
 */
export class KmsKeyMismatchError extends CertflowError {
  override readonly name = 'KmsKeyMismatchError';
  readonly code = 'KMS_KEY_MISMATCH';
  readonly retryable = false;
}

/**
 * The kill switch holds this workflow (`certflow pause`): the run stops before it changes
 * anything. Terminal: the next run is refused the same way until `certflow resume`.
 */
export class WorkflowPausedError extends CertflowError {
  override readonly name = 'WorkflowPausedError';
  readonly code = 'WORKFLOW_PAUSED';
  readonly retryable = false;
}

/** Vault reported itself uninitialized; `certflow vault-init` is the explicit bootstrap. */
export class VaultUninitializedError extends CertflowError {
  override readonly name = 'VaultUninitializedError';
  readonly code = 'VAULT_UNINITIALIZED';
  readonly retryable = false;
}

/** KMS refused to decrypt: the ciphertext or its encryption context does not match (P11). */
export class ShareDecryptError extends CertflowError {
  override readonly name = 'ShareDecryptError';
  readonly code = 'SHARE_DECRYPT_FAILED';
  readonly retryable = false;
}

/** KMS answered AccessDenied or the key is disabled: an IAM or key-state problem. */
export class KmsAccessDeniedError extends CertflowError {
  override readonly name = 'KmsAccessDeniedError';
  readonly code = 'KMS_ACCESS_DENIED';
  readonly retryable = false;
}

/** KMS could not be reached or throttled us. */
export class KmsUnavailableError extends CertflowError {
  override readonly name = 'KmsUnavailableError';
  readonly code = 'KMS_UNAVAILABLE';
  readonly retryable = true;
}

/** The share store does not hold enough well-formed shares for the cluster. */
export class ShareStoreError extends CertflowError {
  override readonly name = 'ShareStoreError';
  readonly code = 'SHARE_STORE_INVALID';
  readonly retryable = false;
}

/** `vault-init` found shares already stored for the cluster: they are never overwritten. */
export class SharesAlreadyExistError extends CertflowError {
  override readonly name = 'SharesAlreadyExistError';
  readonly code = 'SHARES_ALREADY_EXIST';
  readonly retryable = false;
}

/** A node named in input is not one of the configured or discovered nodes. */
export class NodeNotFoundError extends CertflowError {
  override readonly name = 'NodeNotFoundError';
  readonly code = 'NODE_NOT_FOUND';
  readonly retryable = false;
}

/** A DynamoDB or EventBridge call failed in a way that may pass on retry. */
export class AwsUnavailableError extends CertflowError {
  override readonly name = 'AwsUnavailableError';
  readonly code = 'AWS_UNAVAILABLE';
  readonly retryable = true;
}

/** An issuer, key or role that a step needs is missing from its mount. */
export class IssuerNotFoundError extends CertflowError {
  override readonly name = 'IssuerNotFoundError';
  readonly code = 'ISSUER_NOT_FOUND';
  readonly retryable = false;
}

/**
 * The new intermediate does not verify: its chain does not reach the root, it is not a CA, or
 * Vault truncated it below what the leaves need (VAULT_API.md P4). Never activated.
 */
export class IntermediateInvalidError extends CertflowError {
  override readonly name = 'IntermediateInvalidError';
  readonly code = 'INTERMEDIATE_INVALID';
  readonly retryable = false;
}

/**
 * The mount is not in the state the run recorded (someone changed the default issuer by hand
 * mid-run). The step refuses instead of overwriting a human's change.
 */
export class IssuerStateConflictError extends CertflowError {
  override readonly name = 'IssuerStateConflictError';
  readonly code = 'ISSUER_STATE_CONFLICT';
  readonly retryable = false;
}

/**
 * The intermediate mount holds as many issuers as `pki.maxIssuersPerMount` allows, so a rotation
 * does not create another (Vault slows down with every issuer it keeps, hashicorp/vault#22980):
 * the hygiene in Finalize deletes retired issuers once their last leaf and CRL grace are over.
 */
export class IssuerLimitReachedError extends CertflowError {
  override readonly name = 'IssuerLimitReachedError';
  readonly code = 'ISSUER_LIMIT_REACHED';
  readonly retryable = false;
}

/** No TLS session could be set up with a target's endpoint (refused, reset, timed out). */
export class EndpointUnreachableError extends CertflowError {
  override readonly name = 'EndpointUnreachableError';
  readonly code = 'ENDPOINT_UNREACHABLE';
  readonly retryable = true;
}

/**
 * The Kubernetes API answered 404 for an object a step acts on (a Deployment to restart, a
 * Certificate to renew). Reading an absent object is not an error: the read returns undefined.
 * The message names the object as `<kind> <namespace>/<name>`.
 */
export class KubernetesNotFoundError extends CertflowError {
  override readonly name = 'KubernetesNotFoundError';
  readonly code = 'KUBERNETES_NOT_FOUND';
  readonly retryable = false;
}

/** The Kubernetes API answered 401 (the token is wrong or expired) or 403 (RBAC refuses the verb). */
export class KubernetesForbiddenError extends CertflowError {
  override readonly name = 'KubernetesForbiddenError';
  readonly code = 'KUBERNETES_FORBIDDEN';
  readonly retryable = false;
}

/**
 * A write kept failing with 409 after the adapter re-read and retried its whole budget: another
 * writer (usually a controller that owns the object) is fighting over it. Retrying the same
 * input later races the same writer, so this is terminal and should be looked at.
 */
export class KubernetesConflictError extends CertflowError {
  override readonly name = 'KubernetesConflictError';
  readonly code = 'KUBERNETES_CONFLICT';
  readonly retryable = false;
}

/** The Kubernetes API could not be reached, timed out, answered 5xx or throttled us (429). */
export class KubernetesUnavailableError extends CertflowError {
  override readonly name = 'KubernetesUnavailableError';
  readonly code = 'KUBERNETES_UNAVAILABLE';
  readonly retryable = true;
}

/**
 * The Kubernetes API refused the request itself (400, 415, 422 Invalid...): the object certflow
 * sent is wrong for the cluster (a TLS Secret without `tls.key`, a changed immutable field).
 */
export class KubernetesRequestError extends CertflowError {
  override readonly name = 'KubernetesRequestError';
  readonly code = 'KUBERNETES_BAD_REQUEST';
  readonly retryable = false;
}

/** A batch failed verification (a target's verdict is not Valid): the rotation rolls back. */
export class VerificationFailedError extends CertflowError {
  override readonly name = 'VerificationFailedError';
  readonly code = 'VERIFICATION_FAILED';
  readonly retryable = false;
}

/** A batch's rollouts (or cert-manager issuance) did not finish within the wait loop's bound. */
export class RolloutTimeoutError extends CertflowError {
  override readonly name = 'RolloutTimeoutError';
  readonly code = 'ROLLOUT_TIMEOUT';
  readonly retryable = false;
}

/**
 * An endpoint (Vault, a Kubernetes API server, an AWS API) presented a certificate that does not
 * prove its identity: the wrong name, a chain that does not reach the pinned CA, expired. Nothing
 * was sent past the handshake; a retry meets the same certificate, so this is terminal.
 */
export class TlsIdentityError extends CertflowError {
  override readonly name = 'TlsIdentityError';
  readonly code = 'TLS_IDENTITY_REJECTED';
  readonly retryable = false;
}

/**
 * A Vault client was asked for an address that is not https://, or without the pinned CA of the
 * Vault listeners: certflow never talks to Vault in the clear, nor lets the public roots decide
 * which Vault is its own (issue 13 item 1). Nothing was sent; the config or environment must change.
 */
export class InsecureVaultEndpointError extends CertflowError {
  override readonly name = 'InsecureVaultEndpointError';
  readonly code = 'VAULT_ENDPOINT_INSECURE';
  readonly retryable = false;
}

/**
 * A ledger record already exists under the same run and entry with different content. Records
 * are immutable: the first write stands, and a step that would say something else about the same
 * entry is stopped rather than allowed to rewrite the history of a run.
 */
export class LedgerConflictError extends CertflowError {
  override readonly name = 'LedgerConflictError';
  readonly code = 'LEDGER_CONFLICT';
  readonly retryable = false;
}

/**
 * A target (a ledger item, a discovered object) is not what the declared target policy says:
 * nothing was written to it. Terminal: the same input is refused again (DESIGN.md Authority).
 */
export class TargetRefusedError extends CertflowError {
  override readonly name = 'TargetRefusedError';
  readonly code = 'TARGET_REFUSED';
  readonly retryable = false;
}

/**
 * Vault has no audit device enabled (`sys/audit` lists none): Preflight refuses to rotate, since
 * nothing would record what certflow signs and revokes. Terminal: an operator enables a device.
 */
export class VaultAuditMissingError extends CertflowError {
  override readonly name = 'VaultAuditMissingError';
  readonly code = 'VAULT_AUDIT_MISSING';
  readonly retryable = false;
}

/** Every error name a Retry or Catch may match: the contract between lib/ and functions/. */
export const ErrorNames = {
  InvalidInput: 'InvalidInputError',
  Config: 'ConfigError',
  VaultSealed: 'VaultSealedError',
  VaultPermission: 'VaultPermissionError',
  VaultRateLimited: 'VaultRateLimitedError',
  VaultRequest: 'VaultRequestError',
  VaultUnavailable: 'VaultUnavailableError',
  UnsealKeySetRejected: 'UnsealKeySetRejectedError',
  VaultIdentityMismatch: 'VaultIdentityMismatchError',
  VaultUninitialized: 'VaultUninitializedError',
  ShareDecrypt: 'ShareDecryptError',
  KmsAccessDenied: 'KmsAccessDeniedError',
  KmsKeyMismatch: 'KmsKeyMismatchError',
  WorkflowPaused: 'WorkflowPausedError',
  KmsUnavailable: 'KmsUnavailableError',
  ShareStore: 'ShareStoreError',
  SharesAlreadyExist: 'SharesAlreadyExistError',
  NodeNotFound: 'NodeNotFoundError',
  AwsUnavailable: 'AwsUnavailableError',
  IssuerNotFound: 'IssuerNotFoundError',
  IntermediateInvalid: 'IntermediateInvalidError',
  IssuerStateConflict: 'IssuerStateConflictError',
  IssuerLimitReached: 'IssuerLimitReachedError',
  EndpointUnreachable: 'EndpointUnreachableError',
  VerificationFailed: 'VerificationFailedError',
  RolloutTimeout: 'RolloutTimeoutError',
  KubernetesNotFound: 'KubernetesNotFoundError',
  KubernetesForbidden: 'KubernetesForbiddenError',
  KubernetesConflict: 'KubernetesConflictError',
  KubernetesUnavailable: 'KubernetesUnavailableError',
  KubernetesRequest: 'KubernetesRequestError',
  TlsIdentity: 'TlsIdentityError',
  LedgerConflict: 'LedgerConflictError',
  TargetRefused: 'TargetRefusedError',
  VaultAuditMissing: 'VaultAuditMissingError',
  InsecureVaultEndpoint: 'InsecureVaultEndpointError',
} as const;

export type ErrorName = (typeof ErrorNames)[keyof typeof ErrorNames];

/** True for errors a Step Functions Retry may repeat; unknown errors are not retried. */
export function isRetryable(error: unknown): boolean {
  return error instanceof CertflowError && error.retryable;
}
