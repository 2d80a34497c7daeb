import 'reflect-metadata';
import { createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import NodeVault = require('node-vault');
import { createPkiRoutes } from '../../sandbox/vault/pki/pki-routes';
import { startVaultCluster, type VaultClusterHandle } from '../../sandbox/vault/vault-cluster';

/**
 * The Vault emulator's PKI engine, part 1: mounts, CA generation and signing, import, issuers,
 * the default issuer, keys and roles, driven over HTTP by the real node-vault client
 * (VAULT_API.md 4 and 7: 200/204 resolve, other statuses reject with err.response.statusCode and
 * err.message = errors[0]; an empty LIST rejects with 404; update() is PATCH with merge-patch).
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

interface ApiError {
  message: string;
  response?: { statusCode: number; body: { errors?: string[]; warnings?: string[] | null } };
}

/** The success envelope; `data` is whatever the endpoint returns. */
interface Reply {
  data: any;
  warnings: string[] | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const COLON_SERIAL = /^[0-9a-f]{2}(:[0-9a-f]{2})+$/;
const TRUNCATION_WARNING = "the signed intermediary CA certificate's notAfter was truncated to the issuer's notAfter";

let handle: VaultClusterHandle;
let rootToken: string;
let vault: NodeVault.client;
let mountCounter = 0;

beforeAll(async () => {
  handle = await startVaultCluster({ nodes: [{ id: 'vault-0' }], routes: [createPkiRoutes()] });
  ({ rootToken } = await handle.bootstrap({ shares: 1, threshold: 1 }));
  vault = NodeVault({ endpoint: handle.node('vault-0').url, token: rootToken });
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

/** A fresh PKI mount per test, so tests share one cluster but no state. */
async function newMount(maxLeaseTtl: string | null = '87600h'): Promise<string> {
  mountCounter += 1;
  const name = `pki_${mountCounter}`;
  await vault.write(`sys/mounts/${name}`, { type: 'pki', ...(maxLeaseTtl ? { config: { max_lease_ttl: maxLeaseTtl } } : {}) });
  return name;
}

async function generateRoot(mount: string, body: Record<string, unknown> = {}): Promise<Reply> {
  return (await vault.write(`${mount}/root/generate/internal`, { common_name: 'Test Root', key_type: 'ec', ttl: '87600h', ...body })) as Reply;
}

interface Intermediate {
  issuerId: string;
  keyId: string;
  certificate: string;
  issuingCa: string;
  serial: string;
  imported: Reply;
}

/** generate CSR on `intMount`, sign on `rootMount`, import with (or without) the chain. */
async function makeIntermediate(rootMount: string, intMount: string, options: { ttl?: string; chain?: boolean; commonName?: string } = {}): Promise<Intermediate> {
  const commonName = options.commonName ?? 'Test Intermediate';
  const csr = (await vault.write(`${intMount}/issuers/generate/intermediate/internal`, { common_name: commonName, key_type: 'ec' })) as Reply;
  const signed = (await vault.write(`${rootMount}/root/sign-intermediate`, { csr: csr.data.csr, common_name: commonName, ttl: options.ttl ?? '43800h' })) as Reply;
  const certificate = options.chain === false ? signed.data.certificate : `${signed.data.certificate}\n${signed.data.issuing_ca}`;
  const imported = (await vault.write(`${intMount}/intermediate/set-signed`, { certificate })) as Reply;
  const issuerId = Object.entries(imported.data.mapping as Record<string, string>).find(([, keyId]) => keyId === csr.data.key_id)?.[0] ?? '';
  return { issuerId, keyId: csr.data.key_id, certificate: signed.data.certificate, issuingCa: signed.data.issuing_ca, serial: signed.data.serial_number, imported };
}

function parse(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

function unauthenticated(path: string): Promise<Response> {
  return fetch(`${handle.node('vault-0').url}/v1/${path}`);
}

describe('Vault PKI emulator: mounts', () => {
  it('enables a pki mount through sys/mounts and lists it with its max_lease_ttl', async () => {
    const mount = await newMount('87600h');

    const mounts = (await vault.read('sys/mounts')) as Reply;

    expect(mounts.data[`${mount}/`]).toMatchObject({ type: 'pki', config: { max_lease_ttl: 87600 * 3600 } });
  });

  it('refuses a second mount at the same path with 400 path is already in use', async () => {
    const mount = await newMount();

    const err = await rejection(vault.write(`sys/mounts/${mount}`, { type: 'pki' }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe(`path is already in use at ${mount}/`);
  });

  it('refuses to enable a mount without the root token with 403 permission denied', async () => {
    const err = await rejection(NodeVault({ endpoint: handle.node('vault-0').url, token: 'hvs.not-a-token' }).write('sys/mounts/pki_denied', { type: 'pki' }));

    expect(err.response?.statusCode).toBe(403);
    expect(err.message).toBe('permission denied');
  });

  it('answers PKI paths under a path that is not a PKI mount with 404', async () => {
    const err = await rejection(vault.read('not_mounted/issuer/default'));

    expect(err.response?.statusCode).toBe(404);
  });

  it('starts with the mounts named in createPkiRoutes, with a 10-year max lease TTL', async () => {
    const preset = await startVaultCluster({ nodes: [{ id: 'vault-0' }], routes: [createPkiRoutes({ mounts: ['pki_root'] })] });
    try {
      const { rootToken: token } = await preset.bootstrap({ shares: 1, threshold: 1 });
      const client = NodeVault({ endpoint: preset.node('vault-0').url, token });

      const root = (await client.write('pki_root/root/generate/internal', { common_name: 'Preset Root', key_type: 'ec', ttl: '87600h' })) as Reply;

      expect((root.warnings ?? []).some((warning) => warning.includes('maxTTL'))).toBe(false);
      expect(parse(root.data.certificate).notAfter.getTime() - Date.now()).toBeGreaterThan(87590 * 3600 * 1000);
    } finally {
      await preset.close();
    }
  });
});

describe('Vault PKI emulator: root generation', () => {
  it('generates an internal root with the 4.16 response shape and no private key', async () => {
    const mount = await newMount();

    const root = await generateRoot(mount, { issuer_name: 'root-2025', key_name: 'root-key' });
    const cert = parse(root.data.certificate);

    expect(root.data).toMatchObject({ issuer_name: 'root-2025', key_name: 'root-key', issuing_ca: root.data.certificate });
    expect(root.data.issuer_id).toMatch(UUID);
    expect(root.data.key_id).toMatch(UUID);
    expect(root.data.serial_number).toMatch(COLON_SERIAL);
    expect(root.data.expiration).toBe(Math.floor(cert.notAfter.getTime() / 1000));
    expect(root.data.private_key).toBeUndefined();
    expect(cert.subject).toBe('CN=Test Root');
    expect(await cert.isSelfSigned()).toBe(true);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(root.warnings).toContain(
      "This mount hasn't configured any authority information access (AIA) fields; this may make it harder for systems to find missing certificates in the chain or to validate revocation status of certificates. Consider updating /config/urls or the newly generated issuer with this information.",
    );
  });

  it('returns the private key once for an exported RSA root, and it matches the certificate', async () => {
    const mount = await newMount();

    const root = (await vault.write(`${mount}/issuers/generate/root/exported`, { common_name: 'RSA Root', key_type: 'rsa', key_bits: 2048, ttl: '8760h' })) as Reply;
    const keyFromPrivate = createPublicKey(root.data.private_key as string).export({ type: 'spki', format: 'der' });

    expect(root.data.private_key_type).toBe('rsa');
    expect(root.data.private_key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(Buffer.from(keyFromPrivate).equals(Buffer.from(parse(root.data.certificate).publicKey.rawData))).toBe(true);
  });

  it('caps a root TTL beyond the mount max lease TTL with Vault’s warning', async () => {
    const mount = await newMount(null);

    const root = await generateRoot(mount, { ttl: '87600h' });

    expect(root.warnings).toContain('TTL "87600h0m0s" is longer than permitted maxTTL "768h0m0s", so maxTTL is being used');
    expect(root.data.expiration - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(768 * 3600);
  });

  it('refuses an unknown generation type and an unknown key type with 400', async () => {
    const mount = await newMount();

    const badType = await rejection(vault.write(`${mount}/root/generate/sideways`, { common_name: 'x' }));
    const badKey = await rejection(vault.write(`${mount}/root/generate/internal`, { common_name: 'x', key_type: 'dsa' }));

    expect(badType.response?.statusCode).toBe(400);
    expect(badType.message).toBe('the "exported" path parameter must be "internal", "existing", exported" or "kms"');
    expect(badKey.response?.statusCode).toBe(400);
    expect(badKey.message).toBe('unknown key type dsa');
  });

  it('refuses the issuer name default and a name already in use with 400', async () => {
    const mount = await newMount();
    await generateRoot(mount, { issuer_name: 'taken' });

    const reserved = await rejection(generateRoot(mount, { issuer_name: 'default' }));
    const duplicate = await rejection(generateRoot(mount, { issuer_name: 'taken' }));

    expect(reserved.response?.statusCode).toBe(400);
    expect(reserved.message).toBe("reserved keyword 'default' can not be used as issuer name");
    expect(duplicate.response?.statusCode).toBe(400);
    expect(duplicate.message).toBe('issuer name already in use');
  });

  it('makes the first root the default and stores it under certs/', async () => {
    const mount = await newMount();

    const root = await generateRoot(mount);
    const config = (await vault.read(`${mount}/config/issuers`)) as Reply;
    const certs = (await vault.list(`${mount}/certs`)) as Reply;

    expect(config.data).toEqual({ default: root.data.issuer_id, default_follows_latest_issuer: false });
    expect(certs.data.keys).toEqual([root.data.serial_number]);
  });
});

describe('Vault PKI emulator: intermediate CSRs', () => {
  it('generates a CSR with a key id and creates no issuer yet, ignoring ttl', async () => {
    const mount = await newMount();

    const csr = (await vault.write(`${mount}/issuers/generate/intermediate/internal`, { common_name: 'Int CSR', key_type: 'ec', ttl: '1h' })) as Reply;
    const issuers = await rejection(vault.list(`${mount}/issuers`));
    const keys = (await vault.list(`${mount}/keys`)) as Reply;

    expect(csr.data.csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    expect(new x509.Pkcs10CertificateRequest(csr.data.csr).subject).toBe('CN=Int CSR');
    expect(csr.data.key_id).toMatch(UUID);
    expect(csr.data.private_key).toBeUndefined();
    expect(issuers.response?.statusCode).toBe(404);
    expect(keys.data.keys).toEqual([csr.data.key_id]);
  });

  it('returns the private key only for exported CSRs', async () => {
    const mount = await newMount();

    const exported = (await vault.write(`${mount}/intermediate/generate/exported`, { common_name: 'Exported', key_type: 'ec' })) as Reply;

    expect(exported.data.private_key).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(exported.data.private_key_type).toBe('ec');
  });

  it('reuses the key named by key_ref for type existing', async () => {
    const mount = await newMount();
    const first = (await vault.write(`${mount}/issuers/generate/intermediate/internal`, { common_name: 'G1', key_type: 'ec', key_name: 'int-key' })) as Reply;

    const again = (await vault.write(`${mount}/issuers/generate/intermediate/existing`, { common_name: 'G1 reissued', key_ref: 'int-key' })) as Reply;
    const firstKey = new x509.Pkcs10CertificateRequest(first.data.csr).publicKey.rawData;
    const againKey = new x509.Pkcs10CertificateRequest(again.data.csr).publicKey.rawData;

    expect(again.data.key_id).toBe(first.data.key_id);
    expect(Buffer.from(againKey).equals(Buffer.from(firstKey))).toBe(true);
  });

  it('keeps existing issuers when the legacy intermediate/generate path is used (non-destructive since 1.11)', async () => {
    const mount = await newMount();
    const root = await generateRoot(mount);

    await vault.write(`${mount}/intermediate/generate/internal`, { common_name: 'Another', key_type: 'ec' });
    const issuers = (await vault.list(`${mount}/issuers`)) as Reply;

    expect(issuers.data.keys).toEqual([root.data.issuer_id]);
  });
});

describe('Vault PKI emulator: signing intermediates', () => {
  it('returns ca_chain starting with the new certificate, a numeric expiration, and stores it in the root mount', async () => {
    const rootMount = await newMount();
    const intMount = await newMount();
    const root = await generateRoot(rootMount);
    const csr = (await vault.write(`${intMount}/issuers/generate/intermediate/internal`, { common_name: 'Signed Int', key_type: 'ec' })) as Reply;

    const signed = (await vault.write(`${rootMount}/issuer/${root.data.issuer_id}/sign-intermediate`, { csr: csr.data.csr, common_name: 'Signed Int', ttl: '43800h' })) as Reply;
    const certs = (await vault.list(`${rootMount}/certs`)) as Reply;
    const stored = (await vault.read(`${rootMount}/cert/${signed.data.serial_number}`)) as Reply;
    const cert = parse(signed.data.certificate);

    expect(signed.data.ca_chain).toEqual([signed.data.certificate, root.data.certificate]);
    expect(signed.data.issuing_ca).toBe(root.data.certificate);
    expect(typeof signed.data.expiration).toBe('number');
    expect(signed.data.expiration).toBe(Math.floor(cert.notAfter.getTime() / 1000));
    expect(cert.issuer).toBe('CN=Test Root');
    expect(await cert.verify({ publicKey: parse(root.data.certificate).publicKey, signatureOnly: true })).toBe(true);
    expect(certs.data.keys).toContain(signed.data.serial_number);
    expect(stored.data.certificate).toBe(signed.data.certificate);
  });

  it('writes max_path_length 0 into basicConstraints and warns about it', async () => {
    const rootMount = await newMount();
    await generateRoot(rootMount);
    const csr = (await vault.write(`${rootMount}/intermediate/generate/internal`, { common_name: 'Leaf-only Int', key_type: 'ec' })) as Reply;

    const signed = (await vault.write(`${rootMount}/root/sign-intermediate`, { csr: csr.data.csr, ttl: '1000h', max_path_length: 0 })) as Reply;

    expect(parse(signed.data.certificate).getExtension(x509.BasicConstraintsExtension)?.pathLength).toBe(0);
    expect(parse(signed.data.certificate).subject).toBe('CN=Leaf-only Int');
    expect(signed.warnings).toContain('Max path length of the signed certificate is zero. This certificate cannot be used to issue intermediate CA certificates.');
  });

  it('truncates an intermediate that would outlive its root to the root NotAfter, with the 1.17 warning (P4)', async () => {
    const rootMount = await newMount();
    const root = await generateRoot(rootMount, { ttl: '1000h' });
    const csr = (await vault.write(`${rootMount}/intermediate/generate/internal`, { common_name: 'Long Int', key_type: 'ec' })) as Reply;

    const signed = (await vault.write(`${rootMount}/root/sign-intermediate`, { csr: csr.data.csr, common_name: 'Long Int', ttl: '2000h' })) as Reply;

    expect(signed.data.expiration).toBe(root.data.expiration);
    expect(signed.warnings).toContain(TRUNCATION_WARNING);
  });

  it('applies the signer’s leaf_not_after_behavior instead when enforce_leaf_not_after_behavior is set', async () => {
    const rootMount = await newMount();
    const root = await generateRoot(rootMount, { ttl: '1000h' });
    const csr = (await vault.write(`${rootMount}/intermediate/generate/internal`, { common_name: 'Enforced Int', key_type: 'ec' })) as Reply;
    const request = { csr: csr.data.csr, common_name: 'Enforced Int', ttl: '2000h', enforce_leaf_not_after_behavior: true };

    const refused = await rejection(vault.write(`${rootMount}/root/sign-intermediate`, request));
    await vault.update(`${rootMount}/issuer/${root.data.issuer_id}`, { leaf_not_after_behavior: 'permit' });
    const permitted = (await vault.write(`${rootMount}/root/sign-intermediate`, request)) as Reply;

    expect(refused.response?.statusCode).toBe(400);
    expect(refused.message).toMatch(/^cannot satisfy request, as TTL would result in notAfter of \S+ that is beyond the expiration of the CA certificate at \S+$/);
    expect(permitted.data.expiration).toBeGreaterThan(root.data.expiration);
    expect(permitted.warnings).toContain(
      "The expiration time for the signed certificate is after the CA's expiration time. If the new certificate is not treated as a root, validation paths with the certificate past the issuing CA's expiration time will fail.",
    );
    expect(permitted.warnings).not.toContain(TRUNCATION_WARNING);
  });

  it('refuses to sign with an unknown issuer reference with 400', async () => {
    const rootMount = await newMount();
    await generateRoot(rootMount);
    const csr = (await vault.write(`${rootMount}/intermediate/generate/internal`, { common_name: 'Orphan', key_type: 'ec' })) as Reply;

    const err = await rejection(vault.write(`${rootMount}/issuer/no-such-issuer/sign-intermediate`, { csr: csr.data.csr }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('could not fetch the CA certificate (was one set?): unable to find PKI issuer for reference: no-such-issuer');
  });
});

describe('Vault PKI emulator: importing issuers', () => {
  it('maps the new intermediate to its CSR key and the root to "", and makes the keyed issuer the default of an empty mount', async () => {
    const rootMount = await newMount();
    const intMount = await newMount();
    const root = await generateRoot(rootMount);

    const int = await makeIntermediate(rootMount, intMount);
    const config = (await vault.read(`${intMount}/config/issuers`)) as Reply;
    const rootInInt = Object.keys(int.imported.data.mapping).find((id) => id !== int.issuerId) ?? '';

    expect(int.issuerId).toMatch(UUID);
    expect(int.imported.data.imported_issuers).toEqual([int.issuerId, rootInInt]);
    expect(int.imported.data.mapping).toEqual({ [int.issuerId]: int.keyId, [rootInInt]: '' });
    expect(int.imported.data.imported_keys).toEqual([]);
    expect(int.imported.data.existing_issuers).toEqual([]);
    expect(config.data.default).toBe(int.issuerId);
    expect(((await vault.read(`${intMount}/issuer/${rootInInt}`)) as Reply).data.certificate).toBe(root.data.certificate);
  });

  it('does not move the default when a second intermediate is imported (P1), and reports the known root as existing', async () => {
    const rootMount = await newMount();
    const intMount = await newMount();
    await generateRoot(rootMount);
    const first = await makeIntermediate(rootMount, intMount, { commonName: 'G1' });

    const second = await makeIntermediate(rootMount, intMount, { commonName: 'G2' });
    const config = (await vault.read(`${intMount}/config/issuers`)) as Reply;

    expect(config.data.default).toBe(first.issuerId);
    expect(second.imported.data.imported_issuers).toEqual([second.issuerId]);
    expect(second.imported.data.existing_issuers).toHaveLength(1);
  });

  it('moves the default to the one new keyed issuer when default_follows_latest_issuer is set', async () => {
    const rootMount = await newMount();
    const intMount = await newMount();
    await generateRoot(rootMount);
    const first = await makeIntermediate(rootMount, intMount, { commonName: 'G1' });
    await vault.write(`${intMount}/config/issuers`, { default: first.issuerId, default_follows_latest_issuer: true });

    const second = await makeIntermediate(rootMount, intMount, { commonName: 'G2' });
    const config = (await vault.read(`${intMount}/config/issuers`)) as Reply;

    expect(config.data).toEqual({ default: second.issuerId, default_follows_latest_issuer: true });
  });

  it('drops duplicates: importing the same bundle twice creates nothing new', async () => {
    const rootMount = await newMount();
    const intMount = await newMount();
    await generateRoot(rootMount);
    const int = await makeIntermediate(rootMount, intMount);

    const again = (await vault.write(`${intMount}/issuers/import/bundle`, { pem_bundle: `${int.certificate}\n${int.issuingCa}\n${int.certificate}` })) as Reply;

    expect(again.data.imported_issuers).toEqual([]);
    expect(new Set(again.data.existing_issuers)).toEqual(new Set([int.issuerId, Object.keys(int.imported.data.mapping).find((id) => id !== int.issuerId)]));
  });

  it('refuses a certificate that is not a CA with 400', async () => {
    const mount = await newMount();
    await generateRoot(mount);
    await vault.write(`${mount}/roles/any`, { allow_any_name: true, key_type: 'ec' });
    const leaf = (await vault.write(`${mount}/issue/any`, { common_name: 'leaf.example.com' })) as Reply;
    const other = await newMount();

    const err = await rejection(vault.write(`${other}/issuers/import/cert`, { pem_bundle: leaf.data.certificate }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toMatch(/^Error parsing issuer 0: Refusing to import non-CA certificate\n-----BEGIN CERTIFICATE-----/);
  });

  it('refuses private keys on import/cert and takes them on import/bundle, linking the issuer to the key', async () => {
    const source = await newMount();
    const root = (await vault.write(`${source}/root/generate/exported`, { common_name: 'Portable Root', key_type: 'ec', ttl: '8760h' })) as Reply;
    const bundle = `${root.data.certificate}\n${root.data.private_key}`;
    const target = await newMount();

    const refused = await rejection(vault.write(`${target}/issuers/import/cert`, { pem_bundle: bundle }));
    const imported = (await vault.write(`${target}/issuers/import/bundle`, { pem_bundle: bundle })) as Reply;
    const issuerId = imported.data.imported_issuers[0] as string;

    expect(refused.response?.statusCode).toBe(400);
    expect(refused.message).toBe('private keys found in the PEM bundle but not allowed by the path; use /issuers/import/bundle');
    expect(imported.data.imported_keys).toHaveLength(1);
    expect(imported.data.mapping).toEqual({ [issuerId]: imported.data.imported_keys[0] });
  });
});

describe('Vault PKI emulator: reading issuers', () => {
  it('lists issuers without a token, with key_info for each', async () => {
    const rootMount = await newMount();
    const intMount = await newMount();
    await generateRoot(rootMount);
    const int = await makeIntermediate(rootMount, intMount);

    const response = await unauthenticated(`${intMount}/issuers?list=true`);
    const body = (await response.json()) as Reply;

    expect(response.status).toBe(200);
    expect(body.data.keys).toHaveLength(2);
    expect(body.data.key_info[int.issuerId]).toEqual({ issuer_name: '', is_default: true, serial_number: int.serial, key_id: int.keyId });
  });

  it('answers LIST issuers of an empty mount with 404', async () => {
    const mount = await newMount();

    const err = await rejection(vault.list(`${mount}/issuers`));

    expect(err.response?.statusCode).toBe(404);
    expect(err.response?.body).toEqual({ errors: [] });
  });

  it('reads an issuer by id, by name and as default, with usage as a comma string and the chain the mount knows', async () => {
    const rootMount = await newMount();
    const intMount = await newMount();
    const root = await generateRoot(rootMount);
    const int = await makeIntermediate(rootMount, intMount);
    await vault.update(`${intMount}/issuer/${int.issuerId}`, { issuer_name: 'int-2025' });

    const byId = (await vault.read(`${intMount}/issuer/${int.issuerId}`)) as Reply;
    const byName = (await vault.read(`${intMount}/issuer/int-2025`)) as Reply;
    const byDefault = (await vault.read(`${intMount}/issuer/default`)) as Reply;

    expect(byId.data).toMatchObject({
      issuer_id: int.issuerId,
      issuer_name: 'int-2025',
      key_id: int.keyId,
      certificate: int.certificate,
      ca_chain: [int.certificate, root.data.certificate],
      manual_chain: null,
      leaf_not_after_behavior: 'err',
      usage: 'crl-signing,issuing-certificates,ocsp-signing,read-only',
      revoked: false,
    });
    expect(byName.data).toEqual(byId.data);
    expect(byDefault.data).toEqual(byId.data);
  });

  it('stops ca_chain at the intermediate when only the bare intermediate was imported (P2)', async () => {
    const rootMount = await newMount();
    const intMount = await newMount();
    await generateRoot(rootMount);

    const int = await makeIntermediate(rootMount, intMount, { chain: false });
    const read = (await vault.read(`${intMount}/issuer/${int.issuerId}`)) as Reply;

    expect(read.data.ca_chain).toEqual([int.certificate]);
  });

  it('needs a token for the issuer read but not for its json, pem and der forms', async () => {
    const mount = await newMount();
    const root = await generateRoot(mount);
    const id = root.data.issuer_id as string;

    const denied = await unauthenticated(`${mount}/issuer/${id}`);
    const json = (await (await unauthenticated(`${mount}/issuer/${id}/json`)).json()) as Reply;
    const pem = await unauthenticated(`${mount}/issuer/${id}/pem`);
    const der = await unauthenticated(`${mount}/issuer/${id}/der`);

    expect(denied.status).toBe(403);
    expect(json.data).toMatchObject({ certificate: root.data.certificate, ca_chain: [root.data.certificate], issuer_id: id });
    expect(pem.headers.get('content-type')).toBe('application/pem-certificate-chain');
    expect(await pem.text()).toBe(root.data.certificate);
    expect(der.headers.get('content-type')).toBe('application/pkix-cert');
    expect(Buffer.from(await der.arrayBuffer()).equals(Buffer.from(parse(root.data.certificate).rawData))).toBe(true);
  });

  it('answers an unknown issuer reference with 400 and the resolver message', async () => {
    const mount = await newMount();
    await generateRoot(mount);

    const err = await rejection(vault.read(`${mount}/issuer/nope`));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('unable to find PKI issuer for reference: nope');
  });
});

describe('Vault PKI emulator: updating issuers', () => {
  it('merges a PATCH: renaming keeps the usage and leaf_not_after_behavior set before', async () => {
    const mount = await newMount();
    const root = await generateRoot(mount);
    const path = `${mount}/issuer/${root.data.issuer_id}`;
    await vault.update(path, { leaf_not_after_behavior: 'truncate', usage: 'read-only,crl-signing,issuing-certificates' });

    const renamed = (await vault.update(path, { issuer_name: 'renamed' })) as Reply;

    expect(renamed.data).toMatchObject({ issuer_name: 'renamed', leaf_not_after_behavior: 'truncate', usage: 'crl-signing,issuing-certificates,read-only' });
  });

  it('resets every omitted field to its default on POST (P5)', async () => {
    const mount = await newMount();
    const root = await generateRoot(mount, { issuer_name: 'before' });
    const path = `${mount}/issuer/${root.data.issuer_id}`;
    await vault.update(path, { leaf_not_after_behavior: 'truncate', usage: ['read-only', 'crl-signing', 'issuing-certificates'] });

    const replaced = (await vault.write(path, { issuer_name: 'after' })) as Reply;

    expect(replaced.data).toMatchObject({ issuer_name: 'after', leaf_not_after_behavior: 'err', usage: 'crl-signing,issuing-certificates,ocsp-signing,read-only' });
  });

  it('parses usage as a set, from an array or a comma string', async () => {
    const mount = await newMount();
    const root = await generateRoot(mount);
    const path = `${mount}/issuer/${root.data.issuer_id}`;

    const fromArray = (await vault.update(path, { usage: ['issuing-certificates', 'crl-signing', 'crl-signing'] })) as Reply;
    const fromString = (await vault.update(path, { usage: 'ocsp-signing, read-only' })) as Reply;

    expect(fromArray.data.usage).toBe('crl-signing,issuing-certificates,read-only');
    expect(fromString.data.usage).toBe('ocsp-signing,read-only');
  });

  it('refuses an unknown leaf_not_after_behavior and an unknown usage with 400', async () => {
    const mount = await newMount();
    const root = await generateRoot(mount);
    const path = `${mount}/issuer/${root.data.issuer_id}`;

    const behavior = await rejection(vault.update(path, { leaf_not_after_behavior: 'sometimes' }));
    const usage = await rejection(vault.update(path, { usage: 'signing-everything' }));

    expect(behavior.response?.statusCode).toBe(400);
    expect(behavior.message).toBe('Unknown value for field `leaf_not_after_behavior`. Possible values are `err`, `truncate`, and `permit`.');
    expect(usage.response?.statusCode).toBe(400);
    expect(usage.message).toBe('Unable to parse specified usages: [signing-everything] - valid values are crl-signing,issuing-certificates,ocsp-signing,read-only');
  });

  it('requires manual_chain to start with the issuer itself', async () => {
    const rootMount = await newMount();
    const intMount = await newMount();
    await generateRoot(rootMount);
    const int = await makeIntermediate(rootMount, intMount);
    const rootInInt = Object.keys(int.imported.data.mapping).find((id) => id !== int.issuerId) ?? '';

    const refused = await rejection(vault.update(`${intMount}/issuer/${int.issuerId}`, { manual_chain: [rootInInt] }));
    const accepted = (await vault.update(`${intMount}/issuer/${int.issuerId}`, { manual_chain: ['self', rootInInt] })) as Reply;

    expect(refused.response?.statusCode).toBe(400);
    expect(refused.message).toBe(`expected first cert in chain to be a self-reference, but was: ${rootInInt}/${rootInInt}`);
    expect(accepted.data.manual_chain).toEqual([int.issuerId, rootInInt]);
    expect(accepted.data.ca_chain).toHaveLength(2);
  });

  it('answers a PATCH on an issuer that does not exist with 404', async () => {
    const mount = await newMount();
    await generateRoot(mount);

    const err = await rejection(vault.update(`${mount}/issuer/missing-issuer`, { issuer_name: 'x' }));

    expect(err.response?.statusCode).toBe(404);
  });
});

describe('Vault PKI emulator: the default issuer', () => {
  it('sets the default by name and reads it back as an id', async () => {
    const mount = await newMount();
    await generateRoot(mount, { issuer_name: 'first' });
    const second = await generateRoot(mount, { issuer_name: 'second' });

    const written = (await vault.write(`${mount}/config/issuers`, { default: 'second' })) as Reply;
    const listed = (await vault.list(`${mount}/issuers`)) as Reply;

    expect(written.data).toEqual({ default: second.data.issuer_id, default_follows_latest_issuer: false });
    expect(listed.data.key_info[second.data.issuer_id].is_default).toBe(true);
  });

  it('refuses an empty default, the literal default and an unknown reference with Vault’s 400 messages', async () => {
    const mount = await newMount();
    await generateRoot(mount);

    const empty = await rejection(vault.write(`${mount}/config/issuers`, { default: '' }));
    const literal = await rejection(vault.write(`${mount}/config/issuers`, { default: 'default' }));
    const unknown = await rejection(vault.write(`${mount}/config/issuers`, { default: 'ghost' }));

    expect([empty.response?.statusCode, literal.response?.statusCode, unknown.response?.statusCode]).toEqual([400, 400, 400]);
    expect(empty.message).toBe("Invalid issuer specification; must be non-empty and can't be 'default'.");
    expect(literal.message).toBe("Invalid issuer specification; must be non-empty and can't be 'default'.");
    expect(unknown.message).toBe('Error resolving issuer reference: unable to find PKI issuer for reference: ghost');
  });

  it('accepts an issuer without a key as default, with a warning', async () => {
    const rootMount = await newMount();
    const intMount = await newMount();
    await generateRoot(rootMount);
    const int = await makeIntermediate(rootMount, intMount);
    const keyless = Object.keys(int.imported.data.mapping).find((id) => id !== int.issuerId) ?? '';

    const written = (await vault.write(`${intMount}/config/issuers`, { default: keyless })) as Reply;

    expect(written.data.default).toBe(keyless);
    expect(written.warnings?.[0]).toMatch(/^This selected default issuer has no key associated with it\./);
  });
});

describe('Vault PKI emulator: revoking and deleting issuers', () => {
  it('marks a revoked issuer revoked, drops issuing-certificates from its usage, and answers the same on a second revoke', async () => {
    const mount = await newMount();
    const root = await generateRoot(mount);

    const revoked = (await vault.write(`${mount}/issuer/${root.data.issuer_id}/revoke`, {})) as Reply;
    const again = (await vault.write(`${mount}/issuer/${root.data.issuer_id}/revoke`, {})) as Reply;

    expect(revoked.data).toMatchObject({ revoked: true, usage: 'crl-signing,ocsp-signing,read-only' });
    expect(typeof revoked.data.revocation_time).toBe('number');
    expect(revoked.data.revocation_time_rfc3339).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(again.data.revocation_time).toBe(revoked.data.revocation_time);
    expect(revoked.warnings).toContain(
      'This issuer is currently configured as the default issuer for this mount; operations such as certificate issuance may not work until a new default issuer is selected.',
    );
  });

  it('refuses to give a revoked issuer issuing-certificates back with 400', async () => {
    const mount = await newMount();
    const root = await generateRoot(mount);
    await vault.write(`${mount}/issuer/${root.data.issuer_id}/revoke`, {});

    const err = await rejection(vault.update(`${mount}/issuer/${root.data.issuer_id}`, { usage: 'issuing-certificates,crl-signing' }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toMatch(/^This issuer was revoked; unable to modify its usage to include certificate signing again\./);
  });

  it('clears the default with a warning when the default issuer is deleted, and keeps its key', async () => {
    const mount = await newMount();
    const root = await generateRoot(mount);

    const deleted = (await vault.delete(`${mount}/issuer/${root.data.issuer_id}`)) as Reply;
    const config = (await vault.read(`${mount}/config/issuers`)) as Reply;
    const keys = (await vault.list(`${mount}/keys`)) as Reply;

    expect(deleted.warnings).toContain(
      `Deleted issuer ${root.data.issuer_id} (via issuer_ref ${root.data.issuer_id}); this was configured as the default issuer. Operations without an explicit issuer will not work until a new default is configured.`,
    );
    expect(config.data.default).toBe('');
    expect(keys.data.keys).toEqual([root.data.key_id]);
  });

  it('answers a delete of an issuer that does not exist with success', async () => {
    const mount = await newMount();

    await expect(vault.delete(`${mount}/issuer/never-existed`)).resolves.toBeFalsy();
  });
});

describe('Vault PKI emulator: keys', () => {
  it('refuses to delete a key an issuer uses, then deletes it once the issuer is gone', async () => {
    const mount = await newMount();
    const root = await generateRoot(mount);

    const inUse = await rejection(vault.delete(`${mount}/key/${root.data.key_id}`));
    await vault.delete(`${mount}/issuer/${root.data.issuer_id}`);
    await vault.delete(`${mount}/key/${root.data.key_id}`);
    const keys = await rejection(vault.list(`${mount}/keys`));

    expect(inUse.response?.statusCode).toBe(400);
    expect(inUse.message).toBe(`Failed to Delete Key.  Key in Use by Issuer: ${root.data.issuer_id}`);
    expect(keys.response?.statusCode).toBe(404);
  });

  it('reads a key by id or name and answers an unknown key with 400', async () => {
    const mount = await newMount();
    const root = await generateRoot(mount, { key_name: 'root-key' });

    const byName = (await vault.read(`${mount}/key/root-key`)) as Reply;
    const unknown = await rejection(vault.read(`${mount}/key/other-key`));

    expect(byName.data).toMatchObject({ key_id: root.data.key_id, key_name: 'root-key', key_type: 'ec' });
    expect(byName.data.subject_key_id).toMatch(COLON_SERIAL);
    expect(unknown.response?.statusCode).toBe(400);
    expect(unknown.message).toBe('unable to find PKI key for reference: other-key');
  });
});

describe('Vault PKI emulator: roles', () => {
  it('creates a role with Vault’s defaults for every field not given', async () => {
    const mount = await newMount();

    await vault.write(`${mount}/roles/web`, { allowed_domains: ['example.com'], allow_subdomains: true });
    const role = (await vault.read(`${mount}/roles/web`)) as Reply;

    expect(role.data).toMatchObject({
      issuer_ref: 'default',
      allowed_domains: ['example.com'],
      allow_subdomains: true,
      allow_bare_domains: false,
      allow_glob_domains: false,
      allow_any_name: false,
      allow_localhost: true,
      enforce_hostnames: true,
      allow_ip_sans: true,
      server_flag: true,
      client_flag: true,
      key_type: 'rsa',
      key_bits: 2048,
      key_usage: ['DigitalSignature', 'KeyAgreement', 'KeyEncipherment'],
      ext_key_usage: [],
      use_csr_common_name: true,
      use_csr_sans: true,
      no_store: false,
      require_cn: true,
      not_before_duration: 30,
      ttl: 0,
      max_ttl: 0,
    });
  });

  it('merges a PATCH into the stored role but resets omitted fields on POST (P5)', async () => {
    const mount = await newMount();
    await vault.write(`${mount}/roles/web`, { allowed_domains: 'example.com,example.org', client_flag: false, ttl: '720h' });

    const patched = (await vault.update(`${mount}/roles/web`, { max_ttl: '1440h' })) as Reply;
    const replaced = (await vault.write(`${mount}/roles/web`, { max_ttl: '1440h' })) as Reply;

    expect(patched.data).toMatchObject({ allowed_domains: ['example.com', 'example.org'], client_flag: false, ttl: 720 * 3600, max_ttl: 1440 * 3600 });
    expect(replaced.data).toMatchObject({ allowed_domains: [], client_flag: true, ttl: 0, max_ttl: 1440 * 3600 });
  });

  it('stores issuer_ref as written, not resolved', async () => {
    const mount = await newMount();
    await generateRoot(mount, { issuer_name: 'root-a' });

    await vault.write(`${mount}/roles/pinned`, { issuer_ref: 'root-a', key_type: 'ec' });
    const role = (await vault.read(`${mount}/roles/pinned`)) as Reply;

    expect(role.data.issuer_ref).toBe('root-a');
    expect(role.data.key_bits).toBe(256);
  });

  it('refuses a ttl longer than max_ttl with 400', async () => {
    const mount = await newMount();

    const err = await rejection(vault.write(`${mount}/roles/bad`, { ttl: '48h', max_ttl: '24h' }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('"ttl" value must be less than "max_ttl" value');
  });

  it('answers LIST of no roles, GET and PATCH of an unknown role with 404, and DELETE with success', async () => {
    const mount = await newMount();

    const list = await rejection(vault.list(`${mount}/roles`));
    const read = await rejection(vault.read(`${mount}/roles/ghost`));
    const patch = await rejection(vault.update(`${mount}/roles/ghost`, { ttl: '1h' }));
    await vault.write(`${mount}/roles/short-lived`, { ttl: '1h' });
    const listed = (await vault.list(`${mount}/roles`)) as Reply;
    await vault.delete(`${mount}/roles/short-lived`);

    expect([list.response?.statusCode, read.response?.statusCode, patch.response?.statusCode]).toEqual([404, 404, 404]);
    expect(listed.data.keys).toEqual(['short-lived']);
    await expect(vault.read(`${mount}/roles/short-lived`)).rejects.toMatchObject({ response: { statusCode: 404 } });
  });
});
