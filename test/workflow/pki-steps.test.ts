import type { FunctionId } from '../../functions/contracts/functions';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type NodeVault = require('node-vault');
import { checkTrust } from '../../functions/domain/trust-checker';
import type { PreparedIntermediate, ActivateIssuerOutput } from '../../functions/contracts/pki-payloads';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { SandboxPki } from '../../sandbox/compose/pki-setup';
import { startPkiCloud } from '../support/local-cloud-fixture';
import { PkiEnvNames } from '../../functions/contracts/env';
import { sandboxVaultClient } from '../../sandbox/compose/sandbox-vault-client';

/**
 * The PKI steps as Lambda handlers, with the environment the synthesized template gives them,
 * logging in to the sandbox Vault with AWS IAM (a SigV4-signed GetCallerIdentity) and driving the
 * PKI engine with node-vault over HTTP.
 */
jest.setTimeout(60_000);
const NOW = () => new Date();
const openssl = spawnSync('openssl', ['version']).status === 0;

describe('the intermediate rotation steps', () => {
  let cloud: LocalCloud;
  let pki: SandboxPki;
  let vault: NodeVault.client;
  // Each step as Lambda runs it: the function's synthesized bundle with its own environment and role.
  const handler = <T>(functionId: FunctionId) => (event: unknown) => cloud.runner.invoke(functionId, event) as Promise<T>;
  const issue = async (issuerRef?: string) => {
    const path = issuerRef ? `pki_int/issuer/${issuerRef}/issue/econ-graph-services` : 'pki_int/issue/econ-graph-services';
    return (await vault.write(path, { common_name: 'backend.econ-graph.svc', key_type: 'ec', key_bits: 256 })).data as {
      certificate: string;
      private_key: string;
      ca_chain: string[];
      serial_number: string;
    };
  };
  const defaultIssuer = async () => ((await vault.read('pki_int/config/issuers')).data as { default: string }).default;
  const issuerIds = async () => ((await vault.list('pki_int/issuers')).data as { keys: string[] }).keys;

  /** A retired certflow issuer whose one leaf lives a second: made first, so the hygiene case finds it expired. */
  let expired: { issuerId: string; leafNotAfter: number };

  beforeAll(async () => {
    ({ cloud, pki } = await startPkiCloud());
    vault = sandboxVaultClient(cloud.sandbox, { token: pki.rootToken });
    // A small issuer bound and a one-second CRL grace, so both rules can be met in this file (before anything runs).
    cloud.runner.overrideTemplateValuesForTest({ [PkiEnvNames.MaxIssuersPerMount]: '4', [PkiEnvNames.RetiredIssuerGraceSeconds]: '1' });
    const csr = (await vault.write('pki_int/issuers/generate/intermediate/internal', { common_name: 'certflow expired test CA', key_type: 'ec', key_name: 'certflow-run-expired-key' })).data as { csr: string; key_id: string };
    const signed = (await vault.write('pki_root/root/sign-intermediate', { csr: csr.csr, ttl: '8760h' })).data as { certificate: string; issuing_ca: string };
    const imported = (await vault.write('pki_int/issuers/import/bundle', { pem_bundle: `${signed.certificate}\n${signed.issuing_ca}` })).data as { mapping: Record<string, string> };
    const issuerId = Object.entries(imported.mapping).find(([, key]) => key === csr.key_id)![0];
    await vault.write(`pki_int/issuer/${issuerId}`, { issuer_name: 'certflow-run-expired', usage: 'read-only,crl-signing,ocsp-signing,issuing-certificates' });
    const leaf = (await vault.write(`pki_int/issuer/${issuerId}/issue/econ-graph-services`, { common_name: 'backend.econ-graph.svc', ttl: '1s', key_type: 'ec', key_bits: 256 })).data as { expiration: number };
    await vault.write(`pki_int/issuer/${issuerId}`, { issuer_name: 'certflow-run-expired', usage: 'read-only,crl-signing,ocsp-signing' });
    expired = { issuerId, leafNotAfter: leaf.expiration * 1000 };
  });
  afterAll(async () => cloud?.sandbox.close());

  let prepared: PreparedIntermediate;
  let oldLeaf: Awaited<ReturnType<typeof issue>>;

  it('prepares a new intermediate named after the run, signed by the root, imported with its chain, and not default', async () => {
    oldLeaf = await issue();
    const before = await issuerIds();

    prepared = await handler<PreparedIntermediate>('PrepareIntermediate')({ runId: 'run-2026-11-28' });

    expect(prepared.issuerName).toBe('certflow-run-2026-11-28');
    expect(prepared.reused).toBe(false);
    expect(await issuerIds()).toHaveLength(before.length + 1);
    expect(await defaultIssuer()).toBe(pki.intermediateIssuerId);
    const issuer = (await vault.read(`pki_int/issuer/${prepared.issuerId}`)).data as { ca_chain: string[]; leaf_not_after_behavior: string; usage: string };
    expect(issuer.ca_chain).toHaveLength(2);
    expect(issuer.ca_chain[1]!.trim()).toBe(pki.rootCertificate.trim());
    expect(issuer.leaf_not_after_behavior).toBe('err');
    expect(issuer.usage.split(',')).toContain('issuing-certificates');
    // The root mount stores what it signed, so the intermediate can be revoked there by serial (4.5).
    const rootCerts = ((await vault.list('pki_root/certs')).data as { keys: string[] }).keys;
    expect(rootCerts).toContain(prepared.serialNumber);
  });

  it('reuses the run issuer when Prepare is repeated with the same run id', async () => {
    const before = await issuerIds();

    const again = await handler<PreparedIntermediate>('PrepareIntermediate')({ runId: 'run-2026-11-28' });

    expect(again).toEqual({ ...prepared, reused: true });
    expect(await issuerIds()).toEqual(before);
  });

  it('refuses to activate when the default moved since preflight, and changes nothing', async () => {
    const call = handler('ActivateIssuer')({ runId: 'run-2026-11-28', issuerId: prepared.issuerId, expectedPreviousDefault: prepared.issuerId.replace(/.$/, '0') });

    await expect(call).rejects.toMatchObject({ name: 'IssuerStateConflictError' });
    expect(await defaultIssuer()).toBe(pki.intermediateIssuerId);
  });

  it('activates the new issuer: new leaves chain through it to the root, and old leaves still validate', async () => {
    const activated = await handler<ActivateIssuerOutput>('ActivateIssuer')({
      runId: 'run-2026-11-28',
      issuerId: prepared.issuerId,
      expectedPreviousDefault: pki.intermediateIssuerId,
    });
    const repeated = await handler<ActivateIssuerOutput>('ActivateIssuer')({
      runId: 'run-2026-11-28',
      issuerId: prepared.issuerId,
      expectedPreviousDefault: pki.intermediateIssuerId,
    });

    expect(activated).toEqual({ runId: 'run-2026-11-28', activeIssuerId: prepared.issuerId, previousDefault: pki.intermediateIssuerId, changed: true });
    expect(repeated.changed).toBe(false);
    const newLeaf = await issue();
    const bundle = pki.rootCertificate;
    const newVerdict = await checkTrust({ servedChain: [newLeaf.certificate, newLeaf.ca_chain[0]].join('\n'), trustBundle: bundle, hostName: 'backend.econ-graph.svc', now: NOW() });
    const oldVerdict = await checkTrust({ servedChain: [oldLeaf.certificate, oldLeaf.ca_chain[0]].join('\n'), trustBundle: bundle, hostName: 'backend.econ-graph.svc', now: NOW() });
    expect(newVerdict.reason).toBe('Valid');
    expect(oldVerdict.reason).toBe('Valid');
    const newIssuerPem = ((await vault.read(`pki_int/issuer/${prepared.issuerId}`)).data as { certificate: string }).certificate;
    expect(newLeaf.ca_chain[0]!.trim()).toBe(newIssuerPem.trim());
    expect((await checkTrust({ servedChain: newLeaf.certificate, trustBundle: bundle, now: NOW() })).reason).toBe('MissingIntermediate');
  });

  (openssl ? it : it.skip)('openssl verifies leaves from both issuers against the root', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certflow-openssl-'));
    writeFileSync(join(dir, 'root.pem'), pki.rootCertificate);
    return issue().then((newLeaf) => {
      for (const [name, leaf] of [['old', oldLeaf], ['new', newLeaf]] as const) {
        writeFileSync(join(dir, `${name}-leaf.pem`), leaf.certificate);
        writeFileSync(join(dir, `${name}-int.pem`), leaf.ca_chain[0]!);
        const out = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, `${name}-int.pem`), join(dir, `${name}-leaf.pem`)], { encoding: 'utf8' });
        expect(out.trim()).toBe(`${join(dir, `${name}-leaf.pem`)}: OK`);
      }
    });
  });

  it('retires the old issuer: it signs CRLs but issues nothing', async () => {
    const retired = await handler<{ usage: string[] }>('RetireIssuer')({ runId: 'run-2026-11-28', issuerId: pki.intermediateIssuerId });

    expect(retired.usage).toEqual(['crl-signing', 'ocsp-signing', 'read-only']);
    // Vault refuses an issuer without issuing-certificates with 500 (an InternalError from EnsureUsage).
    await expect(issue(pki.intermediateIssuerId)).rejects.toMatchObject({ response: { statusCode: 500 } });
    // Revoking an old leaf still works and lands on the OLD issuer's CRL (4.13).
    await vault.write('pki_int/revoke', { serial_number: oldLeaf.serial_number });
    // auto_rebuild is on (the sandbox's set-up): a revoke does not rebuild the CRL, a rotate does (4.12).
    await vault.read('pki_int/crl/rotate');
    const crl = ((await vault.read(`pki_int/issuer/${pki.intermediateIssuerId}/crl`)).data as { crl: string }).crl;
    const verdict = await checkTrust({ servedChain: [oldLeaf.certificate, oldLeaf.ca_chain[0]].join('\n'), trustBundle: pki.rootCertificate, now: NOW(), crls: [crl] });
    expect(verdict.reason).toBe('Revoked');
  });

  it('refuses to retire the default issuer', async () => {
    await expect(handler('RetireIssuer')({ runId: 'run-2026-11-28', issuerId: prepared.issuerId })).rejects.toMatchObject({
      name: 'IssuerStateConflictError',
    });
  });

  it('restores issuance to the previous issuer and stops the new one issuing, twice with the same result', async () => {
    const input = { runId: 'run-2026-11-28', previousDefault: pki.intermediateIssuerId, newIssuerId: prepared.issuerId };
    const first = await handler('RestoreIssuer')(input);
    const second = await handler('RestoreIssuer')(input);

    expect(second).toEqual(first);
    expect(await defaultIssuer()).toBe(pki.intermediateIssuerId);
    const leaf = await issue();
    expect(leaf.ca_chain[0]!.trim()).toBe(pki.intermediateCertificate.trim());
    await expect(issue(prepared.issuerId)).rejects.toMatchObject({ response: { statusCode: 500 } });
  });

  let contained: PreparedIntermediate;

  it('refuses a new intermediate at pki.maxIssuersPerMount with IssuerLimitReachedError and creates nothing, but never refuses a compromise response', async () => {
    const before = await issuerIds();
    const keysBefore = ((await vault.list('pki_int/keys')).data as { keys: string[] }).keys;

    const refusal = handler('PrepareIntermediate')({ runId: 'run-over-bound' });

    await expect(refusal).rejects.toMatchObject({ name: 'IssuerLimitReachedError', message: expect.stringContaining(`pki_int holds ${before.length} issuers and pki.maxIssuersPerMount is 4`) });
    expect(await issuerIds()).toEqual(before);
    expect(((await vault.list('pki_int/keys')).data as { keys: string[] }).keys).toEqual(keysBefore);
    contained = await handler<PreparedIntermediate>('PrepareIntermediate')({ runId: 'run-compromise-over-bound', purpose: 'compromise' });
    expect(await issuerIds()).toContain(contained.issuerId);
  });

  it('deletes a retired certflow issuer once its last leaf expired and its CRL grace is over, keeps the others, and schedules Vault tidy on both mounts', async () => {
    // The leaf lived a second and the grace is a second: wait out what is left of both (usually nothing).
    const left = expired.leafNotAfter + 1000 - Date.now();
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left + 50));
    const run = { runId: 'run-hygiene', requestedAt: new Date().toISOString(), trigger: 'test', forceIntermediate: false, forceRenewal: false, previousDefault: pki.intermediateIssuerId, nodesUnsealedByPreflight: [] };

    const detail = await handler<{ issuers: { count: number; bound: number; deleted: string[]; kept: number } }>('FinalizeRotation')({ run });

    // Finalize first retires what an unfinished run left able to issue (the compromise's issuer,
    // which signed nothing): with no leaf at all, it is past its grace too.
    expect([...detail.issuers.deleted].sort()).toEqual([expired.issuerId, contained.issuerId].sort());
    expect(detail.issuers.bound).toBe(4);
    const left_ = await issuerIds();
    expect(left_).not.toContain(expired.issuerId);
    expect(left_).not.toContain(contained.issuerId);
    // The run's retired issuer still has a valid leaf; the default is never a candidate.
    expect(left_).toEqual(expect.arrayContaining([prepared.issuerId, pki.intermediateIssuerId]));
    expect(detail.issuers.count).toBe(left_.length);
    for (const mount of ['pki_int', 'pki_root']) {
      expect((await vault.read(`${mount}/config/auto-tidy`)).data).toMatchObject({ enabled: true, tidy_cert_store: true, tidy_revoked_certs: true, tidy_expired_issuers: true, interval_duration: 12 * 3600 });
    }
  });

  it('rejects a malformed step input without calling Vault', async () => {
    await expect(handler('ActivateIssuer')({ runId: 'r', issuerId: '' })).rejects.toMatchObject({ name: 'InvalidInputError' });
  });
});
