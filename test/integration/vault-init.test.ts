import { EnvNames } from '../../functions/contracts/env';
import { DynamoDbShareStore } from '../../functions/adapters/aws/dynamodb-share-store';
import { SharesAlreadyExistError, VaultRequestError, ShareStoreError } from '../../functions/contracts/errors';
import { initSandboxVault } from '../../sandbox/compose/vault-bootstrap';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import { startLocalCloud } from '../support/local-cloud-fixture';
import { sandboxVaultClient } from '../../sandbox/compose/sandbox-vault-client';

/** `vault-init` with the real adapters against the sandbox: the explicit, never-overwriting bootstrap. */
describe('vault-init', () => {
  let cloud: LocalCloud;
  beforeEach(async () => {
    cloud = await startLocalCloud();
  });
  afterEach(async () => cloud.sandbox.close());

  const store = () => {
    const env = cloud.runner.functionEnv('UnsealNode');
    return { store: new DynamoDbShareStore(cloud.sandbox.dynamoDbClient, env[EnvNames.ShareTable]!), clusterId: env[EnvNames.VaultClusterId]! };
  };

  it('stores one wrapped share per Vault share, each bound to its cluster and index', async () => {
    const result = await initSandboxVault(cloud);
    const { store: shares, clusterId } = store();
    const stored = await shares.list(clusterId);

    expect(result.sharesStored).toBe(5);
    expect(stored.map((share) => share.index)).toEqual([0, 1, 2, 3, 4]);
    expect(stored.map((share) => share.context)).toEqual([0, 1, 2, 3, 4].map((index) => ({ 'vault-cluster': clusterId, 'share-index': String(index) })));
    // A wrapped share is a KMS blob, not the share: hex shares are 66 characters of [0-9a-f].
    expect(stored.every((share) => !/^[0-9a-f]{66}$/.test(Buffer.from(share.ciphertext).toString('utf8')))).toBe(true);
  });

  it('refuses, before touching Vault, when shares already exist for the cluster', async () => {
    await initSandboxVault(cloud);
    const { store: shares, clusterId } = store();
    const before = await shares.list(clusterId);

    await expect(initSandboxVault(cloud, { nodeId: 'vault-1' })).rejects.toBeInstanceOf(SharesAlreadyExistError);
    expect((await shares.list(clusterId)).map((share) => Buffer.from(share.ciphertext).toString('base64'))).toEqual(
      before.map((share) => Buffer.from(share.ciphertext).toString('base64')),
    );
  });

  it('refuses a node that is already initialized and stores nothing', async () => {
    await cloud.sandbox.vault.bootstrap();

    await expect(initSandboxVault(cloud)).rejects.toBeInstanceOf(VaultRequestError);
    const { store: shares, clusterId } = store();
    expect(await shares.list(clusterId)).toEqual([]);
  });

  it('initializes an awskms Vault with recovery shares and the node unseals itself', async () => {
    await cloud.sandbox.close();
    cloud = await startLocalCloud({ nodeSeals: { 'vault-0': 'awskms', 'vault-1': 'awskms', 'vault-2': 'awskms' } });

    const result = await initSandboxVault(cloud);

    expect(result.sealType).toBe('awskms');
    expect(result.sharesStored).toBe(5);
    await cloud.sandbox.vault.node('vault-0').tryAutoUnseal();
    const status = (await sandboxVaultClient(cloud.sandbox).status()) as { sealed: boolean; recovery_seal: boolean };
    expect([status.sealed, status.recovery_seal]).toEqual([false, true]);
  });

  it('reads a half-written share set as an error instead of guessing', async () => {
    const { store: shares, clusterId } = store();
    await shares.putAllIfAbsent([{ clusterId, index: 0, ciphertext: Buffer.from('x'), context: {} }]);
    const env = cloud.runner.functionEnv('UnsealNode');
    const { DeleteItemCommand } = await import('@aws-sdk/client-dynamodb');
    await cloud.sandbox.dynamoDbClient.send(
      new DeleteItemCommand({ TableName: env[EnvNames.ShareTable]!, Key: { pk: { S: `vault#${clusterId}` }, sk: { S: 'share#000' } } }),
    );

    await expect(shares.list(clusterId)).rejects.toBeInstanceOf(ShareStoreError);
  });
});
