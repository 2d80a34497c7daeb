import type NodeVault = require('node-vault');
import { X509Certificate } from 'node:crypto';
import type { LocalExecution } from '../../sandbox/runner/local-runner';
import { Metrics } from '../../functions/contracts/functions';
import type { ExpiryReportOutput } from '../../functions/contracts/expiry';
import { DAY_MS, alarmNamed, breaches, emfOf, type Emf } from '../support/expiry-oracles';
import { RotationEnvNames } from '../../functions/contracts/rotation-env';
import { TargetPolicySchema } from '../../functions/contracts/target-policy';
import { discoverTargets } from '../../functions/steps/discover-targets';
import { verifyBatch } from '../../functions/steps/verify-batch';
import { verifierIdentity } from '../../functions/steps/verifier-identity';
import { publishTrust } from '../../functions/steps/publish-trust';
import { K8sNames } from '../../functions/contracts/targets';
import { makeIntermediate, makeKeys, makeRoot } from '../support/pki-fixtures';
import { systemClock, type Clock } from '../../functions/ports/clock';
import type { Target } from '../../functions/contracts/targets';
import type { FanoutDeps } from '../../functions/steps/fanout-deps';
import { silentLog } from '../../sandbox/compose/vault-bootstrap';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { SandboxPki } from '../../sandbox/compose/pki-setup';
import { fanoutDepsOf, startFleetCloud } from '../support/local-cloud-fixture';
import { sandboxVaultClient } from '../../sandbox/compose/sandbox-vault-client';

/**
 * VerifyBatch against the sandbox's Vault: it reads every issuer's CRL itself, so a revoked leaf
 * is Revoked and a CRL past its nextUpdate is CrlStale (issue 12: production never passed CRLs),
 * and every declared name of a target must be covered, not only the first. The same fleet then
 * serves the expiry sweep's workflow cases (issue 16): one sandbox for both, as the test budget asks.
 */
jest.setTimeout(120_000);

// One fleet for the file: the verification cases, then the expiry sweep's (which change it).
let cloud: LocalCloud;
let pki: SandboxPki;
afterAll(async () => cloud?.sandbox.close());

describe('VerifyBatch checks revocation and every declared name', () => {
  let deps: FanoutDeps;
  let targets: Target[];
  let identity: ReturnType<typeof verifierIdentity>;
  const withClock = (clock: Clock): FanoutDeps => ({ ...deps, clock });
  const target = (service: string) => targets.find((entry) => entry.service === service)!;

  beforeAll(async () => {
    ({ cloud, pki } = await startFleetCloud());
    const adapters = await fanoutDepsOf(cloud);
    deps = adapters;
    identity = verifierIdentity(deps.pki, deps.settings, 'econ-graph', systemClock);
    // The policy exactly as the rotation functions receive it (endpoints at the sandbox's servers).
    const policy = TargetPolicySchema.parse(JSON.parse((await cloud.runner.resolvedFunctionEnv('VerifyBatch'))[RotationEnvNames.TargetPolicy]!));
    targets = (await discoverTargets(adapters.clusters, policy, 'ecdsa-p256', silentLog)).targets;
  });

  it('finds the seeded fleet valid with every issuer’s current CRL', async () => {
    const result = await verifyBatch(deps, { runId: 'crl-baseline', targets }, identity);
    expect(result.verdicts.map((verdict) => [verdict.service, verdict.reason])).toEqual(targets.map((entry) => [entry.service, 'Valid']));
    expect(result.verdicts[0]!.detail).toMatch(/served .* application data received/);
  });

  it('refuses a target whose name list declares a name its certificate does not carry', async () => {
    const widened = { ...target('backend'), dnsNames: [...target('backend').dnsNames, 'payments.econ-graph.svc'] };
    const result = await verifyBatch(deps, { runId: 'names', targets: [widened] }, identity);
    expect(result.verdicts[0]).toEqual(expect.objectContaining({ valid: false, reason: 'NameMismatch' }));
    expect(result.verdicts[0]!.detail).toContain('payments.econ-graph.svc');
  });

  it('calls a CRL past its nextUpdate stale, with its own reason', async () => {
    // Vault's CRLs expire after 72 h (crl expiry, VAULT_API.md 4.13): four days on, none is current.
    const later: Clock = { now: () => new Date(Date.now() + 4 * 86_400_000) };
    const result = await verifyBatch(withClock(later), { runId: 'stale', targets: [target('chart-api')] }, identity);
    expect(result.verdicts[0]).toEqual(expect.objectContaining({ valid: false, reason: 'CrlStale' }));
  });

  it('publishes trust without an expired intermediate, while keeping the roots and issuers in use', async () => {
    const key = await makeKeys('ec');
    const oldRoot = await makeRoot({ name: 'CN=Retired Root', key, notBefore: new Date(Date.now() - 900 * 86_400_000), notAfter: new Date(Date.now() + 900 * 86_400_000) });
    const expired = await makeIntermediate({ name: 'CN=Expired Intermediate', key, issuer: oldRoot, notBefore: new Date(Date.now() - 400 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const cluster = deps.cluster('primary');
    const current = (await cluster.readConfigMap('econ-graph', deps.trustBundleConfigMap))!;
    await cluster.writeConfigMap('econ-graph', deps.trustBundleConfigMap, { ...current.data, [K8sNames.TrustBundleKey]: `${current.data[K8sNames.TrustBundleKey]!.trim()}\n${expired.pem}` });

    await publishTrust(deps, { runId: 'drop-expired', mode: 'publish', namespaces: [{ cluster: 'primary', namespace: 'econ-graph' }] });

    const bundle = (await cluster.readConfigMap('econ-graph', deps.trustBundleConfigMap))!.data[K8sNames.TrustBundleKey]!;
    expect(bundle).not.toContain(expired.pem.split('\n')[1]);
    expect(bundle).toContain(pki.rootCertificate.trim().split('\n')[1]);
    const result = await verifyBatch(deps, { runId: 'after-publish', targets: [target('backend')] }, identity);
    expect(result.verdicts[0]!.reason).toBe('Valid');
  });

  it('refuses a leaf that Vault revoked, read from its issuer’s CRL', async () => {
    const vault = sandboxVaultClient(cloud.sandbox, { token: pki.rootToken });
    const serial = cloud.sandbox.services.served('keycloak')!.serial;
    await vault.write(`${deps.settings.intermediateMount}/revoke`, { serial_number: serial });
    // auto_rebuild is on (the sandbox's set-up): the revoke is on the CRL after a rotate (4.12, 4.13).
    await vault.read(`${deps.settings.intermediateMount}/crl/rotate`);

    const result = await verifyBatch(deps, { runId: 'revoked', targets: [target('keycloak'), target('frontend')] }, identity);

    expect(result.verdicts.map((verdict) => [verdict.service, verdict.reason])).toEqual([
      ['keycloak', 'Revoked'],
      ['frontend', 'Valid'],
    ]);
    expect(result.verdicts[0]!.detail).toContain(serial);
    expect(result.allValid).toBe(false);
  });
});

describe('the expiry sweep on the same fleet, after the verification cases', () => {
  let vault: NodeVault.client;
  let clean: { execution: LocalExecution; report: ExpiryReportOutput; emf: Emf[] };
  let swept: { execution: LocalExecution; report: ExpiryReportOutput; emf: Emf[] };
  let before: string;
  let servedBefore: string;
  let sixDayLeaf: X509Certificate;
  let shortIntermediate: X509Certificate;

  async function sweep() {
    const linesBefore = cloud.logLines().length;
    const execution = await cloud.runner.run(cloud.runner.find('ExpiryWorkflow'), { trigger: 'test' });
    return { execution, report: execution.output as ExpiryReportOutput, emf: emfOf(cloud.logLines().slice(linesBefore)) };
  }

  /** Every Secret's bytes and what Vault's API says of its issuers, default and stored certificates. */
  async function state(): Promise<string> {
    const secrets = cloud.sandbox.kubernetes.store.list('secrets').map((secret) => [secret.metadata?.namespace, secret.metadata?.name, secret.metadata?.resourceVersion, secret.data]);
    const deployments = cloud.sandbox.kubernetes.store.list('deployments').map((deployment) => [deployment.metadata?.name, deployment.metadata?.resourceVersion]);
    const mounts: unknown[] = [];
    for (const mount of [cloud.sandbox.config.vault.rootMount, cloud.sandbox.config.vault.intermediateMount]) {
      const ids = ((await vault.list(`${mount}/issuers`)) as { data: { keys: string[] } }).data.keys;
      const issuers = await Promise.all(ids.map(async (id) => ((await vault.read(`${mount}/issuer/${id}`)) as { data: unknown }).data));
      const certs = ((await vault.list(`${mount}/certs`).catch(() => ({ data: { keys: [] } }))) as { data: { keys: string[] } }).data.keys;
      const revoked = ((await vault.list(`${mount}/certs/revoked`).catch(() => ({ data: { keys: [] } }))) as { data: { keys: string[] } }).data.keys;
      mounts.push({ mount, issuers, config: ((await vault.read(`${mount}/config/issuers`)) as { data: unknown }).data, certs, revoked });
    }
    return JSON.stringify({ secrets, deployments, mounts });
  }

  beforeAll(async () => {
    vault = sandboxVaultClient(cloud.sandbox, { token: pki.rootToken });
    clean = await sweep();

    // backend's Secret gets a leaf with 6 days and a quarter left; its workload is not restarted,
    // so its endpoint keeps serving the certificate it loaded: stale.
    const { intermediateMount, rootMount, role } = cloud.sandbox.config.vault;
    const deps = await fanoutDepsOf(cloud);
    const cluster = deps.cluster('primary');
    const secret = (await cluster.readSecret('econ-graph', 'backend-tls'))!;
    servedBefore = new X509Certificate(secret.data['tls.crt']!).serialNumber;
    // Issued three days back-dated (the role's not_before_duration, as Vault offers it), so it
    // crosses its 7-day threshold now rather than being born inside that window.
    const roleBefore = ((await vault.read(`${intermediateMount}/roles/${role}`)) as { data: Record<string, unknown> }).data;
    await vault.write(`${intermediateMount}/roles/${role}`, { ...roleBefore, not_before_duration: '72h' });
    const issued = (await vault.write(`${intermediateMount}/issue/${role}`, { common_name: 'backend.econ-graph.svc', ttl: '150h', key_type: 'ec', key_bits: 256 })) as {
      data: { certificate: string; private_key: string; issuing_ca: string; ca_chain: string[] };
    };
    sixDayLeaf = new X509Certificate(issued.data.certificate);
    await vault.write(`${intermediateMount}/roles/${role}`, roleBefore);
    await cluster.writeSecret({ ...secret, data: { ...secret.data, 'tls.crt': Buffer.from(`${issued.data.certificate}\n${issued.data.issuing_ca}\n`), 'tls.key': Buffer.from(issued.data.private_key) } }, secret);

    // An intermediate with 100 days left, imported beside the active one (not default): it can
    // sign, so the 180-day intermediate threshold applies to it.
    const csr = (await vault.write(`${intermediateMount}/issuers/generate/intermediate/internal`, { common_name: 'EconGraph Short Intermediate', key_type: 'ec', key_bits: 256 })) as { data: { csr: string } };
    const signed = (await vault.write(`${rootMount}/root/sign-intermediate`, { csr: csr.data.csr, common_name: 'EconGraph Short Intermediate', ttl: '2400h' })) as { data: { certificate: string; issuing_ca: string } };
    await vault.write(`${intermediateMount}/issuers/import/bundle`, { pem_bundle: `${signed.data.certificate}\n${signed.data.issuing_ca}` });
    shortIntermediate = new X509Certificate(signed.data.certificate);

    before = await state();
    swept = await sweep();
  });

  it('finds the fleet healthy before any certificate is changed, with no alarm threshold met', () => {
    expect(clean.execution.status).toBe('SUCCEEDED');
    expect(clean.report.unhealthy).toEqual([]);
    expect(clean.report.breaches).toEqual([]);
    // The seeded 30-day leaves are born inside their 30-day window: no event announces each renewal.
    expect(clean.report.events).toEqual([]);
    expect(breaches(alarmNamed(cloud, 'LeafExpiring'), clean.emf)).toBe(false);
    expect(breaches(alarmNamed(cloud, 'TargetsUnhealthy'), clean.emf)).toBe(false);
  });

  it('publishes days to expiry per target and per issuer, matching each certificate’s notAfter', () => {
    const stored = swept.emf.find((document) => document.dimensions[Metrics.TargetDimension] === 'primary/econ-graph/backend-tls' && document.dimensions[Metrics.CopyDimension] === 'stored')!;
    const expected = (Date.parse(sixDayLeaf.validTo) - swept.execution.startedAt.getTime()) / DAY_MS;
    expect(stored.metrics[Metrics.TargetDaysToExpiry]).toBeCloseTo(expected, 1);
    const issuerDays = swept.emf.filter((document) => Metrics.IssuerDaysToExpiry in document.metrics).map((document) => document.dimensions[Metrics.IssuerRoleDimension]);
    expect(new Set(issuerDays)).toEqual(new Set(['root', 'intermediate']));
  });

  it('raises the leaf alarm for a leaf at 6 days, and emits Certificate Expiring at its 7-day threshold', () => {
    expect(breaches(alarmNamed(cloud, 'LeafExpiring'), swept.emf)).toBe(true);
    expect(swept.report.breaches).toContainEqual(expect.objectContaining({ alarm: 'LeafExpiring', id: 'primary/econ-graph/backend-tls' }));
    const events = cloud.sandbox.eventBridge.events({ detailType: 'Certificate Expiring' }).filter((event) => event.detail.runId === swept.execution.name);
    expect(events.map((event) => [event.detail.id, event.detail.copy, event.detail.thresholdDays])).toEqual([['primary/econ-graph/backend-tls', 'stored', 7]]);
    expect(events[0]!.detail.serial).toBe(sixDayLeaf.serialNumber.toLowerCase().match(/../g)!.join(':'));
  });

  it('raises the intermediate alarm for a signing intermediate within its 180-day threshold', () => {
    expect(breaches(alarmNamed(cloud, 'IntermediateExpiring'), swept.emf)).toBe(true);
    expect(breaches(alarmNamed(cloud, 'IntermediateExpiring'), clean.emf)).toBe(false);
    const serial = shortIntermediate.serialNumber.toLowerCase().match(/../g)!.join(':');
    expect(swept.report.breaches.filter((breach) => breach.alarm === 'IntermediateExpiring').map((breach) => breach.detail)).toEqual([expect.stringContaining(serial)]);
  });

  it('flags the target that serves another certificate than it stores as unhealthy', () => {
    expect(swept.report.unhealthy.map((entry) => [entry.id, entry.health])).toEqual([['primary/econ-graph/backend-tls', 'StaleServedCertificate']]);
    expect(swept.report.unhealthy[0]!.detail).toContain(servedBefore.toLowerCase().match(/../g)!.join(':'));
    expect(breaches(alarmNamed(cloud, 'TargetsUnhealthy'), swept.emf)).toBe(true);
  });

  it('changes nothing: every Secret’s bytes and Vault’s issuers, default and certificates are as before', async () => {
    expect(swept.execution.status).toBe('SUCCEEDED');
    expect(await state()).toBe(before);
  });
});
