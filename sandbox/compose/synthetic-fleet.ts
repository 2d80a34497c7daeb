import type { CertflowConfig } from '../../lib/config';

/**
 * `certflow simulate --services N`: the seed's five services plus synthetic ones up to N, each a
 * tls-secret service with its own Deployment and endpoint in the seed namespace (alternating key
 * algorithms would slow the sandbox to RSA's pace, so they are ECDSA P-256).
 */
export function withSyntheticServices(config: CertflowConfig, total: number): CertflowConfig {
  const seed = config.kubernetes.services;
  if (total <= seed.length) return config;
  const namespace = config.kubernetes.namespace;
  const extra = Array.from({ length: total - seed.length }, (_, index) => {
    const name = `svc-${String(index + 1).padStart(4, '0')}`;
    return { name, kind: 'tls-secret' as const, dnsNames: [`${name}.${namespace}.svc`], canary: false };
  });
  return { ...config, kubernetes: { ...config.kubernetes, services: [...seed, ...extra] } };
}
