import { randomUUID } from 'node:crypto';
import { PkiEnvSchema } from '../../functions/contracts/env';
import { discardMetrics } from '../../functions/ports/metrics-sink';
import { CompromiseDetailTypes, CompromiseSource } from '../../functions/contracts/compromise';
import { parseEnv } from '../../functions/handlers/kit/handler-kit';
import { systemClock } from '../../functions/ports/clock';
import type { FanoutDeps } from '../../functions/steps/fanout-deps';
import type { Cluster } from '../../functions/ports/cluster';
import { silentLog } from '../../sandbox/compose/vault-bootstrap';
import { SANDBOX_ACCOUNT, SANDBOX_REGION } from '../../sandbox/compose/sandbox';
import { loadConfig, type CertflowConfig } from '../../lib/config';
import { startSandbox, type SandboxOptions } from '../../sandbox/compose/sandbox';
import { createLocalCloud, type LocalCloud } from '../../sandbox/compose/local-cloud';
import { loadAssembly } from './template';
import { setupSandboxPki, type SandboxPki } from '../../sandbox/compose/pki-setup';

/** The seed config, for tests that start a sandbox. */
export function seedConfig(): CertflowConfig {
  return loadConfig('config/econgraph.json');
}

/** A sandbox provisioned from the run's synthesized template, with a runner over it. */
export async function startLocalCloud(options: Partial<SandboxOptions> = {}): Promise<LocalCloud> {
  const sandbox = await startSandbox({ config: seedConfig(), ...options });
  try {
    return await createLocalCloud(sandbox, loadAssembly(), { retryIntervalMs: 5 });
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

export { leaks, secretNeedles, storedSharePlaintexts } from '../../sandbox/compose/secret-scan';

/** A sandbox whose Vault is initialized, unsealed and carries the seed's PKI (root, intermediate, role, AWS auth). */
export async function startPkiCloud(options: Partial<SandboxOptions> = {}): Promise<{ cloud: LocalCloud; pki: SandboxPki }> {
  const cloud = await startLocalCloud(options);
  try {
    const { rootToken } = await cloud.sandbox.vault.bootstrap();
    const pki = await setupSandboxPki(cloud.sandbox, rootToken);
    return { cloud, pki };
  } catch (error) {
    await cloud.sandbox.close();
    throw error;
  }
}

/** Somewhere for handler log lines to go in tests that do not read them. */
export function quietOutput(): NodeJS.WritableStream {
  const { Writable } = require('node:stream') as typeof import('node:stream');
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

/**
 * The whole seed topology, ready for a rotation: Vault with its PKI, the namespace with five
 * services (cert-manager and tls-secret kinds), their first certificates, endpoints serving them.
 */
export async function startFleetCloud(): Promise<{ cloud: LocalCloud; pki: SandboxPki; seed: Awaited<ReturnType<LocalCloud['sandbox']['seedKubernetes']>> }> {
  const { cloud, pki } = await startPkiCloud();
  try {
    const seed = await cloud.sandbox.seedKubernetes({ rootToken: pki.rootToken, rootCertificate: pki.rootCertificate });
    return { cloud, pki, seed };
  } catch (error) {
    await cloud.sandbox.close();
    throw error;
  }
}

/**
 * The fan-out adapters a rotation function builds, pointed at the sandbox's cluster as its
 * environment says: for the tests that call the fan-out steps directly.
 */
export async function fanoutDepsOf(cloud: LocalCloud): Promise<FanoutDeps & { clusters: Cluster[] }> {
  const env = await cloud.runner.resolvedFunctionEnv('PrepareIntermediate');
  const k8s = cloud.sandbox.kubernetes;
  // Required here, not at the top: the fan-out adapters load @kubernetes/client-node (a large ESM
  // package jest transforms), which only the two tests that call the steps' source need.
  const { buildFanoutAdapters } = require('../../functions/adapters/fanout-wiring') as typeof import('../../functions/adapters/fanout-wiring');
  const adapters = buildFanoutAdapters({
    pkiEnv: parseEnv(PkiEnvSchema, env),
    clusters: [{ auth: 'token', name: 'primary', server: k8s.url, token: k8s.token, caData: Buffer.from(k8s.caCertificate!).toString('base64'), skipTlsVerify: false }],
    trustBundleConfigMap: cloud.sandbox.config.kubernetes.trustBundleConfigMap,
    env,
    clock: systemClock,
    log: silentLog,
    // The steps called directly publish nothing: the bundles' counts are read from their EMF lines.
    metrics: discardMetrics,
    clusterId: cloud.sandbox.config.vault.clusterId,
  });
  return { ...adapters, log: silentLog };
}

/** A `Compromise Reported` event as EventBridge delivers it to the response's rule. */
export function compromiseEnvelope(detail: unknown) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': CompromiseDetailTypes.Reported,
    source: CompromiseSource,
    account: SANDBOX_ACCOUNT,
    time: new Date().toISOString(),
    region: SANDBOX_REGION,
    resources: [],
    detail,
  };
}

/** The istio-system namespace with an istiod Deployment: where the mesh CA's declared location lives. */
export function seedIstiod(store: LocalCloud['sandbox']['kubernetes']['store']): void {
  store.create('namespaces', { metadata: { name: 'istio-system' } } as never);
  store.create('deployments', {
    metadata: { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'istiod' } }, template: { metadata: { labels: { app: 'istiod' } }, spec: { containers: [{ name: 'discovery', image: 'istio/pilot' }] } } },
  } as never);
}
