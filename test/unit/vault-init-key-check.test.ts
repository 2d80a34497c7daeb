import type { KMSClient } from '@aws-sdk/client-kms';
import { KmsKeyWrapper } from '../../functions/adapters/kms/kms-key-wrapper';
import { initializeVault } from '../../functions/steps/vault-init';
import type { VaultSys } from '../../functions/ports/vault-sys';
import type { ShareStore } from '../../functions/ports/share-store';
import type { Log } from '../../functions/ports/log';

/**
 * vault-init encrypts by key ARN and checks the KeyId of every Encrypt answer (issue 13 item 2):
 * an answer for another key (a stand-in endpoint, a redirected key) is refused before Vault is
 * initialized, so nothing changes.
 */
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const OTHER_KEY_ARN = 'arn:aws:kms:eu-west-1:210987654321:key/99999999-8888-7777-6666-555555555555';
const silent: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A KMS client that answers every Encrypt as the given key. */
const kmsAnsweringFor = (keyId: string) => {
  const calls: unknown[] = [];
  const client = { send: async (command: { input: unknown }) => (calls.push(command.input), { CiphertextBlob: new Uint8Array([1, 2, 3]), KeyId: keyId }) } as unknown as KMSClient;
  return { client, calls };
};

describe('vault-init and the key that answers', () => {
  it('accepts an Encrypt answer that names exactly the key ARN asked for', async () => {
    await expect(new KmsKeyWrapper(kmsAnsweringFor(KEY_ARN).client, KEY_ARN).wrap(new Uint8Array([7]), { 'vault-cluster': 'c' })).resolves.toEqual(new Uint8Array([1, 2, 3]));
  });

  it('refuses an Encrypt answer from another key with a KmsKeyMismatchError naming both keys', async () => {
    const wrap = new KmsKeyWrapper(kmsAnsweringFor(OTHER_KEY_ARN).client, KEY_ARN).wrap(new Uint8Array([7]), { 'vault-cluster': 'c' });
    await expect(wrap).rejects.toMatchObject({ name: 'KmsKeyMismatchError', message: expect.stringContaining(OTHER_KEY_ARN) });
  });

  it('leaves Vault uninitialized and stores nothing when the key answers as another', async () => {
    let initialized = 0;
    let stored = 0;
    const vault = {
      nodeUrl: 'https://vault-0.internal:8200',
      sealStatus: async () => ({ type: 'shamir', initialized: false, sealed: true, t: 0, n: 0, progress: 0, nonce: '', version: '1.16.0', migration: false, recoverySeal: false }),
      initialize: async () => {
        initialized += 1;
        return { shares: ['aa'.repeat(16)], rootToken: 'hvs.root' };
      },
    } as unknown as VaultSys;
    const shares: ShareStore = { list: async () => [], putAllIfAbsent: async () => void (stored += 1) };
    const keys = new KmsKeyWrapper(kmsAnsweringFor(OTHER_KEY_ARN).client, KEY_ARN);
    await expect(initializeVault({ vault, keys, shares, clusterId: 'econgraph-vault', log: silent }, { shares: 1, threshold: 1 })).rejects.toMatchObject({ name: 'KmsKeyMismatchError' });
    expect([initialized, stored]).toEqual([0, 0]);
  });
});
