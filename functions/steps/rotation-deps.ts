import type { PauseSwitch } from '../ports/pause-switch';
import type { ExpectedVault } from '../domain/unseal-decision';
import type { VaultSys } from '../ports/vault-sys';
import type { KeyWrapper } from '../ports/key-wrapper';
import type { ShareStore } from '../ports/share-store';
import type { Ledger } from '../ports/ledger';
import type { Cluster } from '../ports/cluster';
import type { FanoutDeps } from './fanout-deps';
import type { TargetPolicy } from '../contracts/target-policy';

/** Everything a rotation step may use, built once per cold start (adapters/rotation-wiring.ts). */
export interface RotationRuntime {
  clusterId: string;
  unseal: { vaultFor(nodeUrl: string): VaultSys; keys: KeyWrapper; shares: ShareStore; expected: ExpectedVault; pause?: PauseSwitch };
  /** The Vault nodes now: configured, or discovered from the StatefulSet's pods (config vault.discovery). */
  vaultNodes: () => Promise<Array<{ id: string; url: string }>>;
  fanout: Omit<FanoutDeps, 'log'> & { clusters: Cluster[] };
  ledger: Ledger;
  batchSize: number;
  namespace: string;
  /** The declared target policy: discovery admits by it, and every batch step re-checks by it. */
  policy: TargetPolicy;
  /** Looks at a batch before the wait loop gives up (RolloutTimeoutError). */
  maxRolloutChecks: number;
}
