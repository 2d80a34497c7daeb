import NodeVault = require('node-vault');
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

/**
 * VerifyBatch against the sandbox's Vault: it reads every issuer's CRL itself, so a revoked leaf
 * is Revoked and a CRL past its nextUpdate is CrlStale (issue 12: production never passed CRLs),
 * and every declared name of a target must be covered, not only the first.
 */
jest.setTimeout(120_000);

describe('VerifyBatch checks revocation and every declared name', () => {
  let cloud: LocalCloud;
  let pki: SandboxPki;
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
  afterAll(async () => cloud?.sandbox.close());

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
    const vault = NodeVault({ endpoint: cloud.sandbox.vault.nodes[0]!.url, token: pki.rootToken });
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
