import { randomUUID } from 'node:crypto';
import type { AutoUnsealProvider } from './auto-unseal';
import { BarrierDecryptError, openBlob } from './barrier-crypto';
import type { ClusterStorage, SealType } from './cluster-storage';
import { VaultApiError } from './envelope';
import { combine, SHARE_OVERHEAD, ShamirInputError } from './shamir';

/**
 * One Vault node: its own seal state, unseal progress, nonce and collected shares, all in memory
 * (VAULT_API.md 2.2: "Unseal progress lives in memory on each node"). The cluster's storage is shared.
 */

/** Vault's barrier accepts keys of 16..32 bytes, plus the share's x byte (core.go unsealFragment). */
export const MIN_KEY_BYTES = 16;
export const MAX_KEY_BYTES = 32 + SHARE_OVERHEAD;

export const WRONG_KEY_MESSAGES = {
  /** Vault >= 1.3 with Shamir: shares unlock stored keys, so a wrong set fails in AES-GCM (2.2). */
  500: 'unable to retrieve stored keys: failed to decrypt keys from storage: cipher: message authentication failed',
  /** Older Vault and the legacy seal. */
  400: 'Unseal failed, invalid key',
} as const;

export interface NodeSettings {
  /** Status of a wrong share set at the threshold (VAULT_API.md 2.2). */
  readonly wrongKeyStatus: 400 | 500;
  readonly version: string;
  readonly buildDate: string;
  readonly autoUnseal: AutoUnsealProvider;
  /** How long a `sys/seal-status` read waits for an auto-unseal attempt before answering. */
  readonly autoUnsealWaitMs: number;
}

/** The bare body of `sys/seal-status` and `sys/unseal` (VAULT_API.md 2.1; api/sys_seal.go). */
export interface SealStatusBody {
  type: SealType;
  initialized: boolean;
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  nonce: string;
  version: string;
  build_date: string;
  migration: boolean;
  cluster_name?: string;
  cluster_id?: string;
  recovery_seal: boolean;
  recovery_seal_type?: string;
  storage_type: string;
}

/** A snapshot for tests and the CLI: no key material, only state. */
export interface NodeState {
  readonly id: string;
  readonly seal: SealType;
  readonly initialized: boolean;
  readonly sealed: boolean;
  readonly active: boolean;
  readonly standby: boolean;
  readonly progress: number;
  readonly nonce: string;
  readonly threshold: number;
  readonly shares: number;
  /** awskms after an operator `sys/seal`: no auto-unseal until a restart (`seal()` on the handle). */
  readonly autoUnsealSuspended: boolean;
}

interface UnlockAttempt {
  readonly nonce: string;
  readonly parts: Buffer[];
}

export class VaultNode {
  private isSealed = true;
  private unlock: UnlockAttempt | undefined;
  /** The decrypted keyring while unsealed; dropped on seal. Never leaves this object. */
  private keyring: Buffer | undefined;
  private autoUnsealSuspended = false;
  private autoUnsealInFlight: Promise<boolean> | undefined;

  constructor(
    readonly id: string,
    readonly sealType: SealType,
    private readonly storage: ClusterStorage,
    private readonly settings: NodeSettings,
  ) {}

  get url(): string {
    return this.storage.addresses.get(this.id) ?? '';
  }

  get sealed(): boolean {
    return this.isSealed;
  }

  get initialized(): boolean {
    return this.storage.init !== undefined;
  }

  isActive(): boolean {
    return !this.isSealed && this.storage.ha.activeNodeId === this.id;
  }

  /** Unsealed but not holding the HA lock (`sys/health` 429). */
  isStandby(): boolean {
    return !this.isSealed && this.storage.ha.activeNodeId !== this.id;
  }

  sealStatus(): SealStatusBody {
    const init = this.storage.init;
    const recoverySeal = this.sealType === 'awskms';
    const base = {
      type: this.sealType,
      initialized: init !== undefined,
      sealed: this.isSealed,
      t: init?.shareConfig.threshold ?? 0,
      n: init?.shareConfig.shares ?? 0,
      progress: this.isSealed ? (this.unlock?.parts.length ?? 0) : 0,
      nonce: this.isSealed ? (this.unlock?.nonce ?? '') : '',
      version: this.settings.version,
      build_date: this.settings.buildDate,
      migration: false,
    };
    return {
      ...base,
      ...(init && !this.isSealed ? { cluster_name: init.clusterName, cluster_id: init.clusterId } : {}),
      recovery_seal: recoverySeal,
      ...(recoverySeal && init ? { recovery_seal_type: 'shamir' } : {}),
      storage_type: 'raft',
    };
  }

  state(): NodeState {
    const status = this.sealStatus();
    return {
      id: this.id,
      seal: this.sealType,
      initialized: status.initialized,
      sealed: status.sealed,
      active: this.isActive(),
      standby: this.isStandby(),
      progress: status.progress,
      nonce: status.nonce,
      threshold: status.t,
      shares: status.n,
      autoUnsealSuspended: this.autoUnsealSuspended,
    };
  }

  /**
   * One `sys/unseal` key, already decoded. Same order of checks as Vault's core.unsealFragment:
   * migration, initialization, key length, already unsealed, duplicate, threshold, combine, decrypt.
   */
  submitUnsealKey(key: Buffer, migrate: boolean): void {
    // No seal migration is ever configured in the emulator (VAULT_API.md 2.2, core.go).
    if (migrate) throw new VaultApiError(500, "can't perform a seal migration, no migration seal found");
    const init = this.storage.init;
    // Not in the handler's 400 list, so 500 (VAULT_API.md 2.2).
    if (!init) throw new VaultApiError(500, 'Vault is not initialized');
    if (key.length < MIN_KEY_BYTES) {
      throw new VaultApiError(400, `invalid key: key is shorter than minimum ${MIN_KEY_BYTES} bytes`);
    }
    if (key.length > MAX_KEY_BYTES) {
      throw new VaultApiError(400, `invalid key: key is longer than maximum ${MAX_KEY_BYTES} bytes`);
    }
    if (!this.isSealed) return;
    if (this.sealType === 'awskms') {
      // Outside a migration a key sent to an auto-unseal node is handled as a barrier key and
      // fails (VAULT_API.md 2.2 and P12); the node only unseals itself through KMS.
      throw new VaultApiError(500, 'failed to decrypt encrypted stored keys');
    }

    const attempt = this.unlock ?? { nonce: randomUUID(), parts: [] };
    this.unlock = attempt;
    // A repeated share is silently ignored: progress does not move (2.2, P8).
    if (attempt.parts.some((part) => part.equals(key))) return;
    attempt.parts.push(Buffer.from(key));
    if (attempt.parts.length < init.shareConfig.threshold) return;

    // At the threshold Vault clears the attempt whether or not the unseal works (2.2).
    this.unlock = undefined;
    let rootKey: Buffer;
    try {
      rootKey = init.shareConfig.threshold === 1 ? Buffer.from(attempt.parts[0] ?? []) : combine(attempt.parts);
    } catch (err) {
      if (err instanceof ShamirInputError) {
        throw new VaultApiError(400, `invalid key: failed to compute combined key: ${err.message}`);
      }
      throw err;
    } finally {
      attempt.parts.forEach((part) => part.fill(0));
    }
    try {
      this.unsealWithRootKey(rootKey);
    } catch (err) {
      if (err instanceof BarrierDecryptError) {
        const status = this.settings.wrongKeyStatus;
        throw new VaultApiError(status, WRONG_KEY_MESSAGES[status]);
      }
      throw err;
    } finally {
      rootKey.fill(0);
    }
  }

  /** `reset: true`: throw away the partial shares; refused while unsealed (2.2). */
  resetUnsealProgress(): void {
    if (!this.isSealed) throw new VaultApiError(400, 'vault is unsealed');
    this.discardAttempt();
  }

  /**
   * An operator `sys/seal`. An awskms node then stays sealed until it restarts, as Vault does;
   * the caller has checked standby and token (VAULT_API.md 2.6).
   */
  operatorSeal(): void {
    if (this.sealType === 'awskms') this.autoUnsealSuspended = true;
    this.sealNow();
  }

  /** Seal as after a process restart: progress gone, and an awskms node goes back to auto-unseal. */
  restart(): void {
    this.autoUnsealSuspended = false;
    this.sealNow();
  }

  /**
   * One auto-unseal attempt for an awskms node: unwrap the root key through KMS and open the
   * keyring. Resolves true when the node is unsealed afterwards. Never rejects: a failing KMS just
   * leaves the node sealed until the next attempt (VAULT_API.md 2.1).
   */
  tryAutoUnseal(): Promise<boolean> {
    const init = this.storage.init;
    if (this.sealType !== 'awskms' || !this.isSealed) return Promise.resolve(!this.isSealed);
    if (!init?.wrappedRootKey || this.autoUnsealSuspended) return Promise.resolve(false);
    if (this.autoUnsealInFlight) return this.autoUnsealInFlight;
    const wrapped = init.wrappedRootKey;
    this.autoUnsealInFlight = (async () => {
      try {
        const rootKey = await this.settings.autoUnseal.unwrap(Buffer.from(wrapped));
        // The cluster may have changed while KMS answered (closed, restarted, sealed by an operator).
        if (this.storage.init !== init || !this.isSealed || this.autoUnsealSuspended) return !this.isSealed;
        try {
          this.unsealWithRootKey(rootKey);
        } finally {
          rootKey.fill(0);
        }
        return true;
      } catch {
        return false;
      } finally {
        this.autoUnsealInFlight = undefined;
      }
    })();
    return this.autoUnsealInFlight;
  }

  /** Like {@link tryAutoUnseal}, but gives up waiting after the configured bound. */
  async tryAutoUnsealWithin(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.settings.autoUnsealWaitMs);
      timer.unref();
    });
    try {
      await Promise.race([this.tryAutoUnseal(), bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  private unsealWithRootKey(rootKey: Buffer): void {
    const init = this.storage.init;
    if (!init) throw new VaultApiError(500, 'Vault is not initialized');
    this.keyring = openBlob(rootKey, init.keyringBlob);
    this.isSealed = false;
    this.discardAttempt();
    this.storage.ha.markUnsealed(this.id);
  }

  private sealNow(): void {
    this.keyring?.fill(0);
    this.keyring = undefined;
    this.discardAttempt();
    if (!this.isSealed) {
      this.isSealed = true;
      this.storage.ha.markSealed(this.id);
    }
  }

  private discardAttempt(): void {
    this.unlock?.parts.forEach((part) => part.fill(0));
    this.unlock = undefined;
  }
}
