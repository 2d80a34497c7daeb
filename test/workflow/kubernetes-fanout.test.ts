import { createHash } from 'node:crypto';
import { discoverTargets } from '../../functions/steps/discover-targets';
import { renewBatch } from '../../functions/steps/renew-batch';
import { checkBatch } from '../../functions/steps/check-batch';
import { verifyBatch } from '../../functions/steps/verify-batch';
import { restoreBatch } from '../../functions/steps/restore-batch';
import { verifierIdentity } from '../../functions/steps/verifier-identity';
import { backupSecretName } from '../../functions/domain/backup-naming';
import { systemClock } from '../../functions/ports/clock';
import type { Target } from '../../functions/contracts/targets';
import type { FanoutDeps } from '../../functions/steps/fanout-deps';
import type { Cluster } from '../../functions/ports/cluster';
import { silentLog } from '../../sandbox/compose/vault-bootstrap';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { SandboxPki } from '../../sandbox/compose/pki-setup';
import { fanoutDepsOf, seedIstiod, startFleetCloud } from '../support/local-cloud-fixture';
import { RotationEnvNames } from '../../functions/contracts/rotation-env';
import { TargetPolicySchema, type TargetPolicy } from '../../functions/contracts/target-policy';
import { Metrics } from '../../functions/contracts/functions';
import { InvalidInputError } from '../../functions/contracts/errors';

/**
 * The Kubernetes steps end to end on the sandbox: the real @kubernetes/client-node against the
 * API emulator, Vault's PKI over node-vault with AWS IAM login, cert-manager issuing through Vault,
 * and real mTLS handshakes with each service's endpoint.
 */
jest.setTimeout(120_000);

describe('renewing the seed fleet in Kubernetes', () => {
  let cloud: LocalCloud;
  let pki: SandboxPki;
  let deps: FanoutDeps & { clusters: Cluster[] };
  let targets: Target[];
  let policy: TargetPolicy;
  let identity: ReturnType<typeof verifierIdentity>;
  const byService = (service: string) => targets.filter((target) => target.service === service);
  const requestedAt = () => new Date().toISOString();

  async function secretHashes(): Promise<Record<string, string>> {
    const hashes: Record<string, string> = {};
    for (const target of targets) {
      const secret = await deps.cluster('primary').readSecret(target.namespace, target.secretName);
      const hash = createHash('sha256');
      for (const key of Object.keys(secret?.data ?? {}).sort()) hash.update(key).update(secret!.data[key]!);
      hashes[target.id] = hash.digest('hex');
    }
    return hashes;
  }

  async function untilRolledOut(runId: string, batch: Target[], at: string, renewed?: Awaited<ReturnType<typeof renewBatch>>['renewed']) {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const progress = await checkBatch(deps, { runId, requestedAt: at, targets: batch, ...(renewed ? { renewed } : {}) });
      if (progress.done) return progress;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return checkBatch(deps, { runId, requestedAt: at, targets: batch, ...(renewed ? { renewed } : {}) });
  }

  beforeAll(async () => {
    ({ cloud, pki } = await startFleetCloud());
    deps = await fanoutDepsOf(cloud);
    const env = await cloud.runner.resolvedFunctionEnv('VerifyBatch');
    identity = verifierIdentity(deps.pki, deps.settings, 'econ-graph', systemClock);
    policy = TargetPolicySchema.parse(JSON.parse(env[RotationEnvNames.TargetPolicy]!));
    targets = (await discoverTargets(deps.clusters, policy, 'ecdsa-p256', silentLog)).targets;
  });
  afterAll(async () => cloud?.sandbox.close());

  it('discovers the five services by label with their kinds, endpoints and canary', () => {
    expect(targets.map((target) => [target.service, target.kind, target.canary, Boolean(target.endpoint)])).toEqual([
      ['backend', 'tls-secret', false, true],
      ['chart-api', 'tls-secret', false, true],
      ['frontend', 'cert-manager', true, true],
      ['keycloak', 'tls-secret', false, true],
      ['mcp-server', 'cert-manager', false, true],
    ]);
    expect(byService('keycloak')[0]!.keyAlgorithm).toBe('rsa-2048');
  });

  it('verifies the fleet as seeded: every endpoint serves its Secret over mTLS', async () => {
    const result = await verifyBatch(deps, { runId: 'seed-check', targets }, identity);
    expect(result.verdicts.map((verdict) => [verdict.service, verdict.reason, verdict.handshake])).toEqual(targets.map((target) => [target.service, 'Valid', true]));
  });

  it('renews a tls-secret target end to end: backup, new certificate, restart, handshake', async () => {
    const batch = byService('backend');
    const at = requestedAt();
    const before = await deps.cluster('primary').readSecret('econ-graph', 'backend-tls');

    const renewed = await renewBatch(deps, { runId: 'run-tls', requestedAt: at, targets: batch }, policy);
    await untilRolledOut('run-tls', batch, at);
    const verified = await verifyBatch(deps, { runId: 'run-tls', targets: batch }, identity);

    const entry = renewed.renewed[0]!;
    expect(entry.state).toBe('Renewed');
    expect(entry.newSerial).not.toBe(entry.oldSerial);
    expect(verified.verdicts[0]).toEqual(expect.objectContaining({ reason: 'Valid', handshake: true, servedSerial: entry.newSerial, secretSerial: entry.newSerial }));
    const backup = await deps.cluster('primary').readSecret('econ-graph', backupSecretName('backend-tls', 'run-tls'));
    expect(backup!.data['tls.crt']!.equals(before!.data['tls.crt']!)).toBe(true);
    expect(backup!.data['tls.key']!.equals(before!.data['tls.key']!)).toBe(true);
  });

  it('does not issue twice or overwrite the backup when RenewBatch is retried with the same run', async () => {
    const batch = byService('backend');
    const backupBefore = await deps.cluster('primary').readSecret('econ-graph', backupSecretName('backend-tls', 'run-tls'));
    const secretBefore = await deps.cluster('primary').readSecret('econ-graph', 'backend-tls');

    const again = await renewBatch(deps, { runId: 'run-tls', requestedAt: requestedAt(), targets: batch }, policy);

    expect(again.renewed[0]!.state).toBe('AlreadyRenewed');
    const backupAfter = await deps.cluster('primary').readSecret('econ-graph', backupSecretName('backend-tls', 'run-tls'));
    const secretAfter = await deps.cluster('primary').readSecret('econ-graph', 'backend-tls');
    expect(backupAfter!.data['tls.crt']!.equals(backupBefore!.data['tls.crt']!)).toBe(true);
    expect(secretAfter!.data['tls.crt']!.equals(secretBefore!.data['tls.crt']!)).toBe(true);
  });

  it('renews a cert-manager target the cmctl way and verifies the new certificate by handshake', async () => {
    const batch = byService('frontend');
    const at = requestedAt();

    const renewed = await renewBatch(deps, { runId: 'run-cm', requestedAt: at, targets: batch }, policy);
    const progress = await untilRolledOut('run-cm', batch, at, renewed.renewed);
    const verified = await verifyBatch(deps, { runId: 'run-cm', targets: batch }, identity);

    expect(renewed.renewed[0]!.state).toBe('RenewalRequested');
    expect(progress.done).toBe(true);
    const certificate = await deps.cluster('primary').readCertificate('econ-graph', batch[0]!.certificateName!);
    expect(certificate!.revision).toBe((renewed.renewed[0]!.previousRevision ?? 0) + 1);
    expect(verified.verdicts[0]).toEqual(expect.objectContaining({ reason: 'Valid', handshake: true }));
    expect(verified.verdicts[0]!.servedSerial).not.toBe(renewed.renewed[0]!.oldSerial);
  });

  it('fails verification with a clear reason when a rollout never happens', async () => {
    const batch = byService('chart-api');
    cloud.sandbox.kubernetes.setRolloutsPaused('econ-graph', 'chart-api', true);
    try {
      const at = requestedAt();
      const renewed = await renewBatch(deps, { runId: 'run-stuck', requestedAt: at, targets: batch }, policy);
      const progress = await checkBatch(deps, { runId: 'run-stuck', requestedAt: at, targets: batch });
      const verified = await verifyBatch(deps, { runId: 'run-stuck', targets: batch }, identity);

      expect(progress.done).toBe(false);
      expect(progress.pending[0]!.waitingFor).toMatch(/rollout of econ-graph\/chart-api/);
      expect(verified.allValid).toBe(false);
      expect(verified.verdicts[0]).toEqual(
        expect.objectContaining({ reason: 'StaleServedCertificate', secretSerial: renewed.renewed[0]!.newSerial, servedSerial: renewed.renewed[0]!.oldSerial }),
      );
    } finally {
      cloud.sandbox.kubernetes.setRolloutsPaused('econ-graph', 'chart-api', false);
    }
  });

  it('restores every Secret byte for byte and the endpoints serve the old certificates again', async () => {
    const at = requestedAt();
    const before = await secretHashes();
    const servedBefore = await verifyBatch(deps, { runId: 'run-restore', targets: targets.filter((t) => t.service !== 'chart-api') }, identity);

    const renewed = await renewBatch(deps, { runId: 'run-restore', requestedAt: at, targets }, policy);
    await untilRolledOut('run-restore', targets, at, renewed.renewed);
    const changed = await secretHashes();
    const restoreAt = requestedAt();
    const restored = await restoreBatch(deps, { runId: 'run-restore', requestedAt: restoreAt, targets });
    await untilRolledOut('run-restore', targets.filter((t) => t.kind !== 'cert-manager'), restoreAt);
    const after = await secretHashes();

    expect(Object.keys(before).filter((id) => before[id] !== changed[id])).toHaveLength(targets.length);
    expect(after).toEqual(before);
    expect(restored.restored.every((entry) => entry.restored)).toBe(true);
    const servedAfter = await verifyBatch(deps, { runId: 'run-restore', targets: targets.filter((t) => t.service !== 'chart-api') }, identity);
    expect(servedAfter.verdicts.map((v) => v.servedSerial)).toEqual(servedBefore.verdicts.map((v) => v.servedSerial));
  });

  it('restarts the fleet in waves under a rollout budget: never more than one workload rolling out at once in the namespace, counted at the emulator', async () => {
    const budgeted: FanoutDeps = { ...deps, storm: { restartsPerCluster: 2, restartsPerNamespace: 1, renewalJitter: 0 } };
    const at = requestedAt();
    cloud.sandbox.kubernetes.resetRolloutPeaks();

    const renewed = await renewBatch(budgeted, { runId: 'run-waves', requestedAt: at, targets }, policy);
    const waves: string[][] = [];
    let progress = await checkBatch(budgeted, { runId: 'run-waves', requestedAt: at, targets, renewed: renewed.renewed });
    for (let look = 0; !progress.done && look < 200; look += 1) {
      if (progress.restartedNow) waves.push(progress.restartedNow);
      await new Promise((resolve) => setTimeout(resolve, 20));
      progress = await checkBatch(budgeted, { runId: 'run-waves', requestedAt: at, targets, renewed: renewed.renewed });
    }
    const verified = await verifyBatch(deps, { runId: 'run-waves', targets }, identity);

    expect(renewed.renewed.every((entry) => entry.restarted.length === 0)).toBe(true);
    expect(progress.done).toBe(true);
    expect(waves.flat().sort()).toEqual(targets.flatMap((target) => target.workloads.map((workload) => `primary/${target.namespace}/${workload}`)).sort());
    expect(waves.every((wave) => wave.length === 1)).toBe(true);
    expect(cloud.sandbox.kubernetes.rolloutPeaks().namespaces['econ-graph']).toBe(1);
    expect(verified.verdicts.map((verdict) => verdict.reason)).toEqual(targets.map(() => 'Valid'));
  });

  it('renews the Istio plug-in CA: a CA under the root in istio-system/cacerts, istiod restarted', async () => {
    const store = cloud.sandbox.kubernetes.store;
    seedIstiod(store);
    await deps.cluster('primary').writeConfigMap('istio-system', cloud.sandbox.config.kubernetes.trustBundleConfigMap, { 'ca.crt': pki.rootCertificate });
    const mesh: Target = {
      id: 'primary/istio-system/cacerts',
      cluster: 'primary',
      namespace: 'istio-system',
      service: 'istio-mesh',
      kind: 'istio-cacerts',
      secretName: 'cacerts',
      workloads: ['istiod'],
      dnsNames: ['istiod.istio-system.svc'],
      canary: false,
      keyAlgorithm: 'ecdsa-p256',
    };
    const at = requestedAt();

    const renewed = await renewBatch(deps, { runId: 'run-mesh', requestedAt: at, targets: [mesh] }, policy);
    const progress = await untilRolledOut('run-mesh', [mesh], at);
    const verified = await verifyBatch(deps, { runId: 'run-mesh', targets: [mesh] }, identity);

    const secret = await deps.cluster('primary').readSecret('istio-system', 'cacerts');
    expect(Object.keys(secret!.data).sort()).toEqual(['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem']);
    expect(secret!.data['root-cert.pem']!.toString().trim()).toBe(pki.rootCertificate.trim());
    const { X509Certificate } = await import('node:crypto');
    const meshCa = new X509Certificate(secret!.data['ca-cert.pem']!);
    expect(meshCa.ca).toBe(true);
    expect(meshCa.verify(new X509Certificate(pki.rootCertificate).publicKey)).toBe(true);
    expect(renewed.renewed[0]!.restarted).toEqual(['istiod']);
    expect(progress.done).toBe(true);
    expect(verified.verdicts[0]).toEqual(expect.objectContaining({ valid: true, reason: 'Valid', handshake: false }));
  });

  it('counts renewals succeeded and failed, published when the batch fails too, and verdicts by verdict', async () => {
    const gauges: Array<[string, number, Record<string, string>]> = [];
    const counting: FanoutDeps = { ...deps, metrics: { gauge: (name, value, dimensions) => void gauges.push([name, value, dimensions]), flush: () => undefined } };
    const cluster = { [Metrics.ClusterDimension]: deps.clusterId };
    const published = () => gauges.splice(0);
    // One target renewed, then one that fails (its cluster is not configured): the batch throws,
    // and both counts are still published.
    const unknownCluster = { ...byService('chart-api')[0]!, id: 'elsewhere/econ-graph/chart-api-tls', cluster: 'elsewhere' };
    await expect(renewBatch(counting, { runId: 'run-count', requestedAt: requestedAt(), targets: [...byService('keycloak'), unknownCluster] }, policy)).rejects.toBeInstanceOf(InvalidInputError);
    expect(published()).toEqual([
      [Metrics.RenewalsSucceeded, 1, cluster],
      [Metrics.RenewalsFailed, 1, cluster],
    ]);
    // The retry finds keycloak renewed by this run: the attempt that renewed it counted it.
    await renewBatch(counting, { runId: 'run-count', requestedAt: requestedAt(), targets: byService('keycloak') }, policy);
    expect(published()).toEqual([
      [Metrics.RenewalsSucceeded, 0, cluster],
      [Metrics.RenewalsFailed, 0, cluster],
    ]);

    const missing = { ...byService('backend')[0]!, secretName: 'absent-tls' };
    await verifyBatch(counting, { runId: 'run-count', targets: [...byService('backend'), missing] }, identity);
    expect(published()).toEqual([
      [Metrics.VerificationVerdicts, 1, { ...cluster, [Metrics.VerdictDimension]: 'Valid' }],
      [Metrics.VerificationVerdicts, 1, { ...cluster, [Metrics.VerdictDimension]: 'SecretMissing' }],
      [Metrics.VerificationsRefused, 1, cluster],
    ]);
  });
});
