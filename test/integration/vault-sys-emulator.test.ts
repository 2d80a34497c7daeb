import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { Agent, request as httpsRequest } from 'node:https';
import * as x509 from '@peculiar/x509';
import NodeVault = require('node-vault');
import { type AutoUnsealProvider, createLocalAutoUnseal } from '../../sandbox/vault/auto-unseal';
import { envelope, rawBody, VaultApiError } from '../../sandbox/vault/envelope';
import { startVaultCluster, type VaultClusterHandle, type VaultClusterOptions } from '../../sandbox/vault/vault-cluster';

/**
 * The Vault emulator's sys/* surface, driven over HTTP by the real node-vault client the adapters
 * use (VAULT_API.md section 7): 200/204 resolve, anything else rejects with
 * `err.response.statusCode` and `err.message = errors[0]`. sys/health goes through plain fetch,
 * because node-vault hides its status code (P10).
 */

interface SealStatus {
  type: string;
  initialized: boolean;
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  nonce: string;
  version: string;
  build_date: string;
  migration: boolean;
  cluster_name?: string;
  cluster_id?: string;
  recovery_seal: boolean;
  recovery_seal_type?: string;
  storage_type: string;
}

interface InitResponse {
  keys: string[];
  keys_base64: string[];
  recovery_keys?: string[];
  recovery_keys_base64?: string[];
  root_token: string;
}

interface ApiError {
  message: string;
  response?: { statusCode: number; body: unknown };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const WRONG_KEY_500 = 'unable to retrieve stored keys: failed to decrypt keys from storage: cipher: message authentication failed';

const started: VaultClusterHandle[] = [];

async function cluster(options?: VaultClusterOptions): Promise<VaultClusterHandle> {
  const handle = await startVaultCluster(options);
  started.push(handle);
  return handle;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((handle) => handle.close()));
});

function vault(handle: VaultClusterHandle, nodeId: string, token?: string): NodeVault.client {
  return NodeVault({ endpoint: handle.node(nodeId).url, token });
}

async function rejection(call: Promise<unknown>): Promise<ApiError> {
  try {
    await call;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected the call to reject');
}

async function initShamir(handle: VaultClusterHandle, shares = 5, threshold = 3): Promise<InitResponse> {
  return (await vault(handle, 'vault-0').init({ secret_shares: shares, secret_threshold: threshold })) as InitResponse;
}

async function unsealNode(handle: VaultClusterHandle, nodeId: string, keys: readonly string[]): Promise<SealStatus> {
  let status: SealStatus | undefined;
  for (const key of keys) status = (await vault(handle, nodeId).unseal({ key })) as SealStatus;
  if (!status) throw new Error('no keys given');
  return status;
}

async function status(handle: VaultClusterHandle, nodeId: string): Promise<SealStatus> {
  return (await vault(handle, nodeId).status()) as SealStatus;
}

async function health(handle: VaultClusterHandle, nodeId: string, query = '', method = 'GET'): Promise<{ code: number; text: string }> {
  const response = await fetch(`${handle.node(nodeId).url}/v1/sys/health${query}`, { method });
  return { code: response.status, text: await response.text() };
}

/** An AutoUnsealProvider whose KMS can be switched off, as the lead's KMS emulator fault would. */
function switchableKms(): AutoUnsealProvider & { reachable: boolean } {
  const local = createLocalAutoUnseal();
  const kms = {
    reachable: true,
    wrap: (plain: Buffer) => local.wrap(plain),
    unwrap: async (blob: Buffer) => {
      if (!kms.reachable) throw new Error('KMS unreachable');
      return local.unwrap(blob);
    },
  };
  return kms;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A self-signed P-256 certificate for 127.0.0.1, PEM encoded, with its PKCS#8 key. */
async function selfSignedLoopbackCertificate(): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=vault-emulator',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: algorithm,
    keys: keys as unknown as x509.X509CertificateCreateSelfSignedParams['keys'],
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
  return { cert: certificate.toString('pem'), key };
}

describe('Vault emulator: seal status and init', () => {
  it('reports an uninitialized shamir node with every seal-status field and no cluster identity', async () => {
    const handle = await cluster();

    const body = await status(handle, 'vault-1');

    expect(body).toEqual({
      type: 'shamir',
      initialized: false,
      sealed: true,
      t: 0,
      n: 0,
      progress: 0,
      nonce: '',
      version: '1.19.0',
      build_date: expect.any(String),
      migration: false,
      recovery_seal: false,
      storage_type: 'raft',
    });
  });

  it('initializes the whole cluster from one node and returns hex and base64 shares of one key plus a root token', async () => {
    const handle = await cluster();

    const init = await initShamir(handle, 5, 3);

    expect(init.keys).toHaveLength(5);
    expect(init.keys.every((key) => /^[0-9a-f]{66}$/.test(key))).toBe(true);
    expect(init.keys_base64.map((key) => Buffer.from(key, 'base64').toString('hex'))).toEqual(init.keys);
    expect(init.root_token).toMatch(/^hvs\.[A-Za-z0-9]{24}$/);
    expect(handle.rootToken()).toBe(init.root_token);
    for (const nodeId of ['vault-0', 'vault-1', 'vault-2']) {
      await expect(vault(handle, nodeId).initialized()).resolves.toEqual({ initialized: true });
      await expect(status(handle, nodeId)).resolves.toMatchObject({ initialized: true, sealed: true, t: 3, n: 5, progress: 0 });
    }
  });

  it('refuses a second init on any node with 400 Vault is already initialized', async () => {
    const handle = await cluster();
    await initShamir(handle);

    const err = await rejection(vault(handle, 'vault-2').init({ secret_shares: 5, secret_threshold: 3 }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('Vault is already initialized');
  });

  it('refuses a threshold larger than the number of shares with 400', async () => {
    const handle = await cluster();

    const err = await rejection(vault(handle, 'vault-0').init({ secret_shares: 2, secret_threshold: 3 }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('invalid seal configuration: threshold cannot be larger than shares');
    await expect(vault(handle, 'vault-0').initialized()).resolves.toEqual({ initialized: false });
  });

  it('refuses recovery parameters on a shamir seal with 400 naming them', async () => {
    const handle = await cluster();

    const err = await rejection(vault(handle, 'vault-0').write('sys/init', { recovery_shares: 5, recovery_threshold: 3 }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('parameters recovery_shares,recovery_threshold not applicable to seal type shamir');
  });

  it('refuses secret_shares and secret_threshold on an awskms seal with 400 naming them', async () => {
    const handle = await cluster({ nodes: [{ id: 'vault-0', seal: 'awskms' }] });

    const err = await rejection(vault(handle, 'vault-0').init({ secret_shares: 5, secret_threshold: 3 }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('parameters secret_shares,secret_threshold not applicable to seal type awskms');
  });
});

describe('Vault emulator: shamir unseal', () => {
  it('unseals a 3-node 5-of-3 cluster node by node, each with its own progress and nonce', async () => {
    const handle = await cluster();
    const init = await initShamir(handle, 5, 3);

    for (const [index, nodeId] of ['vault-0', 'vault-1', 'vault-2'].entries()) {
      const client = vault(handle, nodeId);
      // Different share subsets per node, hex and base64 mixed: any 3 of 5 work.
      const first = (await client.unseal({ key: init.keys[index] })) as SealStatus;
      const second = (await client.unseal({ key: init.keys_base64[index + 1] })) as SealStatus;
      const others = await Promise.all(['vault-0', 'vault-1', 'vault-2'].filter((id) => id !== nodeId).map((id) => status(handle, id)));
      const third = (await client.unseal({ key: init.keys[index + 2] })) as SealStatus;

      expect(first).toMatchObject({ sealed: true, progress: 1, t: 3, n: 5 });
      expect(first.nonce).toMatch(UUID);
      expect(second).toMatchObject({ sealed: true, progress: 2, nonce: first.nonce });
      expect(others.every((other) => other.progress === 0)).toBe(true);
      expect(third).toMatchObject({ sealed: false, progress: 0, nonce: '' });
      expect(third.cluster_name).toMatch(/^vault-cluster-/);
      expect(third.cluster_id).toMatch(UUID);
    }
  });

  it('ignores a repeated share: progress and nonce do not move', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);
    const client = vault(handle, 'vault-0');

    const first = (await client.unseal({ key: init.keys[0] })) as SealStatus;
    const again = (await client.unseal({ key: init.keys[0] })) as SealStatus;
    const sameShareAsBase64 = (await client.unseal({ key: init.keys_base64[0] })) as SealStatus;

    expect(first.progress).toBe(1);
    expect(again).toMatchObject({ sealed: true, progress: 1, nonce: first.nonce });
    expect(sameShareAsBase64).toMatchObject({ sealed: true, progress: 1, nonce: first.nonce });
  });

  it('fails a wrong share set only at the threshold, with 500 and the AES-GCM message, and resets progress', async () => {
    const handle = await cluster();
    const other = await cluster();
    const init = await initShamir(handle);
    const foreign = await initShamir(other);
    const client = vault(handle, 'vault-0');

    await client.unseal({ key: init.keys[0] });
    const beforeThreshold = (await client.unseal({ key: foreign.keys[1] })) as SealStatus;
    const err = await rejection(client.unseal({ key: init.keys[2] }));
    const after = await status(handle, 'vault-0');

    expect(beforeThreshold).toMatchObject({ sealed: true, progress: 2 });
    expect(err.response?.statusCode).toBe(500);
    expect(err.message).toBe(WRONG_KEY_500);
    expect(after).toMatchObject({ sealed: true, progress: 0, nonce: '' });
    await expect(unsealNode(handle, 'vault-0', init.keys.slice(0, 3))).resolves.toMatchObject({ sealed: false });
  });

  it('answers a wrong share set with 400 Unseal failed, invalid key when configured to', async () => {
    const handle = await cluster({ wrongKeyStatus: 400 });
    const other = await cluster();
    await initShamir(handle);
    const foreign = await initShamir(other);

    const err = await rejection(unsealNode(handle, 'vault-0', foreign.keys.slice(0, 3)));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('Unseal failed, invalid key');
    await expect(status(handle, 'vault-0')).resolves.toMatchObject({ sealed: true, progress: 0 });
  });

  it('throws partial progress away on reset, and reset wins over a key sent with it', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);
    const client = vault(handle, 'vault-0');
    const first = (await client.unseal({ key: init.keys[0] })) as SealStatus;

    const reset = (await client.unseal({ key: init.keys[1], reset: true })) as SealStatus;
    const fresh = (await client.unseal({ key: init.keys[2] })) as SealStatus;

    expect(first.progress).toBe(1);
    expect(reset).toMatchObject({ sealed: true, progress: 0, nonce: '' });
    expect(fresh.progress).toBe(1);
    expect(fresh.nonce).not.toBe(first.nonce);
  });

  it('refuses reset on an unsealed node with 400 vault is unsealed, but answers a key there with 200', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);
    await unsealNode(handle, 'vault-0', init.keys.slice(0, 3));
    const client = vault(handle, 'vault-0');

    const err = await rejection(client.unseal({ reset: true }));
    const keyWhileUnsealed = (await client.unseal({ key: init.keys[4] })) as SealStatus;

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('vault is unsealed');
    expect(keyWhileUnsealed).toMatchObject({ sealed: false, progress: 0 });
  });

  it('asks for a key when neither key nor reset is sent', async () => {
    const handle = await cluster();
    await initShamir(handle);

    const err = await rejection(vault(handle, 'vault-0').unseal({}));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe("'key' must be specified in request body as JSON, or 'reset' set to true");
  });

  it('rejects a key that is neither hex nor base64, and one too short for the barrier', async () => {
    const handle = await cluster();
    await initShamir(handle);
    const client = vault(handle, 'vault-0');

    const undecodable = await rejection(client.unseal({ key: 'not a key!' }));
    const tooShort = await rejection(client.unseal({ key: 'abcd' }));

    expect(undecodable.response?.statusCode).toBe(400);
    expect(undecodable.message).toBe("'key' must be a valid hex or base64 string");
    expect(tooShort.response?.statusCode).toBe(400);
    expect(tooShort.message).toBe('invalid key: key is shorter than minimum 16 bytes');
    await expect(status(handle, 'vault-0')).resolves.toMatchObject({ progress: 0 });
  });

  it('answers an unseal key on an uninitialized node with 500 Vault is not initialized', async () => {
    const handle = await cluster();

    const err = await rejection(vault(handle, 'vault-0').unseal({ key: 'ab'.repeat(33) }));

    expect(err.response?.statusCode).toBe(500);
    expect(err.message).toBe('Vault is not initialized');
  });

  it('refuses migrate:true when no seal migration is configured', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);

    const err = await rejection(vault(handle, 'vault-0').unseal({ key: init.keys[0], migrate: true }));

    expect(err.response?.statusCode).toBe(500);
    expect(err.message).toBe("can't perform a seal migration, no migration seal found");
  });
});

describe('Vault emulator: health, leader, seal and step-down', () => {
  it('answers sys/health with 501, 503, 200 and 429 as the node moves from uninitialized to standby', async () => {
    const handle = await cluster();

    const uninitialized = await health(handle, 'vault-0');
    const init = await initShamir(handle);
    const sealed = await health(handle, 'vault-0');
    await unsealNode(handle, 'vault-0', init.keys.slice(0, 3));
    await unsealNode(handle, 'vault-1', init.keys.slice(1, 4));
    const active = await health(handle, 'vault-0');
    const standby = await health(handle, 'vault-1');

    expect(uninitialized.code).toBe(501);
    expect(JSON.parse(uninitialized.text)).toMatchObject({ initialized: false, sealed: true });
    expect(sealed.code).toBe(503);
    expect(JSON.parse(sealed.text)).toMatchObject({ initialized: true, sealed: true, standby: true });
    expect(active.code).toBe(200);
    expect(JSON.parse(active.text)).toMatchObject({ initialized: true, sealed: false, standby: false, performance_standby: false, version: '1.19.0' });
    expect(JSON.parse(active.text).cluster_id).toMatch(UUID);
    expect(standby.code).toBe(429);
    expect(JSON.parse(standby.text)).toMatchObject({ sealed: false, standby: true });
  });

  it('lets query parameters override every sys/health code, and standbyok turn a standby into 200', async () => {
    const handle = await cluster();
    const uninitialized = await health(handle, 'vault-0', '?uninitcode=299');
    const init = await initShamir(handle);
    await unsealNode(handle, 'vault-0', init.keys.slice(0, 3));
    await unsealNode(handle, 'vault-1', init.keys.slice(0, 3));

    const codes = await Promise.all([
      health(handle, 'vault-0', '?activecode=250'),
      health(handle, 'vault-1', '?standbyok=true'),
      health(handle, 'vault-1', '?standbycode=298'),
      health(handle, 'vault-1', '?standbyok=true&activecode=251'),
      health(handle, 'vault-2', '?sealedcode=297'),
    ]);

    expect(uninitialized.code).toBe(299);
    expect(codes.map((answer) => answer.code)).toEqual([250, 200, 298, 251, 297]);
  });

  it('answers 400 with an empty error list for a code that is not an integer or a bool that is not a bool', async () => {
    const handle = await cluster();

    const badCode = await health(handle, 'vault-0', '?activecode=abc');
    const badBool = await health(handle, 'vault-0', '?standbyok=maybe');
    const badPerfBool = await health(handle, 'vault-0', '?perfstandbyok=2');

    expect([badCode.code, badBool.code, badPerfBool.code]).toEqual([400, 400, 400]);
    expect(JSON.parse(badCode.text)).toEqual({ errors: [] });
  });

  it('answers HEAD sys/health with the status code and no body', async () => {
    const handle = await cluster();
    await initShamir(handle);

    const head = await health(handle, 'vault-0', '', 'HEAD');

    expect(head).toEqual({ code: 503, text: '' });
  });

  it('shows how node-vault hides the health code: a standby resolves with its body', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);
    await unsealNode(handle, 'vault-0', init.keys.slice(0, 3));
    await unsealNode(handle, 'vault-1', init.keys.slice(0, 3));

    const body = (await vault(handle, 'vault-1').health()) as { standby: boolean; sealed: boolean };

    expect(body).toMatchObject({ standby: true, sealed: false });
  });

  it('answers sys/leader with 503 while sealed, then names the active node on every unsealed node', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);
    const sealed = await rejection(vault(handle, 'vault-0').leader());
    await unsealNode(handle, 'vault-0', init.keys.slice(0, 3));
    await unsealNode(handle, 'vault-1', init.keys.slice(0, 3));

    const fromActive = (await vault(handle, 'vault-0').leader()) as Record<string, unknown>;
    const fromStandby = (await vault(handle, 'vault-1').leader()) as Record<string, unknown>;

    expect(sealed.response?.statusCode).toBe(503);
    expect(sealed.message).toBe('Vault is sealed');
    expect(fromActive).toMatchObject({ ha_enabled: true, is_self: true, leader_address: handle.node('vault-0').url, performance_standby: false });
    expect(Number.isNaN(Date.parse(String(fromActive.active_time)))).toBe(false);
    expect(fromStandby).toMatchObject({ ha_enabled: true, is_self: false, leader_address: handle.node('vault-0').url });
  });

  it('seals the active node only with the root token: 403 without, 204 with, and the standby takes over', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);
    await unsealNode(handle, 'vault-0', init.keys.slice(0, 3));
    await unsealNode(handle, 'vault-1', init.keys.slice(0, 3));

    const denied = await rejection(vault(handle, 'vault-0').seal());
    const wrongToken = await rejection(vault(handle, 'vault-0', 'hvs.not-a-token').seal());
    const sealed = await vault(handle, 'vault-0', init.root_token).seal();

    expect(denied.response?.statusCode).toBe(403);
    expect(denied.message).toBe('permission denied');
    expect(wrongToken.response?.statusCode).toBe(403);
    expect(sealed).toBe('');
    await expect(status(handle, 'vault-0')).resolves.toMatchObject({ sealed: true, progress: 0 });
    await expect(health(handle, 'vault-1')).resolves.toMatchObject({ code: 200 });
  });

  it('accepts the root token as Authorization: Bearer for sys/seal', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);
    await unsealNode(handle, 'vault-0', init.keys.slice(0, 3));

    const response = await fetch(`${handle.node('vault-0').url}/v1/sys/seal`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${init.root_token}` },
    });

    expect(response.status).toBe(204);
    expect(handle.node('vault-0').state().sealed).toBe(true);
  });

  it('refuses to seal a standby with 500, even with the root token', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);
    await unsealNode(handle, 'vault-0', init.keys.slice(0, 3));
    await unsealNode(handle, 'vault-1', init.keys.slice(0, 3));

    const err = await rejection(vault(handle, 'vault-1', init.root_token).seal());

    expect(err.response?.statusCode).toBe(500);
    expect(err.message).toBe('vault cannot seal when in standby mode; please restart instead');
    expect(handle.node('vault-1').state()).toMatchObject({ sealed: false, standby: true });
  });

  it('steps the active node down with 204 and hands the lock to a standby', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);
    await unsealNode(handle, 'vault-0', init.keys.slice(0, 3));
    await unsealNode(handle, 'vault-1', init.keys.slice(0, 3));

    const answer = await vault(handle, 'vault-0', init.root_token).stepDown();

    expect(answer).toBe('');
    expect(handle.node('vault-0').state()).toMatchObject({ sealed: false, active: false, standby: true });
    expect(handle.node('vault-1').state()).toMatchObject({ active: true });
    await expect(health(handle, 'vault-1')).resolves.toMatchObject({ code: 200 });
  });

  it('seals a node programmatically as after a restart, and a standby becomes active', async () => {
    const handle = await cluster();
    await handle.bootstrap();

    handle.node('vault-0').seal();

    await expect(health(handle, 'vault-0')).resolves.toMatchObject({ code: 503 });
    await expect(health(handle, 'vault-1')).resolves.toMatchObject({ code: 200 });
    await expect(health(handle, 'vault-2')).resolves.toMatchObject({ code: 429 });
  });
});

describe('Vault emulator: awskms auto-unseal', () => {
  async function awskmsCluster(kms: AutoUnsealProvider): Promise<VaultClusterHandle> {
    return cluster({
      nodes: [
        { id: 'vault-0', seal: 'awskms' },
        { id: 'vault-1', seal: 'awskms' },
      ],
      autoUnseal: kms,
      autoUnsealIntervalMs: 25,
    });
  }

  it('initializes with recovery shares only, and every node unseals itself through KMS', async () => {
    const handle = await awskmsCluster(switchableKms());

    const init = (await vault(handle, 'vault-0').write('sys/init', { recovery_shares: 5, recovery_threshold: 3 })) as InitResponse;
    const statuses = await Promise.all([status(handle, 'vault-0'), status(handle, 'vault-1')]);

    expect(init.keys).toEqual([]);
    expect(init.keys_base64).toEqual([]);
    expect(init.recovery_keys).toHaveLength(5);
    expect(init.recovery_keys_base64).toHaveLength(5);
    expect(init.root_token).toMatch(/^hvs\./);
    for (const body of statuses) {
      expect(body).toMatchObject({ type: 'awskms', initialized: true, sealed: false, t: 3, n: 5, recovery_seal: true, recovery_seal_type: 'shamir' });
    }
    await expect(health(handle, 'vault-0')).resolves.toMatchObject({ code: 200 });
    await expect(health(handle, 'vault-1')).resolves.toMatchObject({ code: 429 });
  });

  it('stays sealed while KMS unwrap fails and unseals on the next seal-status read once it works', async () => {
    const kms = switchableKms();
    const handle = await awskmsCluster(kms);
    await vault(handle, 'vault-0').write('sys/init', { recovery_shares: 5, recovery_threshold: 3 });
    kms.reachable = false;

    handle.node('vault-1').seal();
    await sleep(100); // several retry periods
    const whileDown = await status(handle, 'vault-1');
    kms.reachable = true;
    const afterwards = await status(handle, 'vault-1');

    expect(whileDown).toMatchObject({ type: 'awskms', initialized: true, sealed: true, recovery_seal: true, recovery_seal_type: 'shamir' });
    expect(afterwards).toMatchObject({ sealed: false });
  });

  it('retries on its own timer: a node initialized while KMS was down unseals once KMS is back', async () => {
    const kms = switchableKms();
    const handle = await awskmsCluster(kms);
    kms.reachable = false;
    await vault(handle, 'vault-0').write('sys/init', { recovery_shares: 3, recovery_threshold: 2 });
    const sealedAtFirst = handle.node('vault-0').state().sealed;

    kms.reachable = true;
    await sleep(150);

    expect(sealedAtFirst).toBe(true);
    expect(handle.node('vault-0').state().sealed).toBe(false);
    expect(handle.node('vault-1').state().sealed).toBe(false);
  });

  it('refuses unseal keys outside a migration with 500, without counting progress', async () => {
    const kms = switchableKms();
    const handle = await awskmsCluster(kms);
    const init = (await vault(handle, 'vault-0').write('sys/init', { recovery_shares: 5, recovery_threshold: 3 })) as InitResponse;
    kms.reachable = false;
    handle.node('vault-0').seal();

    const err = await rejection(vault(handle, 'vault-0').unseal({ key: init.recovery_keys?.[0] }));

    expect(err.response?.statusCode).toBe(500);
    expect(err.message).toBe('failed to decrypt encrypted stored keys');
    await expect(status(handle, 'vault-0')).resolves.toMatchObject({ sealed: true, progress: 0 });
  });

  it('keeps an operator-sealed awskms node sealed until it restarts', async () => {
    const handle = await awskmsCluster(switchableKms());
    const init = (await vault(handle, 'vault-0').write('sys/init', { recovery_shares: 1, recovery_threshold: 1 })) as InitResponse;

    await vault(handle, 'vault-0', init.root_token).seal();
    await sleep(100);
    const afterOperatorSeal = await status(handle, 'vault-0');
    handle.node('vault-0').seal();
    const afterRestart = await status(handle, 'vault-0');

    expect(afterOperatorSeal.sealed).toBe(true);
    expect(afterRestart.sealed).toBe(false);
  });
});

describe('Vault emulator: routing, envelopes and faults', () => {
  it('answers a logical path on a sealed node with 503 Vault is sealed, and an unknown path on an unsealed one with 404', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);
    const sealedErr = await rejection(vault(handle, 'vault-0', init.root_token).read('secret/data/app'));
    await unsealNode(handle, 'vault-0', init.keys.slice(0, 3));

    const missingErr = await rejection(vault(handle, 'vault-0', init.root_token).read('secret/data/app'));

    expect(sealedErr.response?.statusCode).toBe(503);
    expect(sealedErr.message).toBe('Vault is sealed');
    expect(missingErr.response?.statusCode).toBe(404);
    expect(missingErr.response?.body).toEqual({ errors: [] });
  });

  it('dispatches registered route modules with LIST, ?list=true, token checks and the success envelope', async () => {
    const handle = await cluster();
    handle.registerRoutes(() => [
      { pattern: ':mount/roles', operations: { list: () => envelope({ keys: ['web'] }) } },
      {
        pattern: ':mount/roles/:name',
        operations: {
          read: (_ctx, request) => envelope({ mount: request.params.mount, name: request.params.name }),
          patch: (_ctx, request) => envelope({ patched: request.body }),
        },
      },
    ]);
    const { rootToken } = await handle.bootstrap();
    const client = vault(handle, 'vault-1', rootToken);

    const listed = (await client.list('pki_int/roles')) as { data: unknown; request_id: string };
    const listedByQuery = await fetch(`${handle.node('vault-0').url}/v1/pki_int/roles?list=true`, { headers: { 'X-Vault-Token': rootToken } });
    const read = (await client.read('pki_int/roles/web')) as { data: unknown };
    const patched = (await client.update('pki_int/roles/web', { ttl: '720h' })) as { data: unknown };
    const denied = await rejection(vault(handle, 'vault-0').read('pki_int/roles/web'));

    expect(listed).toMatchObject({ data: { keys: ['web'] }, lease_id: '', renewable: false, wrap_info: null, warnings: null, auth: null });
    expect(listed.request_id).toMatch(UUID);
    expect(await listedByQuery.json()).toMatchObject({ data: { keys: ['web'] } });
    expect(read.data).toEqual({ mount: 'pki_int', name: 'web' });
    expect(patched.data).toEqual({ patched: { ttl: '720h' } });
    expect(denied.response?.statusCode).toBe(403);
    expect(denied.message).toBe('permission denied');
  });

  it('answers 404 to a LIST on a path that has no list operation, and 405 to another missing operation (VAULT_API.md 1.2)', async () => {
    const handle = await cluster();
    handle.registerRoutes(() => [{ pattern: ':mount/roles/:name', operations: { read: (_ctx, request) => envelope({ name: request.params.name }) } }]);
    const { rootToken } = await handle.bootstrap();
    const client = vault(handle, 'vault-0', rootToken);

    const listed = await rejection(client.list('pki_int/roles/web'));
    const listedByQuery = await fetch(`${handle.node('vault-0').url}/v1/pki_int/roles/web?list=true`, { headers: { 'X-Vault-Token': rootToken } });
    const deleted = await rejection(client.delete('pki_int/roles/web'));

    expect(listed.response?.statusCode).toBe(404);
    expect(listedByQuery.status).toBe(404);
    expect(deleted.response?.statusCode).toBe(405);
  });

  it('prefers the most specific pattern, honours a route guard, and sends raw bodies and handler errors as Vault does', async () => {
    const handle = await cluster();
    const mounts = new Set(['pki_int']);
    handle.registerRoutes(() => [
      { pattern: ':mount/ca/pem', auth: 'none', when: ({ mount }) => mounts.has(mount ?? ''), operations: { read: () => rawBody('application/pem-certificate-chain', 'PEM') } },
      { pattern: 'pki_int/ca/pem', auth: 'none', operations: { read: () => rawBody('text/plain', 'specific') } },
      { pattern: ':mount/issuer/:ref', auth: 'none', operations: { read: () => { throw new VaultApiError(400, 'unable to find issuer'); } } },
    ]);
    await handle.bootstrap();
    const url = handle.node('vault-0').url;

    const specific = await fetch(`${url}/v1/pki_int/ca/pem`);
    const guarded = await fetch(`${url}/v1/pki_root/ca/pem`);
    const failing = await fetch(`${url}/v1/pki_int/issuer/nope`);

    expect(specific.headers.get('content-type')).toBe('text/plain');
    expect(await specific.text()).toBe('specific');
    expect(guarded.status).toBe(404);
    expect(failing.status).toBe(400);
    expect(await failing.json()).toEqual({ errors: ['unable to find issuer'] });
  });

  it('serves HTTPS when given a certificate, LIST included, to a client that verifies it', async () => {
    const tls = await selfSignedLoopbackCertificate();
    const handle = await cluster({ tls, nodes: [{ id: 'vault-0' }] });
    handle.registerRoutes(() => [{ pattern: 'pki/roles', operations: { list: () => envelope({ keys: ['web'] }) } }]);
    const { rootToken } = await handle.bootstrap({ shares: 1, threshold: 1 });
    const client = NodeVault({ endpoint: handle.node('vault-0').url, token: rootToken, requestOptions: { ca: tls.cert } });

    const sealStatus = (await client.status()) as SealStatus;
    const listed = (await client.list('pki/roles')) as { data: unknown };

    expect(handle.node('vault-0').url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(sealStatus).toMatchObject({ initialized: true, sealed: false, t: 1, n: 1 });
    expect(listed.data).toEqual({ keys: ['web'] });
  });

  it('keeps one TLS connection alive across requests and still rewrites a LIST that is not the first request on it', async () => {
    const tls = await selfSignedLoopbackCertificate();
    const handle = await cluster({ tls, nodes: [{ id: 'vault-0' }] });
    handle.registerRoutes(() => [
      { pattern: 'pki/roles', operations: { list: () => envelope({ keys: ['web'] }) } },
      { pattern: 'pki/roles/:name', operations: { read: (_ctx, request) => envelope({ name: request.params.name }), update: (_ctx, request) => envelope({ written: request.body }) } },
    ]);
    const { rootToken } = await handle.bootstrap({ shares: 1, threshold: 1 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: tls.cert });
    let connections = 0;
    const connect = agent.createConnection.bind(agent);
    agent.createConnection = ((...args: Parameters<typeof connect>) => {
      connections += 1;
      return connect(...args);
    }) as typeof agent.createConnection;
    const call = (method: string, path: string, body?: string): Promise<{ status: number; json: unknown; reused: boolean }> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(`${handle.node('vault-0').url}/v1/${path}`, { method, agent, headers: { 'X-Vault-Token': rootToken, ...(body ? { 'Content-Type': 'application/json' } : {}) } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text), reused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end(body);
      });

    const answers = [
      await call('GET', 'pki/roles/web'),
      await call('LIST', 'pki/roles'),
      await call('PUT', 'pki/roles/web', JSON.stringify({ ttl: '1h' })),
      await call('LIST', 'pki/roles'),
      await call('GET', 'pki/roles/api'),
    ];
    agent.destroy();

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.map((answer) => (answer.json as { data: unknown }).data)).toEqual([{ name: 'web' }, { keys: ['web'] }, { written: { ttl: '1h' } }, { keys: ['web'] }, { name: 'api' }]);
    expect(answers.map((answer) => answer.reused)).toEqual([false, true, true, true, true]);
    expect(connections).toBe(1);
  });

  it('refuses PATCH without the merge-patch content type with 415 and the exact message', async () => {
    const handle = await cluster();
    handle.registerRoutes(() => [{ pattern: 'pki/roles/:name', operations: { patch: () => envelope({}) } }]);
    const { rootToken } = await handle.bootstrap();

    const response = await fetch(`${handle.node('vault-0').url}/v1/pki/roles/web`, {
      method: 'PATCH',
      headers: { 'X-Vault-Token': rootToken, 'Content-Type': 'application/json' },
      body: '{}',
    });

    expect(response.status).toBe(415);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ errors: ['PATCH requires Content-Type of application/merge-patch+json, provided application/json'] });
  });

  it('refuses a body over 32 MiB with 413', async () => {
    const handle = await cluster();
    await initShamir(handle);

    const response = await fetch(`${handle.node('vault-0').url}/v1/sys/unseal`, {
      method: 'PUT',
      body: Buffer.alloc(32 * 1024 * 1024 + 1, 0x20),
    });

    expect(response.status).toBe(413);
    expect((await response.json()) as { errors: string[] }).toEqual({ errors: ['failed to parse JSON input: http: request body too large'] });
  });

  it('redirects a standby with 307 to the active node when the client refuses forwarding', async () => {
    const handle = await cluster();
    handle.registerRoutes(() => [{ pattern: 'pki/ca', auth: 'none', operations: { read: () => envelope({}) } }]);
    await handle.bootstrap();

    const response = await fetch(`${handle.node('vault-1').url}/v1/pki/ca`, {
      headers: { 'X-Vault-No-Request-Forwarding': 'true' },
      redirect: 'manual',
    });

    expect(response.status).toBe(307);
    expect(response.headers.get('location')).toBe(`${handle.node('vault-0').url}/v1/pki/ca`);
  });

  it('injects a status fault on one node for a number of times, then answers normally', async () => {
    const handle = await cluster();
    const init = await initShamir(handle);
    handle.faults.inject({ nodeId: 'vault-1', operation: 'sys/unseal', status: 503, message: 'Vault is sealed', times: 1 });

    const failed = await rejection(vault(handle, 'vault-1').unseal({ key: init.keys[0] }));
    const otherNode = (await vault(handle, 'vault-0').unseal({ key: init.keys[0] })) as SealStatus;
    const retried = (await vault(handle, 'vault-1').unseal({ key: init.keys[0] })) as SealStatus;

    expect(failed.response?.statusCode).toBe(503);
    expect(failed.message).toBe('Vault is sealed');
    expect(otherNode.progress).toBe(1);
    expect(retried.progress).toBe(1);
    expect(handle.faults.active()).toEqual([]);
  });

  it('injects latency on an operation without changing the answer', async () => {
    const handle = await cluster();
    handle.faults.inject({ operation: 'sys/seal-status', latencyMs: 150, times: 1 });

    const startedAt = Date.now();
    const body = await status(handle, 'vault-2');
    const elapsed = Date.now() - startedAt;

    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(body).toMatchObject({ initialized: false, sealed: true });
  });

  it('drops the connection on demand, so the client sees a network error with no status code', async () => {
    const handle = await cluster();
    const id = handle.faults.inject({ operation: 'sys/seal-status', dropConnection: true });

    const err = await rejection(status(handle, 'vault-0'));
    handle.faults.clear(id);

    expect(err.response?.statusCode).toBeUndefined();
    await expect(status(handle, 'vault-0')).resolves.toMatchObject({ initialized: false });
  });

  it('matches a fault by path prefix, not by string prefix: sys/seal does not catch sys/seal-status', async () => {
    const handle = await cluster();
    handle.faults.inject({ operation: 'sys/seal', status: 500 });

    const sealStatus = await status(handle, 'vault-0');
    const seal = await rejection(vault(handle, 'vault-0').seal());

    expect(sealStatus.initialized).toBe(false);
    expect(seal.response?.statusCode).toBe(500);
    expect(seal.message).toBe('internal error');
  });
});
