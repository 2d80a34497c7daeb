import type { Env, PkiEnv } from '../contracts/env';
import type { ClusterSpec } from '../contracts/clusters';
import type { Cluster } from '../ports/cluster';
import type { Clock } from '../ports/clock';
import type { Log } from '../ports/log';
import type { MetricsSink } from '../ports/metrics-sink';
import type { FanoutDeps } from '../steps/fanout-deps';
import { buildPkiAdapters } from './pki-wiring';
import { clusterFromSpec } from './kubernetes/kube-auth';
import { NodeTlsProbe } from './tls/node-tls-probe';
import { PeculiarKeyFactory } from './x509/peculiar-key-factory';
import { InvalidInputError } from '../contracts/errors';

/**
 * Everything the Kubernetes steps need, built once per cold start: one Cluster per configured
 * cluster (each with its own auth), Vault's PKI with the function's login, the TLS probe and the
 * key factory, and where the steps' counts go (the function's EMF sink, with the Vault cluster id
 * as their Cluster dimension). The log is the invocation's (it carries the run id).
 */
export function buildFanoutAdapters(input: {
  pkiEnv: PkiEnv;
  clusters: readonly ClusterSpec[];
  trustBundleConfigMap: string;
  env: Env;
  clock: Clock;
  log: Log;
  metrics: MetricsSink;
  clusterId: string;
}): Omit<FanoutDeps, 'log'> & { clusters: Cluster[] } {
  const pki = buildPkiAdapters(input.pkiEnv, input.env, input.clock, input.log);
  const clusters = input.clusters.map((spec) => clusterFromSpec(spec, { env: input.env, clock: input.clock }));
  const byName = new Map(clusters.map((cluster) => [cluster.name, cluster]));
  return {
    clusters,
    cluster(name) {
      const cluster = byName.get(name);
      if (!cluster) throw new InvalidInputError(`target names cluster ${name}, which is not configured (configured: ${[...byName.keys()].join(', ')})`);
      return cluster;
    },
    pki: pki.pki,
    settings: pki.settings,
    probe: new NodeTlsProbe(),
    keys: new PeculiarKeyFactory(),
    trustBundleConfigMap: input.trustBundleConfigMap,
    clock: input.clock,
    metrics: input.metrics,
    clusterId: input.clusterId,
  };
}
