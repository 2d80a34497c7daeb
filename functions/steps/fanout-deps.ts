import type { PkiSettings } from '../contracts/env';
import type { Cluster } from '../ports/cluster';
import type { VaultPki } from '../ports/vault-pki';
import type { TlsProbe } from '../ports/tls-probe';
import type { KeyFactory } from '../ports/key-factory';
import type { Clock } from '../ports/clock';
import type { Log } from '../ports/log';
import type { MetricsSink } from '../ports/metrics-sink';
import type { StormControl } from '../contracts/storm-control';

/** What the Kubernetes steps work with: one Cluster per configured cluster, Vault's PKI, a TLS probe. */
export interface FanoutDeps {
  cluster(name: string): Cluster;
  pki: VaultPki;
  settings: PkiSettings;
  probe: TlsProbe;
  keys: KeyFactory;
  /** The ConfigMap (per namespace) holding the bundle every service trusts. */
  trustBundleConfigMap: string;
  clock: Clock;
  log: Log;
  /** Where RenewBatch and VerifyBatch publish their counts (EMF in Lambda). */
  metrics: MetricsSink;
  /** The Vault cluster id (config vault.clusterId): the Cluster dimension of those counts, as of every certflow metric. */
  clusterId: string;
  /**
   * Targets of one batch renewed, checked or verified at once (config policy.targetConcurrency).
   * @default 1 (one after another)
   */
  targetConcurrency?: number;
  /**
   * This batch's share of the rollout and issuance budgets and the renewal jitter (config policy).
   * @default no bounds, no jitter
   */
  storm?: StormControl;
}
