import { TokenStore } from './token-store';
import { defaultPolicies, type StoredPolicy } from './acl-policies';

/**
 * What every node of one emulated cluster shares, as raft storage would: the seal configuration,
 * the encrypted keyring, the tokens, and the HA lock. Per-node seal state lives in VaultNode.
 * Only ciphertext of key material is kept here, never a root key or a share.
 */

export type SealType = 'shamir' | 'awskms';

export interface ShareConfig {
  readonly shares: number;
  readonly threshold: number;
}

export interface InitRecord {
  readonly sealType: SealType;
  /** Shamir: the unseal shares. awskms: the recovery shares (t/n of seal-status, VAULT_API.md 2.1). */
  readonly shareConfig: ShareConfig;
  /** The keyring, AES-256-GCM under the root key. Opening it is the proof of a right root key. */
  readonly keyringBlob: Buffer;
  /** awskms only: the root key wrapped by the auto-unseal provider (KMS). */
  readonly wrappedRootKey?: Buffer;
  /** awskms only: the recovery key, AES-256-GCM under the root key. */
  readonly recoveryKeyBlob?: Buffer;
  readonly rootToken: string;
  readonly clusterName: string;
  readonly clusterId: string;
  readonly initializedAt: Date;
}

/**
 * The HA lock: the first node to unseal becomes active, the others standby (VAULT_API.md 1.3).
 * When the active node seals or steps down, the longest-unsealed other node takes over at once.
 */
export class HaLock {
  private unsealedOrder: string[] = [];
  private active: string | undefined;
  private since: Date | undefined;

  constructor(private readonly now: () => Date) {}

  get activeNodeId(): string | undefined {
    return this.active;
  }

  get activeSince(): Date | undefined {
    return this.since;
  }

  markUnsealed(nodeId: string): void {
    if (!this.unsealedOrder.includes(nodeId)) this.unsealedOrder.push(nodeId);
    if (this.active === undefined) this.promote(nodeId);
  }

  markSealed(nodeId: string): void {
    this.unsealedOrder = this.unsealedOrder.filter((id) => id !== nodeId);
    if (this.active === nodeId) this.promote(this.unsealedOrder[0]);
  }

  /** The active node gives up the lock to another unsealed node, if there is one. */
  stepDown(): void {
    const current = this.active;
    if (current === undefined) return;
    const next = this.unsealedOrder.find((id) => id !== current);
    if (next === undefined) return;
    this.unsealedOrder = [...this.unsealedOrder.filter((id) => id !== current), current];
    this.promote(next);
  }

  private promote(nodeId: string | undefined): void {
    this.active = nodeId;
    this.since = nodeId === undefined ? undefined : this.now();
  }
}

export class ClusterStorage {
  init: InitRecord | undefined;
  readonly tokens: TokenStore;
  readonly ha: HaLock;
  /** Node id → API address, for `sys/leader` and standby redirects. */
  readonly addresses = new Map<string, string>();
  /** ACL policies by name (`default` built in; `root` is implicit): what every non-root token is held to. */
  readonly aclPolicies: Map<string, StoredPolicy> = defaultPolicies();
  /** Raft-ish counters reported by `sys/leader`; any write path may bump them. */
  raftIndex = 1;

  constructor(readonly now: () => Date) {
    this.tokens = new TokenStore(now);
    this.ha = new HaLock(now);
  }
}
