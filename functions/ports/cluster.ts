/**
 * What certflow does in one Kubernetes cluster, named by capability (DESIGN.md Kubernetes).
 * Secret data is bytes keyed by file name (`tls.crt`, `tls.key`, `ca.crt`, `ca-key.pem`, ...);
 * it travels only between Vault, the Lambda's memory and the cluster.
 */
export interface SecretSnapshot {
  namespace: string;
  name: string;
  type: string;
  data: Record<string, Buffer>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  resourceVersion: string;
}

export interface SecretWrite {
  namespace: string;
  name: string;
  type: string;
  data: Record<string, Buffer>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RolloutStatus {
  generation: number;
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  /** The template annotation that last restarted it. */
  restartedAt?: string;
  complete: boolean;
}

export interface CertificateStatus {
  name: string;
  namespace: string;
  secretName: string;
  dnsNames: string[];
  ready: boolean;
  issuing: boolean;
  revision: number;
  notAfter?: string;
}

/** What node discovery reads of a Pod (no spec beyond the container ports, no status beyond this). */
export interface PodSummary {
  name: string;
  namespace: string;
  phase: string;
  ready: boolean;
  podIp?: string;
  /** The StatefulSet that owns it, from ownerReferences (controller: true). */
  ownerStatefulSet?: string;
  /** Every container's named ports. */
  ports: Array<{ name: string; port: number }>;
}

export interface Cluster {
  readonly name: string;
  /** The Pods of a namespace that match a label selector (Vault node discovery). */
  listPods(namespace: string, labelSelector: string): Promise<PodSummary[]>;
  readSecret(namespace: string, name: string): Promise<SecretSnapshot | undefined>;
  /**
   * Creates or replaces the Secret; a 409 is retried after a fresh read. `current`, the snapshot
   * this adapter just read of the same Secret, saves the read before the write (its
   * resourceVersion is the precondition, so a writer in between is still a 409 and a re-read).
   */
  writeSecret(secret: SecretWrite, current?: SecretSnapshot): Promise<SecretSnapshot>;
  /** Creates the Secret unless one of that name exists (then leaves it as it is): one call, no read. */
  createSecret(secret: SecretWrite): Promise<'created' | 'exists'>;
  deleteSecret(namespace: string, name: string): Promise<void>;
  listSecrets(namespace: string | undefined, labelSelector: string): Promise<SecretSnapshot[]>;
  readConfigMap(namespace: string, name: string): Promise<{ data: Record<string, string>; resourceVersion: string } | undefined>;
  writeConfigMap(namespace: string, name: string, data: Record<string, string>, labels?: Record<string, string>): Promise<void>;
  /** Sets the pod template's restartedAt annotation (what `kubectl rollout restart` does). */
  restartDeployment(namespace: string, name: string, at: Date): Promise<RolloutStatus>;
  rolloutStatus(namespace: string, name: string): Promise<RolloutStatus>;
  listCertificates(namespace: string | undefined, labelSelector: string): Promise<Array<CertificateStatus & { labels: Record<string, string>; annotations: Record<string, string> }>>;
  readCertificate(namespace: string, name: string): Promise<CertificateStatus | undefined>;
  /** The `cmctl renew` contract: status condition Issuing=True, reason ManuallyTriggered. */
  requestCertificateRenewal(namespace: string, name: string, message: string): Promise<void>;
  /**
   * Rollback: withdraws a pending renewal (removes the Issuing condition) so cert-manager does not
   * finish it after the Secret was restored. Answers whether one was pending.
   */
  cancelCertificateRenewal(namespace: string, name: string): Promise<boolean>;
}
