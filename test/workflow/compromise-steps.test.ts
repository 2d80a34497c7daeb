import { functionRoleName, functionsWithVaultIdentity, VaultIdentityGroups, type FunctionId } from '../../functions/contracts/functions';
import { signedGetCallerIdentity } from '../../functions/adapters/vault/vault-login';
import { systemClock } from '../../functions/ports/clock';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID, X509Certificate } from 'node:crypto';
import type NodeVault = require('node-vault');
import { K8sNames } from '../../functions/contracts/targets';
import { backupSecretName } from '../../functions/domain/backup-naming';
import { CompromiseDetailTypes, CompromiseSource, type CompromiseReport } from '../../functions/contracts/compromise';
import type { CompromiseContainedDetail, CompromisePlan, CompromiseRevokeOutput, CompromiseValidateOutput } from '../../functions/contracts/compromise-payloads';
import type { ActivateIssuerOutput, PreparedIntermediate } from '../../functions/contracts/pki-payloads';
import type { BatchProgress } from '../../functions/contracts/rotation-payloads';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { ReadyFleet } from '../../sandbox/compose/fleet';
import { startFaultFleet } from '../support/fault-matrix';
import { repoRoot } from '../../lib/repo-root';
import { RotationTransientRetry, VaultSealedRetry } from '../../lib/constructs/retry-policies';
import { SANDBOX_AUDIT_DEVICE, shippedVaultPolicyPath, vaultPolicyName } from '../../sandbox/compose/pki-setup';
import { SANDBOX_ACCOUNT } from '../../sandbox/compose/sandbox';
import { snapshot, trustBreaks } from '../support/invariants';
import { sandboxVaultClient } from '../../sandbox/compose/sandbox-vault-client';

/**
 * The compromise response's steps as Lambda handlers against the real sandbox (Vault PKI over
 * HTTP, the Kubernetes emulator, mTLS endpoints), with the state machine's middle (reissue the
 * affected batches) played by the rotation's RenewBatch and CheckBatch handlers.
 */
jest.setTimeout(120_000);
const openssl = spawnSync('openssl', ['version']).status === 0;

/** Serials as openssl prints them: upper-case hex, no separators, no leading zeros. */
const bare = (serial: string) => serial.replace(/[:-]/g, '').toUpperCase().replace(/^0+(?=.)/, '');
function opensslCrlSerials(crlPem: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'certflow-crl-'));
  writeFileSync(join(dir, 'crl.pem'), crlPem);
  const result = spawnSync('openssl', ['crl', '-inform', 'PEM', '-noout', '-text', '-in', join(dir, 'crl.pem')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl crl failed: ${result.stderr}`);
  return [...result.stdout.matchAll(/Serial Number:\s*([0-9A-Fa-f]+)/g)].map((match) => bare(match[1]!));
}

describe('the compromise response steps', () => {
  let cloud: LocalCloud;
  let fleet: ReadyFleet;
  let vault: NodeVault.client;
  // Each step as Lambda runs it: the function's synthesized bundle with its own environment and role.
  const call = <T>(functionId: FunctionId) => (event: unknown) => cloud.runner.invoke(functionId, event) as Promise<T>;
  const report = (scope: CompromiseReport['scope']): CompromiseReport => ({ scope, reason: 'keyCompromise', reportedBy: 'secops@econgraph', ticket: 'SEC-6' });
  const crlPem = async (mount: string, issuerId: string) => {
    const crl = ((await vault.read(`${mount}/issuer/${issuerId}/crl`)).data as { crl: string }).crl;
    return crl.includes('BEGIN') ? crl : `-----BEGIN X509 CRL-----\n${crl.match(/.{1,64}/g)!.join('\n')}\n-----END X509 CRL-----\n`;
  };

  /** The state machine's middle: renew each batch, then look until its rollouts are done. */
  async function reissue(runId: string, batchIds: string[]) {
    const requestedAt = new Date().toISOString();
    const renewed: Array<{ service: string; oldSerial?: string; newSerial?: string }> = [];
    for (const batchId of batchIds) {
      const output = await call<{ serials: typeof renewed }>('RenewBatch')({ runId, requestedAt, batchId });
      renewed.push(...output.serials);
      let progress: BatchProgress | undefined;
      for (let look = 0; look < 100 && !progress?.done; look += 1) {
        if (look) await new Promise((resolve) => setTimeout(resolve, 50));
        progress = await call<BatchProgress>('CheckBatch')({ runId, requestedAt, batchId, attempt: 0 });
      }
      expect(progress?.done).toBe(true);
    }
    return renewed;
  }

  beforeAll(async () => {
    ({ cloud, fleet } = await startFaultFleet());
    vault = sandboxVaultClient(cloud.sandbox, { token: fleet.pki.rootToken });
  });
  afterAll(async () => cloud?.sandbox.close());

  it('rejects a malformed event with a Compromise Rejected detail and changes nothing in the sandbox', async () => {
    const before = await snapshot(cloud, fleet.seed);
    const issuersBefore = ((await vault.list('pki_int/issuers')).data as { keys: string[] }).keys;

    const output = await call<CompromiseValidateOutput>('CompromiseValidate')({
      source: CompromiseSource,
      'detail-type': CompromiseDetailTypes.Reported,
      detail: JSON.stringify({ scope: { kind: 'intermediate', issuerId: fleet.pki.intermediateIssuerId }, reason: 'keyStolen', reportedBy: 'mallory' }),
    });

    expect(output).toEqual(expect.objectContaining({ valid: false, detailType: 'Compromise Rejected', reason: expect.stringContaining('detail.reason') }));
    expect(output.rejectedDetail?.reportedBy).toBe('mallory');
    expect(await snapshot(cloud, fleet.seed)).toEqual(before);
    expect(((await vault.list('pki_int/issuers')).data as { keys: string[] }).keys).toEqual(issuersBefore);
    expect(((await vault.read(`pki_int/issuer/${fleet.pki.intermediateIssuerId}`)).data as { revoked: boolean }).revoked).toBe(false);
  });

  it.each([
    ['a services scope naming no managed service', { kind: 'services', services: ['no-such-service'] }, 'no-such-service is not declared'],
    ['a services scope naming one managed and one unknown service', { kind: 'services', services: ['backend', 'ghost'] }, 'ghost is not declared'],
    ['a serials scope with a serial certflow never issued', { kind: 'serials', serials: ['de:ad:be:ef'] }, 'de:ad:be:ef is not a certificate certflow issued'],
    ['a serials scope of more than 20 octets', { kind: 'serials', serials: ['01'.repeat(21)] }, 'not a serial of at most 20 octets'],
    ['an intermediate scope whose issuer is not on the mount', { kind: 'intermediate', issuerId: '00000000-0000-4000-8000-000000000000' }, 'scope.issuerId'],
  ] as const)('rejects %s with the reason, writing no batch', async (_name, scope, reason) => {
    // One run per report: ledger records are immutable, and each rejection is recorded in its run.
    const plan = await call<CompromisePlan>('CompromisePlan')({ runId: `compromise-none-${_name.replace(/\W+/g, '-')}`, report: report(scope as CompromiseReport['scope']) });

    expect(plan).toEqual(expect.objectContaining({ accepted: false, batchIds: [], rejectedReason: expect.stringContaining(reason) }));
  });

  describe('the Vault identities per group of functions', () => {
    const awsAuth = () => {
      const auth = cloud.sandbox.config.vault.auth;
      if (auth.method !== 'aws-iam') throw new Error('the seed logs in with AWS IAM');
      return auth;
    };
    /** An AWS IAM login to `vaultRole` signed with `functionId`'s own role credentials, as its bundle signs it. */
    async function loginAs(functionId: FunctionId, vaultRole: string, serverIdHeader: string | null = awsAuth().iamServerIdHeader ?? null) {
      const roleArn = `arn:aws:iam::${SANDBOX_ACCOUNT}:role/${functionRoleName(cloud.sandbox.config.name, functionId)}`;
      const role = cloud.sandbox.identities()!.roles.find((entry) => entry.roleArn === roleArn)!;
      const request = await signedGetCallerIdentity({ credentials: async () => ({ ...role.credentials }), clock: systemClock, ...(serverIdHeader ? { serverIdHeader } : {}) });
      const answer = (await sandboxVaultClient(cloud.sandbox).write(`auth/${awsAuth().mount}/login`, { role: vaultRole, ...request })) as { auth: { client_token: string } };
      return sandboxVaultClient(cloud.sandbox, { token: answer.auth.client_token });
    }

    it('loads exactly the shipped policies, each group’s Vault role bound to exactly its functions’ IAM roles and granting only its policy', async () => {
      const policies = ((await vault.list('sys/policies/acl')).data as { keys: string[] }).keys;
      expect(policies.sort()).toEqual(['certflow-compromise', 'certflow-rotation', 'default', 'root']);
      for (const group of VaultIdentityGroups) {
        expect(((await vault.read(`sys/policies/acl/${vaultPolicyName(group)}`)).data as { policy: string }).policy).toBe(readFileSync(shippedVaultPolicyPath(group), 'utf8'));
        const role = (await vault.read(`auth/${awsAuth().mount}/role/${awsAuth().roles[group]}`)).data as { bound_iam_principal_arn: string[]; token_policies: string[] };
        const expected = functionsWithVaultIdentity(group).map((functionId) => `arn:aws:iam::${SANDBOX_ACCOUNT}:role/${functionRoleName(cloud.sandbox.config.name, functionId)}`);
        expect([...role.bound_iam_principal_arn].sort()).toEqual(expected.sort());
        expect(role.token_policies).toEqual([vaultPolicyName(group)]);
      }
      expect(functionsWithVaultIdentity('compromise')).toEqual(['CompromisePlan', 'CompromiseRevoke']);
    });

    it('refuses a function of the rotation group the compromise group’s Vault role, and a login without the signed server id', async () => {
      await expect(loginAs('RenewBatch', awsAuth().roles.compromise)).rejects.toThrow(/IAM Principal "arn:aws:sts::000000000000:assumed-role\/certflow-econgraph-RenewBatch\/RenewBatch" does not belong to the role "certflow-compromise"/);
      await expect(loginAs('CompromiseRevoke', awsAuth().roles.rotation)).rejects.toThrow(/does not belong to the role "certflow-rotation"/);
      await expect(loginAs('RenewBatch', awsAuth().roles.rotation, null)).rejects.toThrow(/error validating X-Vault-AWS-IAM-Server-ID header: missing header/);
      await expect(loginAs('RenewBatch', awsAuth().roles.rotation, 'vault.elsewhere.internal')).rejects.toThrow(/expected "vault.econ-graph.internal" but got "vault.elsewhere.internal"/);
    });

    it('lets the rotation group issue but never revoke, and the compromise group revoke but never switch issuers', async () => {
      const mount = cloud.sandbox.config.vault.intermediateMount;
      const rotation = await loginAs('RenewBatch', awsAuth().roles.rotation);
      const compromise = await loginAs('CompromiseRevoke', awsAuth().roles.compromise);
      await expect(rotation.write(`${mount}/revoke`, { serial_number: '01' })).rejects.toThrow(/permission denied/);
      await expect(compromise.write(`${mount}/config/issuers`, { default: fleet.pki.intermediateIssuerId })).rejects.toThrow(/permission denied/);
      await expect(compromise.write(`${mount}/issuers/generate/intermediate/internal`, { common_name: 'x' })).rejects.toThrow(/permission denied/);
      await expect(compromise.read(`${mount}/config/issuers`)).rejects.toThrow(/permission denied/);
      expect(((await rotation.read(`${mount}/config/issuers`)).data as { default: string }).default).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('gives a function outside every group no Vault identity at all', async () => {
      const env = await cloud.runner.resolvedFunctionEnv('CheckBatch');
      expect(JSON.parse(env.CERTFLOW_VAULT_AUTH!)).toEqual({ method: 'none' });
      await expect(loginAs('CheckBatch', awsAuth().roles.rotation)).rejects.toThrow(/does not belong to the role/);
    });

    it('refuses to rotate, typed and unretried, when Vault has no audit device, and passes Preflight once one is enabled again', async () => {
      const preflight = () => call<{ previousDefault: string }>('Preflight')({ runId: randomUUID(), startedAt: new Date().toISOString(), request: { trigger: 'sandbox' } });
      const device = ((await vault.read('sys/audit')).data as Record<string, { type: string; options: Record<string, string> }>)[`${SANDBOX_AUDIT_DEVICE}/`]!;
      await vault.delete(`sys/audit/${SANDBOX_AUDIT_DEVICE}`);
      try {
        await expect(preflight()).rejects.toMatchObject({ name: 'VaultAuditMissingError', message: expect.stringContaining('no audit device') });
      } finally {
        await vault.write(`sys/audit/${SANDBOX_AUDIT_DEVICE}`, { type: device.type, options: device.options });
      }
      expect([RotationTransientRetry, VaultSealedRetry].flatMap((retry) => retry.errors ?? [])).not.toContain('VaultAuditMissingError');
      expect((await preflight()).previousDefault).toBe(fleet.pki.intermediateIssuerId);
    });

    it('runs under the shipped Vault policy: a capability missing from it fails the step typed and unretried, and creates nothing', async () => {
      const name = vaultPolicyName('rotation');
      const shipped = readFileSync(shippedVaultPolicyPath('rotation'), 'utf8');
      const lacking = JSON.parse(shipped) as { path: Record<string, unknown> };
      delete lacking.path[`${cloud.sandbox.config.vault.intermediateMount}/issuers/generate/intermediate/internal`];
      const issuersBefore = ((await vault.list(`${cloud.sandbox.config.vault.intermediateMount}/issuers`)).data as { keys: string[] }).keys;
      await vault.write(`sys/policies/acl/${name}`, { policy: JSON.stringify(lacking) });
      try {
        await expect(call('PrepareIntermediate')({ runId: randomUUID() })).rejects.toMatchObject({ name: 'VaultPermissionError', message: expect.stringContaining('permission denied') });
      } finally {
        await vault.write(`sys/policies/acl/${name}`, { policy: shipped });
      }
      expect(((await vault.list(`${cloud.sandbox.config.vault.intermediateMount}/issuers`)).data as { keys: string[] }).keys).toEqual(issuersBefore);
      // Unretried: no retry policy of the state machines names it.
      expect([RotationTransientRetry, VaultSealedRetry].flatMap((retry) => retry.errors ?? [])).not.toContain('VaultPermissionError');
    });
  });

  describe('a compromised service certificate (services scope, backend)', () => {
    const runId = 'compromise-backend-1';
    let plan: CompromisePlan;
    let oldSerial: string;
    let newSerial: string | undefined;
    let revoked: CompromiseRevokeOutput;

    it('plans backend’s target and its current serial', async () => {
      oldSerial = cloud.sandbox.services.served('backend')!.serial;

      plan = await call<CompromisePlan>('CompromisePlan')({ runId, report: report({ kind: 'services', services: ['backend'] }) });

      expect(plan).toEqual(expect.objectContaining({ scope: 'services', accepted: true, rejectedReason: '', batchIds: ['c0001'] }));
      expect(plan.affected.services).toEqual(['backend']);
      expect(plan.affected.serialsToRevoke).toEqual([oldSerial]);
    });

    it.each([
      ['upper-case hyphen', (serial: string) => serial.toUpperCase().replace(/:/g, '-')],
      ['OpenSSL’s bare hex', (serial: string) => serial.replace(/:/g, '').toUpperCase()],
      ['bare hex with a leading zero byte', (serial: string) => `00${serial.replace(/:/g, '')}`],
      ['colons with a leading 00:', (serial: string) => `00:${serial}`],
    ])('finds the same target, with the same scope key, when the serial is reported in %s form', async (_form, spell) => {
      const bySerial = await call<CompromisePlan>('CompromisePlan')({ runId: 'compromise-backend-serial', report: report({ kind: 'serials', serials: [spell(oldSerial)] }) });
      const canonical = await call<CompromisePlan>('CompromisePlan')({ runId: 'compromise-backend-serial', report: report({ kind: 'serials', serials: [oldSerial] }) });

      expect(bySerial.affected.services).toEqual(['backend']);
      expect(bySerial.affected.serialsToRevoke).toEqual([oldSerial]);
      expect(bySerial.scopeKey).toBe(canonical.scopeKey);
    });

    it('reissues backend from the plan’s batch: the service serves a new certificate', async () => {
      const renewed = await reissue(runId, plan.batchIds);

      newSerial = renewed.find((entry) => entry.service === 'backend')?.newSerial;
      expect(newSerial).toBeDefined();
      expect(newSerial).not.toBe(oldSerial);
      expect(cloud.sandbox.services.served('backend')?.serial).toBe(newSerial);
    });

    it('revokes the old serial: it is on the intermediate issuer’s CRL, and every service still verifies', async () => {
      revoked = await call<CompromiseRevokeOutput>('CompromiseRevoke')({ runId, serials: plan.affected.serialsToRevoke });

      expect(revoked).toEqual(expect.objectContaining({ revoked: [oldSerial], issuerRevoked: false, rootSerialRevoked: false, expired: [] }));
      // The reissue backed up backend's compromised Secret; that backup is gone, and no backup anywhere holds the old key.
      expect(revoked.backupsDestroyed).toEqual([`primary/econ-graph/${backupSecretName('backend-tls', runId)}`]);
      const leftovers = cloud.sandbox.kubernetes.store.list('secrets', { namespace: 'econ-graph', labelSelector: K8sNames.BackupRunLabel });
      expect(leftovers.filter((secret) => Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString().length && new X509Certificate(Buffer.from(secret.data!['tls.crt']!, 'base64')).serialNumber.toLowerCase() === oldSerial.replace(/:/g, ''))).toEqual([]);
      expect(revoked.onCrl).toEqual({ [fleet.pki.intermediateIssuerId]: [oldSerial] });
      const stored = (await vault.read(`pki_int/cert/${oldSerial}`)).data as { revocation_time: number };
      expect(stored.revocation_time).toBeGreaterThan(0);
      expect(cloud.sandbox.services.served('backend')?.serial).toBe(newSerial);
      expect(await trustBreaks(cloud, fleet.seed)).toEqual([]);
    });

    (openssl ? it : it.skip)('openssl reads the old serial on the intermediate issuer’s CRL, and not the new one (skipped without openssl)', async () => {
      const serials = opensslCrlSerials(await crlPem('pki_int', fleet.pki.intermediateIssuerId));

      expect(serials).toContain(bare(oldSerial));
      expect(serials).not.toContain(bare(newSerial!));
    });

    it('revokes again with the same input and ends in the same state (idempotent)', async () => {
      const again = await call<CompromiseRevokeOutput>('CompromiseRevoke')({ runId, serials: plan.affected.serialsToRevoke });

      expect(again).toEqual(revoked);
    });

    it('reports Compromise Contained with the service, the revoked serial and timings from the report', async () => {
      const reportedAt = new Date(Date.now() - 30_000).toISOString();

      const detail = await call<CompromiseContainedDetail>('CompromiseReport')({ runId, report: report({ kind: 'services', services: ['backend'] }), reportedAt });

      expect(detail).toEqual(
        expect.objectContaining({ runId, reportedBy: 'secops@econgraph', ticket: 'SEC-6', reason: 'keyCompromise', scope: 'services', blastRadius: { services: ['backend'], serialsRevoked: [oldSerial], issuerIds: {}, backupsDestroyed: revoked.backupsDestroyed } }),
      );
      expect(detail.timings.reportedAt).toBe(reportedAt);
      expect(detail.timings.seconds).toBeGreaterThanOrEqual(30);
    });
  });

  describe('a compromised intermediate (intermediate scope)', () => {
    const runId = 'compromise-intermediate-1';
    let plan: CompromisePlan;
    let prepared: PreparedIntermediate;
    let revoked: CompromiseRevokeOutput;

    it('plans every target the old intermediate signed, and the issuer’s own serial', async () => {
      plan = await call<CompromisePlan>('CompromisePlan')({ runId, report: report({ kind: 'intermediate', issuerId: fleet.pki.intermediateIssuerId }) });

      expect(plan.affected.services).toEqual(fleet.seed.services.map((service) => service.name).sort());
      expect(plan.affected.serialsToRevoke).toEqual(fleet.seed.services.map((service) => cloud.sandbox.services.served(service.name)!.serial).sort());
      expect(plan.affected.issuerId).toBe(fleet.pki.intermediateIssuerId);
      expect(plan.affected.issuerSerial).toBe(fleet.pki.intermediateSerial);
      expect(plan.batchIds.length).toBeGreaterThanOrEqual(1);
    });

    it('moves to a new intermediate and reissues every target from it', async () => {
      prepared = await call<PreparedIntermediate>('PrepareIntermediate')({ runId });
      const activated = await call<ActivateIssuerOutput>('ActivateIssuer')({ runId, issuerId: prepared.issuerId, expectedPreviousDefault: fleet.pki.intermediateIssuerId });

      const renewed = await reissue(runId, plan.batchIds);

      expect(activated.changed).toBe(true);
      expect(renewed.map((entry) => entry.service).sort()).toEqual(plan.affected.services);
      for (const service of plan.affected.services) expect(plan.affected.serialsToRevoke).not.toContain(cloud.sandbox.services.served(service)?.serial);
    });

    it('revokes the old issuer on the intermediate mount and its serial on the root mount, and every service verifies', async () => {
      revoked = await call<CompromiseRevokeOutput>('CompromiseRevoke')({
        runId,
        serials: plan.affected.serialsToRevoke,
        issuerId: plan.affected.issuerId,
        rootSerial: plan.affected.issuerSerial,
      });

      expect(revoked.issuerRevoked).toBe(true);
      expect(revoked.rootSerialRevoked).toBe(true);
      expect(((await vault.read(`pki_int/issuer/${fleet.pki.intermediateIssuerId}`)).data as { revoked: boolean }).revoked).toBe(true);
      expect(revoked.onCrl[fleet.pki.rootIssuerId]).toEqual([fleet.pki.intermediateSerial]);
      expect(revoked.onCrl[fleet.pki.intermediateIssuerId]).toEqual(plan.affected.serialsToRevoke);
      expect(await trustBreaks(cloud, fleet.seed)).toEqual([]);
    });

    it('takes the intermediate’s serial from the issuer certificate when the payload leaves it out', async () => {
      const again = await call<CompromiseRevokeOutput>('CompromiseRevoke')({ runId, serials: plan.affected.serialsToRevoke, issuerId: plan.affected.issuerId });

      expect(again).toEqual(revoked);
    });

    (openssl ? it : it.skip)('openssl reads the old intermediate’s serial on the root’s CRL (skipped without openssl)', async () => {
      const serials = opensslCrlSerials(await crlPem('pki_root', fleet.pki.rootIssuerId));

      expect(serials).toContain(bare(fleet.pki.intermediateSerial));
    });

    it('reports the revoked and the new issuer ids in Compromise Contained', async () => {
      const detail = await call<CompromiseContainedDetail>('CompromiseReport')({ runId, report: report({ kind: 'intermediate', issuerId: fleet.pki.intermediateIssuerId }), newIssuerId: prepared.issuerId });

      expect(detail.blastRadius).toEqual({
        services: plan.affected.services,
        serialsRevoked: [...plan.affected.serialsToRevoke, fleet.pki.intermediateSerial],
        issuerIds: { revoked: fleet.pki.intermediateIssuerId, new: prepared.issuerId },
        backupsDestroyed: revoked.backupsDestroyed,
      });
      expect(detail.timings.reportedAt).toBeUndefined();
    });
  });
});
