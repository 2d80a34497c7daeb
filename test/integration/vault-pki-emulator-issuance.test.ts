import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { createPublicKey, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import NodeVault = require('node-vault');
import { bootstrapPki, type PkiBootstrapResult } from '../../sandbox/vault/pki/pki-bootstrap';
import { createPkiRoutes } from '../../sandbox/vault/pki/pki-routes';
import { startVaultCluster, type VaultClusterHandle } from '../../sandbox/vault/vault-cluster';

/**
 * The Vault emulator's PKI engine, part 2: issuing and signing leaves, revocation, stored
 * certificates, real per-issuer CRLs (checked with openssl where it is installed), tidy, and the
 * pki-bootstrap helper, over HTTP with the real node-vault client (VAULT_API.md 4.10-4.14, 7).
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

interface ApiError {
  message: string;
  response?: { statusCode: number; body: { errors?: string[]; warnings?: string[] | null; data?: unknown } };
}

interface Reply {
  data: any;
  warnings: string[] | null;
  lease_id: string;
  lease_duration: number;
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const OPENSSL = spawnSync('openssl', ['version']).status === 0;
/** openssl checks run where openssl is installed; elsewhere they show up as skipped, saying why. */
const withOpenssl = OPENSSL ? it : (name: string, fn: () => Promise<void>) => it.skip(`${name} [skipped: openssl is not on PATH]`, fn);

let handle: VaultClusterHandle;
let rootToken: string;
let vault: NodeVault.client;
let pki: PkiBootstrapResult;
let mountCounter = 0;

beforeAll(async () => {
  handle = await startVaultCluster({ nodes: [{ id: 'vault-0' }, { id: 'vault-1' }], routes: [createPkiRoutes()] });
  ({ rootToken } = await handle.bootstrap({ shares: 1, threshold: 1 }));
  vault = NodeVault({ endpoint: handle.node('vault-0').url, token: rootToken });
  pki = await bootstrapPki({ handle, rootMount: 'pki_root', intermediateMount: 'pki_int', role: 'web', allowedDomains: ['example.com'], keyType: 'ec' });
});

afterAll(async () => {
  await handle.close();
});

async function rejection(call: Promise<unknown>): Promise<ApiError> {
  try {
    await call;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected the call to reject');
}

function parse(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

function ekus(cert: x509.X509Certificate): string[] {
  return (cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? []).map(String);
}

function sans(cert: x509.X509Certificate): string[] {
  return (cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? []).map((item) => `${item.type}:${item.value}`);
}

/** Serial as a CRL entry or openssl prints it: upper-case hex, no separators. */
function bareSerial(serial: string): string {
  return serial.replace(/:/g, '').toUpperCase();
}

function unauthenticated(path: string): Promise<Response> {
  return fetch(`${handle.node('vault-0').url}/v1/${path}`);
}

interface Pair {
  rootMount: string;
  intMount: string;
  rootIssuerId: string;
  intIssuerId: string;
  rootPem: string;
  intPem: string;
}

/** A root mount and an intermediate mount of its own, with an `ec` role `web` for example.com. */
async function newPair(options: { intTtl?: string; intKeyType?: 'ec' | 'rsa'; client?: NodeVault.client } = {}): Promise<Pair> {
  const client = options.client ?? vault;
  mountCounter += 1;
  const rootMount = `root_${mountCounter}`;
  const intMount = `int_${mountCounter}`;
  for (const mount of [rootMount, intMount]) await client.write(`sys/mounts/${mount}`, { type: 'pki', config: { max_lease_ttl: '87600h' } });
  const root = (await client.write(`${rootMount}/root/generate/internal`, { common_name: `Root ${mountCounter}`, key_type: 'ec', ttl: '87600h' })) as Reply;
  const csr = (await client.write(`${intMount}/intermediate/generate/internal`, { common_name: `Int ${mountCounter}`, key_type: options.intKeyType ?? 'ec' })) as Reply;
  const signed = (await client.write(`${rootMount}/root/sign-intermediate`, { csr: csr.data.csr, ttl: options.intTtl ?? '43800h' })) as Reply;
  const imported = (await client.write(`${intMount}/intermediate/set-signed`, { certificate: `${signed.data.certificate}\n${signed.data.issuing_ca}` })) as Reply;
  const intIssuerId = Object.entries(imported.data.mapping as Record<string, string>).find(([, key]) => key === csr.data.key_id)?.[0] ?? '';
  await client.write(`${intMount}/roles/web`, { allowed_domains: ['example.com'], allow_subdomains: true, key_type: 'ec', ttl: '720h', max_ttl: '720h' });
  return { rootMount, intMount, rootIssuerId: root.data.issuer_id, intIssuerId, rootPem: root.data.certificate, intPem: signed.data.certificate };
}

/** A second intermediate under the same root, imported into the same intermediate mount. */
async function addIntermediate(pair: Pair, keyType: 'ec' | 'rsa' = 'ec'): Promise<{ issuerId: string; pem: string }> {
  const csr = (await vault.write(`${pair.intMount}/issuers/generate/intermediate/internal`, { common_name: `Next ${keyType}`, key_type: keyType })) as Reply;
  const signed = (await vault.write(`${pair.rootMount}/root/sign-intermediate`, { csr: csr.data.csr, ttl: '43800h' })) as Reply;
  const imported = (await vault.write(`${pair.intMount}/issuers/import/bundle`, { pem_bundle: `${signed.data.certificate}\n${signed.data.issuing_ca}` })) as Reply;
  const issuerId = Object.entries(imported.data.mapping as Record<string, string>).find(([, key]) => key === csr.data.key_id)?.[0] ?? '';
  return { issuerId, pem: signed.data.certificate };
}

/** A cluster whose clock the test moves (issuance, revocation and tidy read the cluster clock). */
async function clockedCluster(): Promise<{ cluster: VaultClusterHandle; client: NodeVault.client; advance: (ms: number) => void }> {
  let offset = 0;
  const cluster = await startVaultCluster({ nodes: [{ id: 'vault-0' }], routes: [createPkiRoutes()], clock: () => new Date(Date.now() + offset) });
  const { rootToken: token } = await cluster.bootstrap({ shares: 1, threshold: 1 });
  return { cluster, client: NodeVault({ endpoint: cluster.node('vault-0').url, token }), advance: (ms) => (offset += ms) };
}

function runOpenssl(args: readonly string[], files: Readonly<Record<string, string>>): { status: number; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vault-pki-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), `${content.trim()}\n`);
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Vault PKI emulator: issuing leaves', () => {
  it('issues an EC leaf with server and client EKUs, SANs from common_name, alt_names and ip_sans, the issuer chain, and a matching private key', async () => {
    const leaf = (await vault.write('pki_int/issue/web', { common_name: 'api.example.com', alt_names: 'www.example.com', ip_sans: '127.0.0.1' })) as Reply;
    const cert = parse(leaf.data.certificate);
    const keyOfPrivate = createPublicKey(leaf.data.private_key as string).export({ type: 'spki', format: 'der' });

    expect(leaf.data.private_key_type).toBe('ec');
    expect(Buffer.from(keyOfPrivate).equals(Buffer.from(cert.publicKey.rawData))).toBe(true);
    expect(cert.subject).toBe('CN=api.example.com');
    expect(sans(cert)).toEqual(['dns:api.example.com', 'dns:www.example.com', 'ip:127.0.0.1']);
    expect(ekus(cert)).toEqual([SERVER_AUTH, CLIENT_AUTH]);
    expect(leaf.data.issuing_ca).toBe(pki.intermediateCertificate);
    expect(leaf.data.ca_chain).toEqual([pki.intermediateCertificate, pki.rootCertificate]);
    expect(leaf.data.expiration).toBe(Math.floor(cert.notAfter.getTime() / 1000));
    expect(leaf.data.not_before).toBe(Math.floor(cert.notBefore.getTime() / 1000));
    expect(leaf.data.expiration - Math.floor(Date.now() / 1000)).toBeGreaterThan(720 * 3600 - 60);
    expect(await cert.verify({ publicKey: parse(pki.intermediateCertificate).publicKey, signatureOnly: true })).toBe(true);
  });

  it('stores the leaf certificate but never its private key', async () => {
    const leaf = (await vault.write('pki_int/issue/web', { common_name: 'stored.example.com' })) as Reply;

    const stored = (await vault.read(`pki_int/cert/${leaf.data.serial_number}`)) as Reply;

    expect(stored.data.certificate).toBe(leaf.data.certificate);
    expect(JSON.stringify(stored)).not.toContain('PRIVATE KEY');
  });

  it('issues RSA 2048 leaves for a role whose key_type is rsa', async () => {
    await vault.write('pki_int/roles/rsa-web', { allowed_domains: 'example.com', allow_subdomains: true });

    const leaf = (await vault.write('pki_int/issue/rsa-web', { common_name: 'legacy.example.com' })) as Reply;

    expect(leaf.data.private_key_type).toBe('rsa');
    expect(leaf.data.private_key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(createPublicKey(leaf.data.private_key as string).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('writes only the EKUs the role flags ask for', async () => {
    await vault.write('pki_int/roles/server-only', { allowed_domains: 'example.com', allow_subdomains: true, key_type: 'ec', client_flag: false });

    const leaf = (await vault.write('pki_int/issue/server-only', { common_name: 'edge.example.com' })) as Reply;

    expect(ekus(parse(leaf.data.certificate))).toEqual([SERVER_AUTH]);
  });

  it('leaves the common name out of the SANs with exclude_cn_from_sans', async () => {
    const leaf = (await vault.write('pki_int/issue/web', { common_name: 'cn-only.example.com', alt_names: 'san.example.com', exclude_cn_from_sans: true })) as Reply;

    expect(sans(parse(leaf.data.certificate))).toEqual(['dns:san.example.com']);
  });

  it('refuses a common name outside the role with 400 common name … not allowed by this role', async () => {
    const err = await rejection(vault.write('pki_int/issue/web', { common_name: 'evil.org' }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('common name evil.org not allowed by this role');
  });

  it('refuses an alt name outside the role and IP SANs on a role without allow_ip_sans with 400', async () => {
    await vault.write('pki_int/roles/no-ips', { allowed_domains: 'example.com', allow_subdomains: true, key_type: 'ec', allow_ip_sans: false });

    const altName = await rejection(vault.write('pki_int/issue/web', { common_name: 'ok.example.com', alt_names: 'bad.example.net' }));
    const ip = await rejection(vault.write('pki_int/issue/no-ips', { common_name: 'ok.example.com', ip_sans: '10.0.0.1' }));

    expect(altName.response?.statusCode).toBe(400);
    expect(altName.message).toBe('subject alternate name bad.example.net not allowed by this role');
    expect(ip.response?.statusCode).toBe(400);
    expect(ip.message).toBe('IP Subject Alternative Names are not allowed in this role, but was provided via the API');
  });

  it('allows the bare domain only with allow_bare_domains and subdomains only with allow_subdomains', async () => {
    await vault.write('pki_int/roles/bare', { allowed_domains: 'example.com', allow_bare_domains: true, key_type: 'ec' });
    await vault.write('pki_int/roles/sub', { allowed_domains: 'example.com', allow_subdomains: true, key_type: 'ec' });

    const bare = (await vault.write('pki_int/issue/bare', { common_name: 'example.com' })) as Reply;
    const sub = await rejection(vault.write('pki_int/issue/bare', { common_name: 'a.example.com' }));
    const bareOnSubRole = await rejection(vault.write('pki_int/issue/sub', { common_name: 'example.com' }));

    expect(parse(bare.data.certificate).subject).toBe('CN=example.com');
    expect(sub.message).toBe('common name a.example.com not allowed by this role');
    expect(bareOnSubRole.message).toBe('common name example.com not allowed by this role');
  });

  it('matches allowed_domains as globs only with allow_glob_domains', async () => {
    await vault.write('pki_int/roles/glob', { allowed_domains: 'svc-*.example.com', allow_glob_domains: true, key_type: 'ec' });

    const matched = (await vault.write('pki_int/issue/glob', { common_name: 'svc-payments.example.com' })) as Reply;
    const unmatched = await rejection(vault.write('pki_int/issue/glob', { common_name: 'db.example.com' }));

    expect(parse(matched.data.certificate).subject).toBe('CN=svc-payments.example.com');
    expect(unmatched.response?.statusCode).toBe(400);
  });

  it('caps a ttl over the role max_ttl with Vault’s warning', async () => {
    const leaf = (await vault.write('pki_int/issue/web', { common_name: 'long.example.com', ttl: '2000h' })) as Reply;

    expect(leaf.warnings).toContain('TTL "2000h0m0s" is longer than permitted maxTTL "720h0m0s", so maxTTL is being used');
    expect(leaf.data.expiration - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(720 * 3600);
  });

  it('refuses a leaf that would outlive its issuer under leaf_not_after_behavior err with the 4.10 message', async () => {
    const pair = await newPair({ intTtl: '48h' });

    const err = await rejection(vault.write(`${pair.intMount}/issue/web`, { common_name: 'late.example.com', ttl: '72h' }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toMatch(/^cannot satisfy request, as TTL would result in notAfter of \d{4}-\d{2}-\d{2}T\S+Z that is beyond the expiration of the CA certificate at \d{4}-\d{2}-\d{2}T\S+Z$/);
  });

  it('truncates such a leaf to the issuer NotAfter under truncate, and lets it outlive the issuer under permit', async () => {
    const pair = await newPair({ intTtl: '48h' });
    const intNotAfter = Math.floor(parse(pair.intPem).notAfter.getTime() / 1000);

    await vault.update(`${pair.intMount}/issuer/${pair.intIssuerId}`, { leaf_not_after_behavior: 'truncate' });
    const truncated = (await vault.write(`${pair.intMount}/issue/web`, { common_name: 'cut.example.com', ttl: '72h' })) as Reply;
    await vault.update(`${pair.intMount}/issuer/${pair.intIssuerId}`, { leaf_not_after_behavior: 'permit' });
    const permitted = (await vault.write(`${pair.intMount}/issue/web`, { common_name: 'over.example.com', ttl: '72h' })) as Reply;

    expect(truncated.data.expiration).toBe(intNotAfter);
    expect(permitted.data.expiration).toBeGreaterThan(intNotAfter);
  });

  it('issues from the path’s issuer on issuer/:ref/issue/:role, not from the role’s', async () => {
    const pair = await newPair();
    const next = await addIntermediate(pair);

    const viaDefault = (await vault.write(`${pair.intMount}/issue/web`, { common_name: 'a.example.com' })) as Reply;
    const viaPath = (await vault.write(`${pair.intMount}/issuer/${next.issuerId}/issue/web`, { common_name: 'b.example.com' })) as Reply;

    expect(viaDefault.data.issuing_ca).toBe(pair.intPem);
    expect(viaPath.data.issuing_ca).toBe(next.pem);
    expect(parse(viaPath.data.certificate).issuer).toBe('CN=Next ec');
  });

  // Vault wraps EnsureUsage's refusal in an errutil.InternalError: 500 (builtin/logical/pki/issuing/issuers.go).
  it('refuses to issue from an issuer without issuing-certificates usage, and from a revoked one, with 500 as Vault does', async () => {
    const pair = await newPair();
    const next = await addIntermediate(pair);
    await vault.update(`${pair.intMount}/issuer/${pair.intIssuerId}`, { usage: 'read-only,crl-signing,ocsp-signing' });
    await vault.write(`${pair.intMount}/issuer/${next.issuerId}/revoke`, {});

    const retired = await rejection(vault.write(`${pair.intMount}/issue/web`, { common_name: 'a.example.com' }));
    const revoked = await rejection(vault.write(`${pair.intMount}/issuer/${next.issuerId}/issue/web`, { common_name: 'a.example.com' }));

    expect(retired.response?.statusCode).toBe(500);
    expect(retired.message).toContain(`requested usage issuing-certificates for issuer [id:${pair.intIssuerId}] but only had usage crl-signing,ocsp-signing,read-only`);
    expect(revoked.response?.statusCode).toBe(500);
    expect(revoked.message).toContain('requested usage issuing-certificates');
  });

  it('follows a role whose issuer_ref names an issuer, and fails once that name is gone', async () => {
    const pair = await newPair();
    const next = await addIntermediate(pair);
    await vault.update(`${pair.intMount}/issuer/${next.issuerId}`, { issuer_name: 'int-next' });
    await vault.write(`${pair.intMount}/roles/pinned`, { allowed_domains: 'example.com', allow_subdomains: true, key_type: 'ec', issuer_ref: 'int-next' });

    const pinned = (await vault.write(`${pair.intMount}/issue/pinned`, { common_name: 'p.example.com' })) as Reply;
    await vault.update(`${pair.intMount}/issuer/${next.issuerId}`, { issuer_name: 'int-renamed' });
    const broken = await rejection(vault.write(`${pair.intMount}/issue/pinned`, { common_name: 'p.example.com' }));

    expect(pinned.data.issuing_ca).toBe(next.pem);
    expect(broken.response?.statusCode).toBe(400);
    expect(broken.message).toBe('could not fetch the CA certificate (was one set?): unable to find PKI issuer for reference: int-next');
  });

  it('requires key_type on issue for a role with key_type any', async () => {
    await vault.write('pki_int/roles/any-key', { allowed_domains: 'example.com', allow_subdomains: true, key_type: 'any' });

    const refused = await rejection(vault.write('pki_int/issue/any-key', { common_name: 'k.example.com' }));
    const issued = (await vault.write('pki_int/issue/any-key', { common_name: 'k.example.com', key_type: 'ec', key_bits: 384 })) as Reply;

    expect(refused.response?.statusCode).toBe(400);
    expect(refused.message).toBe('role key type "any" not allowed for issuing certificates without providing key_type and/or key_bits request parameters');
    expect(createPublicKey(issued.data.private_key as string).asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
  });

  it('does not store leaves of a no_store role', async () => {
    const pair = await newPair();
    await vault.write(`${pair.intMount}/roles/ephemeral`, { allowed_domains: 'example.com', allow_subdomains: true, key_type: 'ec', no_store: true });

    const leaf = (await vault.write(`${pair.intMount}/issue/ephemeral`, { common_name: 'e.example.com' })) as Reply;
    const read = await rejection(vault.read(`${pair.intMount}/cert/${leaf.data.serial_number}`));
    const certs = await rejection(vault.list(`${pair.intMount}/certs`));

    expect(read.response?.statusCode).toBe(404);
    expect(certs.response?.statusCode).toBe(404);
  });

  it('returns base64 DER for format der and certificate plus key and chain for pem_bundle', async () => {
    const der = (await vault.write('pki_int/issue/web', { common_name: 'der.example.com', format: 'der' })) as Reply;
    const bundle = (await vault.write('pki_int/issue/web', { common_name: 'bundle.example.com', format: 'pem_bundle' })) as Reply;

    expect(parse(Buffer.from(der.data.certificate, 'base64').toString('base64')).subject).toBe('CN=der.example.com');
    expect(bundle.data.certificate.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(3);
    expect(bundle.data.certificate).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
  });

  it('returns a lease for a generate_lease role', async () => {
    await vault.write('pki_int/roles/leased', { allowed_domains: 'example.com', allow_subdomains: true, key_type: 'ec', generate_lease: true, ttl: '1h' });

    const leaf = (await vault.write('pki_int/issue/leased', { common_name: 'lease.example.com' })) as Reply;

    expect(leaf.lease_id).toMatch(/^pki_int\/issue\/leased\//);
    expect(leaf.lease_duration).toBeGreaterThan(3500);
    expect(leaf.lease_duration).toBeLessThanOrEqual(3600);
  });

  it('refuses issuance without a token with 403 and for an unknown role with 400', async () => {
    const anonymous = await rejection(NodeVault({ endpoint: handle.node('vault-0').url }).write('pki_int/issue/web', { common_name: 'a.example.com' }));
    const unknownRole = await rejection(vault.write('pki_int/issue/nobody', { common_name: 'a.example.com' }));

    expect(anonymous.response?.statusCode).toBe(403);
    expect(anonymous.message).toBe('permission denied');
    expect(unknownRole.response?.statusCode).toBe(400);
    expect(unknownRole.message).toBe('unknown role: nobody');
  });

  it('serves the same PKI from a standby node: storage is shared by the cluster', async () => {
    const standby = NodeVault({ endpoint: handle.node('vault-1').url, token: rootToken });

    const leaf = (await standby.write('pki_int/issue/web', { common_name: 'standby.example.com' })) as Reply;
    const onActive = (await vault.read(`pki_int/cert/${leaf.data.serial_number}`)) as Reply;

    expect(onActive.data.certificate).toBe(leaf.data.certificate);
  });
});

describe('Vault PKI emulator: signing CSRs', () => {
  async function csrFor(commonName: string, dnsNames: string[], keyAlgorithm: EcKeyGenParams | RsaHashedKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' }): Promise<string> {
    const keys = (await webcrypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=${commonName}`,
      keys,
      signingAlgorithm: keyAlgorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : keyAlgorithm,
      extensions: [new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value })))],
    });
    return csr.toString('pem');
  }

  it('signs a CSR with its own names and key, returns no private key, and warns about an ignored common_name', async () => {
    const csr = await csrFor('csr.example.com', ['csr.example.com', 'alias.example.com']);

    const signed = (await vault.write('pki_int/sign/web', { csr, common_name: 'ignored.example.com' })) as Reply;
    const cert = parse(signed.data.certificate);

    expect(cert.subject).toBe('CN=csr.example.com');
    expect(sans(cert)).toEqual(['dns:csr.example.com', 'dns:alias.example.com']);
    expect(Buffer.from(cert.publicKey.rawData).equals(Buffer.from(new x509.Pkcs10CertificateRequest(csr).publicKey.rawData))).toBe(true);
    expect(signed.data.private_key).toBeUndefined();
    expect(signed.data.ca_chain).toEqual([pki.intermediateCertificate, pki.rootCertificate]);
    expect(signed.warnings).toContain('the common_name field was provided but the role is set with "use_csr_common_name" set to true');
  });

  it('checks the CSR’s names against the role', async () => {
    const csr = await csrFor('csr.example.com', ['other.example.net']);

    const err = await rejection(vault.write('pki_int/sign/web', { csr }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('subject alternate name other.example.net not allowed by this role');
  });

  it('refuses a CSR whose key type the role does not allow', async () => {
    const csr = await csrFor('rsa.example.com', []);
    await vault.write('pki_int/roles/rsa-only', { allowed_domains: 'example.com', allow_subdomains: true, key_type: 'rsa' });

    const err = await rejection(vault.write('pki_int/sign/rsa-only', { csr }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('role requires keys of type rsa');
  });

  it('signs through issuer/:ref/sign/:role with the named issuer', async () => {
    const csr = await csrFor('named.example.com', []);

    const signed = (await vault.write(`pki_int/issuer/${pki.intermediateIssuerId}/sign/web`, { csr })) as Reply;

    expect(signed.data.issuing_ca).toBe(pki.intermediateCertificate);
  });
});

describe('Vault PKI emulator: revoking leaves', () => {
  it('revokes by colon serial, answers a second revoke with the original time, and rebuilds the CRL inline', async () => {
    const pair = await newPair();
    const leaf = (await vault.write(`${pair.intMount}/issue/web`, { common_name: 'gone.example.com' })) as Reply;

    const revoked = (await vault.write(`${pair.intMount}/revoke`, { serial_number: leaf.data.serial_number })) as Reply;
    const again = (await vault.write(`${pair.intMount}/revoke`, { serial_number: leaf.data.serial_number })) as Reply;
    const crl = new x509.X509Crl(await (await unauthenticated(`${pair.intMount}/crl/pem`)).text());

    expect(revoked.data).toMatchObject({ state: 'revoked' });
    expect(typeof revoked.data.revocation_time).toBe('number');
    expect(again.data.revocation_time).toBe(revoked.data.revocation_time);
    expect(crl.findRevoked(bareSerial(leaf.data.serial_number).toLowerCase())).not.toBeNull();
  });

  it('revokes by hyphen serial and by certificate PEM', async () => {
    const byHyphen = (await vault.write('pki_int/issue/web', { common_name: 'h.example.com' })) as Reply;
    const byPem = (await vault.write('pki_int/issue/web', { common_name: 'p.example.com' })) as Reply;

    const hyphen = (await vault.write('pki_int/revoke', { serial_number: (byHyphen.data.serial_number as string).replace(/:/g, '-') })) as Reply;
    const pem = (await vault.write('pki_int/revoke', { certificate: byPem.data.certificate })) as Reply;

    expect(hyphen.data.state).toBe('revoked');
    expect(pem.data.state).toBe('revoked');
  });

  it('refuses an unknown serial with 400 certificate with serial … not found.', async () => {
    const err = await rejection(vault.write('pki_int/revoke', { serial_number: '11:22:33' }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('certificate with serial 11:22:33 not found.');
  });

  it('refuses both and neither of serial_number and certificate with 400', async () => {
    const leaf = (await vault.write('pki_int/issue/web', { common_name: 'both.example.com' })) as Reply;

    const neither = await rejection(vault.write('pki_int/revoke', {}));
    const both = await rejection(vault.write('pki_int/revoke', { serial_number: leaf.data.serial_number, certificate: leaf.data.certificate }));

    expect(neither.response?.statusCode).toBe(400);
    expect(neither.message).toBe('The serial number or certificate to revoke must be provided.');
    expect(both.response?.statusCode).toBe(400);
    expect(both.message).toBe('Must provide either the certificate or the serial to revoke; not both.');
  });

  it('refuses to put an issuer of the mount on its own CRL with 400', async () => {
    const pair = await newPair();
    const rootSerial = ((await vault.read(`${pair.rootMount}/issuer/${pair.rootIssuerId}`)) as Reply).data.certificate as string;

    const err = await rejection(vault.write(`${pair.rootMount}/revoke`, { serial_number: (parse(rootSerial).serialNumber.match(/.{2}/g) ?? []).join(':') }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe(`adding issuer (id: ${pair.rootIssuerId}) to its own CRL is not allowed`);
  });

  it('revokes a signed intermediate by serial on the root mount, where it is a stored certificate (5.2)', async () => {
    const pair = await newPair();
    const serial = (parse(pair.intPem).serialNumber.match(/.{2}/g) ?? []).join(':');

    const revoked = (await vault.write(`${pair.rootMount}/revoke`, { serial_number: serial })) as Reply;
    const rootCrl = new x509.X509Crl(await (await unauthenticated(`${pair.rootMount}/issuer/${pair.rootIssuerId}/crl/pem`)).text());

    expect(revoked.data.state).toBe('revoked');
    expect(rootCrl.findRevoked(parse(pair.intPem).serialNumber)).not.toBeNull();
  });

  it('revokes a no_store leaf presented as a certificate when an issuer of the mount signed it', async () => {
    await vault.write('pki_int/roles/unstored', { allowed_domains: 'example.com', allow_subdomains: true, key_type: 'ec', no_store: true });
    const leaf = (await vault.write('pki_int/issue/unstored', { common_name: 'byoc.example.com' })) as Reply;
    const foreignMount = (await newPair()).intMount;

    const accepted = (await vault.write('pki_int/revoke', { certificate: leaf.data.certificate })) as Reply;
    const refused = await rejection(vault.write(`${foreignMount}/revoke`, { certificate: leaf.data.certificate }));

    expect(accepted.data.state).toBe('revoked');
    expect(refused.response?.statusCode).toBe(400);
    expect(refused.message).toMatch(/^unable to verify signature on presented cert from any present issuer in this mount/);
  });

  it('answers the revocation of an expired certificate with 200, no data and Vault’s warning', async () => {
    const { cluster, client, advance } = await clockedCluster();
    try {
      const pair = await newPair({ client });
      const leaf = (await client.write(`${pair.intMount}/issue/web`, { common_name: 'old.example.com', ttl: '1h' })) as Reply;
      advance(2 * 3600 * 1000);

      const answer = (await client.write(`${pair.intMount}/revoke`, { serial_number: leaf.data.serial_number })) as Reply;

      expect(answer.data).toBeNull();
      expect(answer.warnings).toEqual([`certificate with serial ${leaf.data.serial_number} already expired; refusing to add to CRL`]);
    } finally {
      await cluster.close();
    }
  });
});

describe('Vault PKI emulator: stored certificates', () => {
  it('answers LIST certs of an empty mount with 404 and lists issued serials in colon form', async () => {
    await vault.write('sys/mounts/pki_empty', { type: 'pki' });
    const empty = await rejection(vault.list('pki_empty/certs'));
    const leaf = (await vault.write('pki_int/issue/web', { common_name: 'listed.example.com' })) as Reply;

    const listed = (await vault.list('pki_int/certs')) as Reply;

    expect(empty.response?.statusCode).toBe(404);
    expect(listed.data.keys).toContain(leaf.data.serial_number);
  });

  it('answers GET cert/:serial for an unknown serial with 404, and its raw forms with 204 and an empty body', async () => {
    const json = await unauthenticated('pki_int/cert/aa:bb:cc');
    const raw = await unauthenticated('pki_int/cert/aa:bb:cc/raw');
    const rawPem = await unauthenticated('pki_int/cert/aa:bb:cc/raw/pem');

    expect(json.status).toBe(404);
    expect(raw.status).toBe(204);
    expect(await raw.text()).toBe('');
    expect(rawPem.status).toBe(204);
  });

  it('serves a known certificate as DER (application/pkix-cert) and PEM without a token', async () => {
    const leaf = (await vault.write('pki_int/issue/web', { common_name: 'raw.example.com' })) as Reply;
    const hyphen = (leaf.data.serial_number as string).replace(/:/g, '-');

    const der = await unauthenticated(`pki_int/cert/${hyphen}/raw`);
    const pem = await unauthenticated(`pki_int/cert/${leaf.data.serial_number}/raw/pem`);

    expect(der.headers.get('content-type')).toBe('application/pkix-cert');
    expect(Buffer.from(await der.arrayBuffer()).equals(Buffer.from(parse(leaf.data.certificate).rawData))).toBe(true);
    expect(await pem.text()).toBe(leaf.data.certificate);
  });

  it('reports revocation_time and the issuer_id once a certificate is revoked', async () => {
    const leaf = (await vault.write('pki_int/issue/web', { common_name: 'tracked.example.com' })) as Reply;
    const before = (await vault.read(`pki_int/cert/${leaf.data.serial_number}`)) as Reply;
    const revoked = (await vault.write('pki_int/revoke', { serial_number: leaf.data.serial_number })) as Reply;

    const after = (await vault.read(`pki_int/cert/${leaf.data.serial_number}`)) as Reply;

    expect(before.data).toEqual({ certificate: leaf.data.certificate, revocation_time: 0, revocation_time_rfc3339: '' });
    expect(after.data).toMatchObject({ revocation_time: revoked.data.revocation_time, issuer_id: pki.intermediateIssuerId });
  });

  it('serves the default issuer’s chain as PEM text on ca_chain and as JSON on cert/ca_chain', async () => {
    const text = await (await unauthenticated('pki_int/ca_chain')).text();
    const json = (await (await unauthenticated('pki_int/cert/ca_chain')).json()) as Reply;

    expect(text).toBe(`${pki.intermediateCertificate}\n${pki.rootCertificate}`);
    expect(json.data.ca_chain).toBe(text);
  });
});

describe('Vault PKI emulator: CRLs', () => {
  it('serves the default issuer’s CRL as DER, PEM and JSON without a token, signed by that issuer', async () => {
    const pair = await newPair();

    const der = await unauthenticated(`${pair.intMount}/crl`);
    const pem = await unauthenticated(`${pair.intMount}/crl/pem`);
    const json = (await (await unauthenticated(`${pair.intMount}/cert/crl`)).json()) as Reply;
    const crl = new x509.X509Crl(new Uint8Array(await der.arrayBuffer()));

    expect(der.headers.get('content-type')).toBe('application/pkix-crl');
    expect(pem.headers.get('content-type')).toBe('application/x-pem-file');
    expect(await pem.text()).toMatch(/^-----BEGIN X509 CRL-----/);
    expect(json.data.certificate).toMatch(/^-----BEGIN X509 CRL-----/);
    expect(crl.issuer).toBe(parse(pair.intPem).subject);
    expect(await crl.verify({ publicKey: parse(pair.intPem) })).toBe(true);
  });

  it('serves each issuer’s CRL on issuer/:ref/crl (JSON data.crl), /crl/der and /crl/pem', async () => {
    const json = (await (await unauthenticated(`pki_int/issuer/${pki.intermediateIssuerId}/crl`)).json()) as Reply;
    const der = await unauthenticated(`pki_int/issuer/${pki.intermediateIssuerId}/crl/der`);
    const pem = await (await unauthenticated(`pki_int/issuer/${pki.intermediateIssuerId}/crl/pem`)).text();

    expect(json.data.crl).toBe(pem);
    expect(new x509.X509Crl(pem).issuer).toBe(parse(pki.intermediateCertificate).subject);
    expect(der.headers.get('content-type')).toBe('application/pkix-crl');
  });

  it('keeps a revoked leaf of the old issuer on the old issuer’s CRL after rotation, not on pki/crl (P13)', async () => {
    const pair = await newPair();
    const oldLeaf = (await vault.write(`${pair.intMount}/issue/web`, { common_name: 'before.example.com' })) as Reply;
    const next = await addIntermediate(pair);
    await vault.write(`${pair.intMount}/config/issuers`, { default: next.issuerId });

    await vault.write(`${pair.intMount}/revoke`, { serial_number: oldLeaf.data.serial_number });
    const oldCrl = new x509.X509Crl(await (await unauthenticated(`${pair.intMount}/issuer/${pair.intIssuerId}/crl/pem`)).text());
    const defaultCrl = new x509.X509Crl(await (await unauthenticated(`${pair.intMount}/crl/pem`)).text());
    const serial = parse(oldLeaf.data.certificate).serialNumber;

    expect(oldCrl.findRevoked(serial)).not.toBeNull();
    expect(defaultCrl.issuer).toBe('CN=Next ec');
    expect(defaultCrl.findRevoked(serial)).toBeNull();
  });

  it('rebuilds the CRLs on GET crl/rotate with a token, and refuses it without one', async () => {
    const before = new x509.X509Crl(await (await unauthenticated('pki_int/crl/pem')).text());

    const rotated = (await vault.read('pki_int/crl/rotate')) as Reply;
    const denied = await unauthenticated('pki_int/crl/rotate');
    const after = new x509.X509Crl(await (await unauthenticated('pki_int/crl/pem')).text());
    const number = (crl: x509.X509Crl) => Buffer.from(crl.getExtension('2.5.29.20')?.value ?? new ArrayBuffer(0)).toString('hex');

    expect(rotated.data).toEqual({ success: true });
    expect(denied.status).toBe(403);
    expect(number(after)).not.toBe(number(before));
  });

  it('with auto_rebuild on, leaves the CRL as it was on each revoke and lists every revoked serial after one crl/rotate (4.12, 4.13)', async () => {
    const pair = await newPair();
    await vault.write(`${pair.intMount}/config/crl`, { auto_rebuild: true });
    const leaves = await Promise.all(['a', 'b', 'c'].map(async (name) => (await vault.write(`${pair.intMount}/issue/web`, { common_name: `${name}.example.com` })) as Reply));
    const before = new x509.X509Crl(await (await unauthenticated(`${pair.intMount}/crl/pem`)).text());

    for (const leaf of leaves) await vault.write(`${pair.intMount}/revoke`, { serial_number: leaf.data.serial_number });
    const unrotated = new x509.X509Crl(await (await unauthenticated(`${pair.intMount}/crl/pem`)).text());
    await vault.read(`${pair.intMount}/crl/rotate`);
    const rotated = new x509.X509Crl(await (await unauthenticated(`${pair.intMount}/crl/pem`)).text());
    const revokedList = (await vault.list(`${pair.intMount}/certs/revoked`)) as Reply;

    expect(Buffer.from(unrotated.rawData).equals(Buffer.from(before.rawData))).toBe(true);
    expect(leaves.map((leaf) => rotated.findRevoked(parse(leaf.data.certificate).serialNumber) !== null)).toEqual([true, true, true]);
    expect(revokedList.data.keys).toEqual(leaves.map((leaf) => leaf.data.serial_number).sort());
  });

  it('writes config/urls into issued certificates and reads config/crl back', async () => {
    const pair = await newPair();
    await vault.write(`${pair.intMount}/config/urls`, { crl_distribution_points: ['http://crl.example.com/int.crl'], issuing_certificates: 'http://ca.example.com/int.der' });
    await vault.write(`${pair.intMount}/config/crl`, { expiry: '24h' });

    const urls = (await vault.read(`${pair.intMount}/config/urls`)) as Reply;
    const crlConfig = (await vault.read(`${pair.intMount}/config/crl`)) as Reply;
    const leaf = (await vault.write(`${pair.intMount}/issue/web`, { common_name: 'aia.example.com' })) as Reply;
    const cert = parse(leaf.data.certificate);
    const crl = new x509.X509Crl(await (await unauthenticated(`${pair.intMount}/crl/pem`)).text());

    expect(urls.data).toMatchObject({ crl_distribution_points: ['http://crl.example.com/int.crl'], issuing_certificates: ['http://ca.example.com/int.der'] });
    expect(crlConfig.data).toMatchObject({ expiry: '24h0m0s', disable: false, auto_rebuild: false });
    expect(cert.getExtension(x509.CRLDistributionPointsExtension)).not.toBeNull();
    expect(cert.getExtension(x509.AuthorityInfoAccessExtension)?.caIssuers.map((name) => name.value)).toEqual(['http://ca.example.com/int.der']);
    expect((crl.nextUpdate?.getTime() ?? 0) - crl.thisUpdate.getTime()).toBe(24 * 3600 * 1000);
  });
});

describe('Vault PKI emulator: chains and CRLs checked by openssl', () => {
  withOpenssl('openssl verify accepts leaf chains from two issuers, an EC and an RSA intermediate under one root', async () => {
    const pair = await newPair();
    const rsa = await addIntermediate(pair, 'rsa');
    const ecLeaf = (await vault.write(`${pair.intMount}/issue/web`, { common_name: 'ec.example.com' })) as Reply;
    const rsaLeaf = (await vault.write(`${pair.intMount}/issuer/${rsa.issuerId}/issue/web`, { common_name: 'rsa.example.com' })) as Reply;

    const ec = runOpenssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'int.pem', 'leaf.pem'], { 'root.pem': pair.rootPem, 'int.pem': ecLeaf.data.ca_chain[0], 'leaf.pem': ecLeaf.data.certificate });
    const viaRsa = runOpenssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'int.pem', 'leaf.pem'], { 'root.pem': pair.rootPem, 'int.pem': rsaLeaf.data.ca_chain[0], 'leaf.pem': rsaLeaf.data.certificate });
    const crossed = runOpenssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'int.pem', 'leaf.pem'], { 'root.pem': pair.rootPem, 'int.pem': rsa.pem, 'leaf.pem': ecLeaf.data.certificate });

    expect(ec).toEqual({ status: 0, output: 'leaf.pem: OK\n' });
    expect(viaRsa).toEqual({ status: 0, output: 'leaf.pem: OK\n' });
    expect(crossed.status).not.toBe(0);
  });

  withOpenssl('openssl finds each revoked serial on its own issuer’s CRL only, and verify -crl_check reports it revoked', async () => {
    const pair = await newPair();
    const other = await addIntermediate(pair);
    const leafA = (await vault.write(`${pair.intMount}/issue/web`, { common_name: 'a.example.com' })) as Reply;
    const leafB = (await vault.write(`${pair.intMount}/issuer/${other.issuerId}/issue/web`, { common_name: 'b.example.com' })) as Reply;
    await vault.write(`${pair.intMount}/revoke`, { serial_number: leafA.data.serial_number });
    await vault.write(`${pair.intMount}/revoke`, { serial_number: leafB.data.serial_number });
    const crlA = await (await unauthenticated(`${pair.intMount}/issuer/${pair.intIssuerId}/crl/pem`)).text();
    const crlB = await (await unauthenticated(`${pair.intMount}/issuer/${other.issuerId}/crl/pem`)).text();

    const textA = runOpenssl(['crl', '-inform', 'PEM', '-in', 'a.crl', '-noout', '-text'], { 'a.crl': crlA });
    const textB = runOpenssl(['crl', '-inform', 'PEM', '-in', 'b.crl', '-noout', '-text'], { 'b.crl': crlB });
    const signatureA = runOpenssl(['crl', '-in', 'a.crl', '-noout', '-CAfile', 'int.pem'], { 'a.crl': crlA, 'int.pem': pair.intPem });
    const revokedCheck = runOpenssl(['verify', '-crl_check', '-CRLfile', 'a.crl', '-CAfile', 'root.pem', '-untrusted', 'int.pem', 'leaf.pem'], {
      'a.crl': crlA,
      'root.pem': pair.rootPem,
      'int.pem': pair.intPem,
      'leaf.pem': leafA.data.certificate,
    });

    expect(textA.status).toBe(0);
    expect(textA.output).toContain(`Serial Number: ${bareSerial(leafA.data.serial_number)}`);
    expect(textA.output).not.toContain(bareSerial(leafB.data.serial_number));
    expect(textB.output).toContain(`Serial Number: ${bareSerial(leafB.data.serial_number)}`);
    expect(textB.output).not.toContain(bareSerial(leafA.data.serial_number));
    expect(signatureA.output).toContain('verify OK');
    expect(revokedCheck.status).not.toBe(0);
    expect(revokedCheck.output).toContain('certificate revoked');
  });
});

describe('Vault PKI emulator: tidy', () => {
  it('starts a tidy with 202, which node-vault rejects as Status 202, and tidy-status reaches Finished', async () => {
    const pair = await newPair();

    const started = await rejection(vault.write(`${pair.intMount}/tidy`, { tidy_cert_store: true, tidy_revoked_certs: true }));
    let status = (await vault.read(`${pair.intMount}/tidy-status`)) as Reply;
    for (let i = 0; i < 50 && status.data.state === 'Running'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      status = (await vault.read(`${pair.intMount}/tidy-status`)) as Reply;
    }

    expect(started.response?.statusCode).toBe(202);
    expect(started.message).toBe('Status 202');
    expect(started.response?.body.warnings).toEqual(["Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs."]);
    expect(status.data).toMatchObject({ state: 'Finished', tidy_cert_store: true, tidy_revoked_certs: true });
  });

  it('answers 200 Tidy operation already in progress while a tidy runs', async () => {
    const pair = await newPair();
    await vault.write(`${pair.intMount}/issue/web`, { common_name: 'slow.example.com' });
    await rejection(vault.write(`${pair.intMount}/tidy`, { tidy_cert_store: true, pause_duration: '300ms' }));

    const second = (await vault.write(`${pair.intMount}/tidy`, { tidy_cert_store: true })) as Reply;
    const status = (await vault.read(`${pair.intMount}/tidy-status`)) as Reply;

    expect(second.warnings).toEqual(['Tidy operation already in progress.']);
    expect(status.data.state).toBe('Running');
  });

  it('answers 202 with a warning when no tidy operation is selected, and 400 for a safety_buffer that is not positive', async () => {
    const pair = await newPair();

    const nothing = await rejection(vault.write(`${pair.intMount}/tidy`, {}));
    const badBuffer = await rejection(vault.write(`${pair.intMount}/tidy`, { tidy_cert_store: true, safety_buffer: 0 }));

    expect(nothing.response?.statusCode).toBe(202);
    expect(nothing.response?.body.warnings?.[0]).toMatch(/^Manual tidy requested but no tidy operations were set\./);
    expect(badBuffer.response?.statusCode).toBe(400);
    expect(badBuffer.message).toBe('safety_buffer must be greater than zero');
  });

  it('removes expired certificates past the safety buffer with tidy_cert_store, and revoked ones with tidy_revoked_certs', async () => {
    const { cluster, client, advance } = await clockedCluster();
    try {
      const pair = await newPair({ client });
      const expired = (await client.write(`${pair.intMount}/issue/web`, { common_name: 'expired.example.com', ttl: '1h' })) as Reply;
      const revoked = (await client.write(`${pair.intMount}/issue/web`, { common_name: 'revoked.example.com', ttl: '1h' })) as Reply;
      const current = (await client.write(`${pair.intMount}/issue/web`, { common_name: 'current.example.com', ttl: '720h' })) as Reply;
      await client.write(`${pair.intMount}/revoke`, { serial_number: revoked.data.serial_number });
      advance(3 * 3600 * 1000);

      await rejection(client.write(`${pair.intMount}/tidy`, { tidy_cert_store: true, tidy_revoked_certs: true, safety_buffer: '1h' }));
      let status = (await client.read(`${pair.intMount}/tidy-status`)) as Reply;
      for (let i = 0; i < 50 && status.data.state === 'Running'; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        status = (await client.read(`${pair.intMount}/tidy-status`)) as Reply;
      }
      const certs = (await client.list(`${pair.intMount}/certs`)) as Reply;

      expect(status.data).toMatchObject({ state: 'Finished', cert_store_deleted_count: 1, revoked_cert_deleted_count: 1 });
      expect(certs.data.keys).toContain(current.data.serial_number);
      expect(certs.data.keys).not.toContain(expired.data.serial_number);
      expect(certs.data.keys).not.toContain(revoked.data.serial_number);
    } finally {
      await cluster.close();
    }
  });
});

describe('Vault PKI emulator: sealed nodes and the bootstrap helper', () => {
  it('answers PKI paths on a sealed node with 503 Vault is sealed', async () => {
    const cluster = await startVaultCluster({ nodes: [{ id: 'vault-0' }], routes: [createPkiRoutes({ mounts: ['pki'] })] });
    try {
      const { rootToken: token } = await cluster.bootstrap({ shares: 1, threshold: 1 });
      cluster.node('vault-0').seal();

      const err = await rejection(NodeVault({ endpoint: cluster.node('vault-0').url, token }).list('pki/issuers'));

      expect(err.response?.statusCode).toBe(503);
      expect(err.message).toBe('Vault is sealed');
    } finally {
      await cluster.close();
    }
  });

  it('bootstrapPki builds a root, an intermediate with its chain as default, and a server+client role, over HTTP', async () => {
    const issuers = (await vault.list('pki_int/issuers')) as Reply;
    const role = (await vault.read('pki_int/roles/web')) as Reply;
    const intermediate = (await vault.read(`pki_int/issuer/${pki.intermediateIssuerId}`)) as Reply;
    const rootCerts = (await vault.list('pki_root/certs')) as Reply;

    expect(issuers.data.key_info[pki.intermediateIssuerId]).toMatchObject({ is_default: true, issuer_name: 'intermediate', key_id: pki.intermediateKeyId });
    expect(intermediate.data.ca_chain).toEqual([pki.intermediateCertificate, pki.rootCertificate]);
    expect(role.data).toMatchObject({ server_flag: true, client_flag: true, ttl: 720 * 3600, key_type: 'ec', issuer_ref: 'default', allowed_domains: ['example.com'] });
    expect(rootCerts.data.keys).toContain(pki.intermediateSerial);
    expect(parse(pki.rootCertificate).notAfter.getTime() - Date.now()).toBeGreaterThan(87590 * 3600 * 1000);
    expect(parse(pki.intermediateCertificate).notAfter.getTime() - Date.now()).toBeGreaterThan(43790 * 3600 * 1000);
  });
});
