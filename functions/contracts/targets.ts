import * as z from 'zod';

/**
 * A target: one certificate certflow keeps renewed in Kubernetes (DESIGN.md Rotation step 3).
 * Discovered by label selector (`certflow.io/managed=true` with certflow.io/* annotations) or
 * listed statically in config. Targets travel between states as these fields only: names, never
 * certificate bodies or keys.
 */
export const TargetKinds = ['cert-manager', 'tls-secret', 'istio-cacerts'] as const;
export const TargetKindSchema = z.enum(TargetKinds);
export type TargetKind = z.infer<typeof TargetKindSchema>;

export const EndpointSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** SNI and the name checked against the served certificate. */
  serverName: z.string().min(1),
});

export const TargetSchema = z.object({
  /** `<cluster>/<namespace>/<name>`: stable across runs, used in ledger keys and events. */
  id: z.string().min(1),
  cluster: z.string().min(1),
  namespace: z.string().min(1),
  /** The service (or mesh) the certificate belongs to. */
  service: z.string().min(1),
  kind: TargetKindSchema,
  /** The Secret that holds the certificate (cert-manager's spec.secretName for that kind). */
  secretName: z.string().min(1),
  /** cert-manager only: the Certificate resource. */
  certificateName: z.string().min(1).optional(),
  /** Deployments restarted after the Secret changes (tls-secret, istio-cacerts). */
  workloads: z.array(z.string().min(1)).default([]),
  endpoint: EndpointSchema.optional(),
  dnsNames: z.array(z.string().min(1)).min(1),
  canary: z.boolean().default(false),
  keyAlgorithm: z.enum(['ecdsa-p256', 'rsa-2048']).default('ecdsa-p256'),
});
export type Target = z.infer<typeof TargetSchema>;

/** Labels and annotations certflow reads and writes in Kubernetes: defined once, here. */
export const K8sNames = {
  ManagedLabel: 'certflow.io/managed',
  KindAnnotation: 'certflow.io/kind',
  ServiceAnnotation: 'certflow.io/service',
  WorkloadsAnnotation: 'certflow.io/workloads',
  EndpointAnnotation: 'certflow.io/endpoint',
  DnsNamesAnnotation: 'certflow.io/dns-names',
  CanaryAnnotation: 'certflow.io/canary',
  KeyAlgorithmAnnotation: 'certflow.io/key-algorithm',
  /** On backup Secrets: the run that took the backup, and what it backs up. */
  BackupRunLabel: 'certflow.io/backup-run',
  BackupOfAnnotation: 'certflow.io/backup-of',
  /** The trust bundle ConfigMap key. */
  TrustBundleKey: 'ca.crt',
  RestartedAtAnnotation: 'kubectl.kubernetes.io/restartedAt',
} as const;
