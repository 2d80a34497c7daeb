import type { CertflowConfig } from '../../lib/config';
import { declaredServices } from './declared-services';

/**
 * `certflow simulate --services N`: the seed's five services plus synthetic ones up to N, each a
 * tls-secret service with its own Deployment and endpoint, declared in the policy's first
 * namespace (alternating key algorithms would slow the sandbox to RSA's pace, so they are ECDSA P-256).
 */
export function withSyntheticServices(config: CertflowConfig, total: number): CertflowConfig {
  const seeded = declaredServices(config).length;
  if (total <= seeded) return config;
  const extra = Array.from({ length: total - seeded }, (_, index) => ({
    name: `svc-${String(index + 1).padStart(4, '0')}`,
    kind: 'tls-secret' as const,
    canary: false,
    extraDnsNames: [],
    dnsNamePatterns: [],
  }));
  const policy = config.kubernetes.targets;
  const [first, ...otherClusters] = policy.clusters;
  const [home, ...otherNamespaces] = first!.namespaces;
  const clusters = [{ ...first!, namespaces: [{ ...home!, services: [...home!.services, ...extra] }, ...otherNamespaces] }, ...otherClusters];
  return { ...config, kubernetes: { ...config.kubernetes, targets: { ...policy, clusters } } };
}
