import { createVaultClient } from '../../functions/adapters/vault/vault-client';
import { NodeVaultSys } from '../../functions/adapters/vault/node-vault-sys';
import { startVaultCluster, type VaultClusterHandle } from '../../sandbox/vault/vault-cluster';
import { makeKeys, makeLeaf, makeRoot, privateKeyPem, type Issued } from '../support/pki-fixtures';

/**
 * The Vault CA is pinned (issue 13 item 1): a node whose certificate does not chain to the CA in
 * config is refused before any request is answered, whatever the public roots would say. The
 * emulator serves TLS here with a listener certificate from a test CA; Node's TLS stack decides.
 */
describe('a Vault node behind the pinned CA', () => {
  let vault: VaultClusterHandle;
  let pinned: Issued;
  let stranger: Issued;

  beforeAll(async () => {
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(Date.now() + 86_400_000);
    pinned = await makeRoot({ name: 'CN=vault listener CA', key: await makeKeys('ec'), notBefore, notAfter });
    stranger = await makeRoot({ name: 'CN=some other CA', key: await makeKeys('ec'), notBefore, notAfter });
    const listenerKey = await makeKeys('ec');
    const listener = await makeLeaf({ issuer: pinned, key: listenerKey, commonName: 'vault-0', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], notBefore, notAfter });
    vault = await startVaultCluster({ nodes: [{ id: 'vault-0', seal: 'shamir' }], tls: { cert: listener.pem, key: await privateKeyPem(listenerKey) } });
  });
  afterAll(async () => vault?.close());

  const sysWith = (caPem: string) => new NodeVaultSys(createVaultClient({ endpoint: vault.nodes[0]!.url, caPem, timeoutMs: 2000 }), vault.nodes[0]!.url);

  it('reads the seal status of a node whose certificate chains to the pinned CA', async () => {
    expect(vault.nodes[0]!.url).toMatch(/^https:/);
    await expect(sysWith(pinned.pem).sealStatus()).resolves.toMatchObject({ initialized: false, sealed: true });
  });

  it('refuses a node whose certificate does not chain to the pinned CA, with a typed error and no answer read', async () => {
    const failure = await sysWith(stranger.pem)
      .sealStatus()
      .catch((error: Error) => error);
    expect(failure).toMatchObject({ name: 'TlsIdentityError' });
    expect(String((failure as Error & { cause?: { code?: string } }).cause?.code ?? (failure as Error).message)).toMatch(/CERT|certificate|verify/i);
  });
});
