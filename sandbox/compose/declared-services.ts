import type { CertflowConfig } from '../../lib/config';
import type { Target } from '../../functions/contracts/targets';
import type { TargetPolicy } from '../../functions/contracts/target-policy';
import { declaredTargets } from '../../functions/domain/target-policy';

/**
 * The services a config's target policy declares, as targets: what the sandbox seeds, serves and
 * issues the first certificates for. This is fixture set-up, not an emulator's answer, so using
 * the policy's own reading of the config keeps the seed and the policy from drifting apart.
 */
export function declaredServices(config: CertflowConfig): Target[] {
  return declaredTargets(config.kubernetes.targets, config.pki.keyAlgorithm);
}

/**
 * The policy as the sandbox's functions receive it: each service's endpoint is where its sandbox
 * server listens (an OS-assigned loopback port), with the declared server name kept. In a
 * deployment the declared endpoint is the cluster address; here the policy is still the only
 * place an endpoint comes from.
 */
export function sandboxTargetPolicy(config: CertflowConfig, endpoint: (service: string) => { host: string; port: number } | undefined): TargetPolicy {
  const policy = config.kubernetes.targets;
  return {
    ...policy,
    clusters: policy.clusters.map((cluster) => ({
      ...cluster,
      namespaces: cluster.namespaces.map((namespace) => ({
        ...namespace,
        services: namespace.services.map((service) => {
          const where = endpoint(service.name);
          return where ? { ...service, endpoint: { ...service.endpoint, host: where.host, port: where.port } } : service;
        }),
      })),
    })),
  };
}
