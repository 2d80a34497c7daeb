import '../sandbox/runner/polyfills';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { loadConfig } from '../lib/config';
import { PkiEnvSchema } from '../functions/contracts/env';
import { K8sNames, type Target } from '../functions/contracts/targets';
import { parseEnv } from '../functions/handlers/kit/handler-kit';
import { buildFanoutAdapters } from '../functions/adapters/fanout-wiring';
import { renewBatch } from '../functions/steps/renew-batch';
import { checkBatch } from '../functions/steps/check-batch';
import { verifyBatch } from '../functions/steps/verify-batch';
import { verifierIdentity } from '../functions/steps/verifier-identity';
import { systemClock } from '../functions/ports/clock';
import { discardMetrics } from '../functions/ports/metrics-sink';
import { startSandbox } from '../sandbox/compose/sandbox';
import { createLocalCloud } from '../sandbox/compose/local-cloud';
import { synthesizedAssembly, type SynthesizedAssembly } from '../sandbox/compose/synthesize';
import { setupSandboxPki } from '../sandbox/compose/pki-setup';
import { silentLog } from '../sandbox/compose/vault-bootstrap';
import { startServiceEndpoints } from '../sandbox/services/service-endpoints';
import { machine, round, writeResult } from './bench-kit';

/**
 * Issue 4's benchmark: renew and verify 100 and 1,000 tls-secret targets in the sandbox (issue
 * from Vault, back up, write the Secret, restart the Deployment, wait for the rollout, verify the
 * stored chain; and for the 100, a real mTLS handshake with each endpoint), against signing the
 * same number of leaves directly with the same crypto library. Batches of 25, as config.policy.
 */
const SIZES = (process.env.BENCH_SIZES ?? '100,1000').split(',').map(Number);
const BATCH = 25;
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

async function signDirectly(count: number): Promise<number> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const issuerKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    await x509.X509CertificateGenerator.create({
      serialNumber: (i + 1).toString(16).padStart(4, '0'),
      subject: `CN=svc-${i}.bench.svc`,
      issuer: 'CN=bench issuer',
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 30 * 86400_000),
      signingAlgorithm: alg,
      publicKey: keys.publicKey,
      signingKey: issuerKeys.privateKey,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: `svc-${i}.bench.svc` }])],
    });
    await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  }
  return performance.now() - started;
}

async function runSize(size: number, assembly: SynthesizedAssembly) {
  const config = loadConfig('config/econgraph.json');
  const benchConfig = { ...config, kubernetes: { ...config.kubernetes, namespace: 'bench' } };
  const sandbox = await startSandbox({ config: benchConfig });
  try {
    const cloud = await createLocalCloud(sandbox, assembly);
    const { rootToken } = await sandbox.vault.bootstrap();
    const pki = await setupSandboxPki(sandbox, rootToken);
    const store = sandbox.kubernetes.store;
    // The seed role allows subdomains of econ-graph.svc: the bench services live there by name.
    store.create('namespaces', { metadata: { name: 'econ-graph' } } as never);
    const withEndpoints = size <= 100;
    const targets: Target[] = [];
    for (let i = 0; i < size; i += 1) {
      const name = `svc-${String(i).padStart(4, '0')}`;
      store.create('deployments', {
        metadata: { name, namespace: 'econ-graph', labels: { app: name } },
        spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'bench' }] } } },
      } as never);
      targets.push({
        id: `primary/econ-graph/${name}-tls`,
        cluster: 'primary',
        namespace: 'econ-graph',
        service: name,
        kind: 'tls-secret',
        secretName: `${name}-tls`,
        workloads: [name],
        dnsNames: [`${name}.econ-graph.svc`],
        canary: false,
        keyAlgorithm: 'ecdsa-p256',
      });
    }
    store.create('configmaps', { metadata: { name: config.kubernetes.trustBundleConfigMap, namespace: 'econ-graph' }, data: { [K8sNames.TrustBundleKey]: pki.rootCertificate } } as never);
    const endpoints = withEndpoints
      ? await startServiceEndpoints({
          kubernetes: sandbox.kubernetes,
          services: targets.map((t) => ({ name: t.service, namespace: t.namespace, secretName: t.secretName, deployment: t.service, trustBundleConfigMap: config.kubernetes.trustBundleConfigMap })),
        })
      : undefined;
    if (endpoints) for (const target of targets) target.endpoint = { ...endpoints.endpoint(target.service)!, serverName: target.dnsNames[0]! };

    const env = await cloud.runner.resolvedFunctionEnv('PrepareIntermediate');
    const k8s = sandbox.kubernetes;
    const deps = {
      ...buildFanoutAdapters({
        pkiEnv: parseEnv(PkiEnvSchema, env),
        clusters: [{ auth: 'token', name: 'primary', server: k8s.url, token: k8s.token, caData: Buffer.from(k8s.caCertificate!).toString('base64'), skipTlsVerify: false }],
        trustBundleConfigMap: config.kubernetes.trustBundleConfigMap,
        env,
        clock: systemClock,
        log: silentLog,
        metrics: discardMetrics,
        clusterId: config.vault.clusterId,
      }),
      log: silentLog,
    };
    const identity = verifierIdentity(deps.pki, deps.settings, 'econ-graph', systemClock);
    await identity();

    const at = new Date().toISOString();
    const started = performance.now();
    const batches: Target[][] = [];
    for (let i = 0; i < targets.length; i += BATCH) batches.push(targets.slice(i, i + BATCH));
    let renewMs = 0;
    let rolloutMs = 0;
    let verifyMs = 0;
    let invalid = 0;
    for (const batch of batches) {
      let t = performance.now();
      await renewBatch(deps, { runId: `bench-${size}`, requestedAt: at, targets: batch }, config.kubernetes.targets);
      renewMs += performance.now() - t;
      t = performance.now();
      for (let attempt = 0; attempt < 200; attempt += 1) {
        if ((await checkBatch(deps, { runId: `bench-${size}`, requestedAt: at, targets: batch })).done) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      rolloutMs += performance.now() - t;
      t = performance.now();
      const verified = await verifyBatch(deps, { runId: `bench-${size}`, targets: batch }, identity);
      invalid += verified.verdicts.filter((verdict) => !verdict.valid).length;
      verifyMs += performance.now() - t;
    }
    const totalMs = performance.now() - started;
    const signingMs = await signDirectly(size);
    await endpoints?.close();
    return {
      targets: size,
      handshakes: withEndpoints,
      invalid,
      totalMs: round(totalMs),
      perTargetMs: round(totalMs / size, 2),
      phasesMs: { renew: round(renewMs), waitForRollout: round(rolloutMs), verify: round(verifyMs) },
      signingAloneMs: round(signingMs),
      signingPerLeafMs: round(signingMs / size, 2),
      ratio: round(totalMs / signingMs, 1),
    };
  } finally {
    await sandbox.close();
  }
}

async function main(): Promise<void> {
  const assembly = await synthesizedAssembly();
  const runs = [];
  for (const size of SIZES) {
    const run = await runSize(size, assembly);
    console.log(JSON.stringify(run));
    runs.push(run);
  }
  const result = { benchmark: 'fanout', machine: machine(), batchSize: BATCH, runs };
  const path = writeResult('fanout', result);
  console.log(`written to ${path}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
