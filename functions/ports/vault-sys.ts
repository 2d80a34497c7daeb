/**
 * One Vault node's `sys/*` surface, as the unseal steps need it (VAULT_API.md section 2).
 * One instance talks to one node's own address, never to a load balancer (P7).
 */
export interface SealStatus {
  /** Barrier seal type: `shamir`, `awskms`, ... */
  type: string;
  initialized: boolean;
  sealed: boolean;
  /** Threshold: unseal threshold for Shamir, recovery threshold for auto-unseal. */
  t: number;
  n: number;
  progress: number;
  /** Id of the current unseal attempt; '' when none is in progress. */
  nonce: string;
  version: string;
  migration: boolean;
  recoverySeal: boolean;
  clusterId?: string;
}

export interface InitResult {
  /** Hex unseal shares (Shamir) or recovery shares (auto-unseal). Secret: never log. */
  shares: string[];
  /** Secret: never log. */
  rootToken: string;
}

export type HealthState = 'active' | 'standby' | 'performance-standby' | 'dr-secondary' | 'sealed' | 'uninitialized';

export interface VaultSys {
  readonly nodeUrl: string;
  sealStatus(): Promise<SealStatus>;
  /** Submits one share; resolves with the status after it. Rejects with typed errors. */
  submitShare(share: string): Promise<SealStatus>;
  /** Throws away partial progress (`reset: true`). */
  resetProgress(): Promise<SealStatus>;
  /** Initializes the node: Shamir shares, or recovery shares for an auto-unseal seal. */
  initialize(request: { shares: number; threshold: number; recovery: boolean }): Promise<InitResult>;
  health(): Promise<{ state: HealthState; initialized: boolean; sealed: boolean; standby: boolean }>;
}
