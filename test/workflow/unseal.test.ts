import { EncryptCommand } from '@aws-sdk/client-kms';
import type { LocalExecution } from '../../sandbox/runner/local-runner';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import { initSandboxVault } from '../../sandbox/compose/vault-bootstrap';
import { DynamoDbShareStore } from '../../functions/adapters/aws/dynamodb-share-store';
import { EnvNames } from '../../functions/contracts/env';
import type { VaultInitResult } from '../../functions/steps/vault-init';
import { leaks, secretNeedles, startLocalCloud, storedSharePlaintexts } from '../support/local-cloud-fixture';
import { sandboxVaultClient } from '../../sandbox/compose/sandbox-vault-client';
import { vaultClientFor } from '../../sandbox/vault/vault-client-for';

/**
 * The Unseal state machine, synthesized from the CDK app, run locally against the sandbox: real
 * node-vault, @aws-sdk/client-kms and client-dynamodb over HTTP, real Shamir shares.
 */
jest.setTimeout(60_000);

interface NodeResult {
  nodeId: string;
  outcome: string;
  sealed?: boolean;
  resetStaleProgress?: boolean;
  error?: string;
}

const executions: LocalExecution[] = [];

async function runUnseal(cloud: LocalCloud, input: Record<string, unknown> = { trigger: 'cli' }) {
  const execution = await cloud.runner.run(cloud.runner.find('UnsealWorkflow'), input);
  executions.push(execution);
  const events = cloud.sandbox.eventBridge.events().filter((event) => event.detail.runId === execution.name);
  return { execution, events };
}

function nodeResults(execution: { output?: unknown }): NodeResult[] {
  return (execution.output as { nodes: NodeResult[] }).nodes;
}

async function sealStatus(cloud: LocalCloud, url: string) {
  return (await vaultClientFor({ url, caCertificate: cloud.sandbox.vaultCaCertificate }).status()) as { sealed: boolean; progress: number; nonce: string; type: string };
}

async function sealEveryNode(cloud: LocalCloud) {
  for (const node of cloud.sandbox.vault.nodes) cloud.sandbox.vault.node(node.id).seal();
}

describe('the Unseal workflow on a 3-node Shamir cluster (5 shares, threshold 3)', () => {
  let cloud: LocalCloud;
  let init: VaultInitResult;

  beforeAll(async () => {
    cloud = await startLocalCloud();
    init = await initSandboxVault(cloud);
  });
  afterAll(async () => cloud?.sandbox.close());

  it('stores five KMS-wrapped shares and keeps the root token only wrapped', () => {
    expect(init.sharesStored).toBe(5);
    expect(init.threshold).toBe(3);
    expect(Buffer.from(init.wrappedRootToken).toString('utf8')).not.toContain(init.rootTokenForSandbox);
  });

  it('unseals every sealed node and emits Vault Unsealed', async () => {
    await sealEveryNode(cloud);
    const { execution, events } = await runUnseal(cloud);

    expect(execution.status).toBe('SUCCEEDED');
    expect(nodeResults(execution).map((node) => [node.nodeId, node.outcome, node.sealed])).toEqual([
      ['vault-0', 'Unsealed', false],
      ['vault-1', 'Unsealed', false],
      ['vault-2', 'Unsealed', false],
    ]);
    for (const node of cloud.sandbox.vault.nodes) expect((await sealStatus(cloud, node.url)).sealed).toBe(false);
    expect(events.map((event) => event.detailType)).toEqual(['Vault Unsealed']);
    expect(events[0]!.source).toBe('certflow');
  });

  it('changes nothing when run again: every node is AlreadyUnsealed and no share is decrypted', async () => {
    const decryptsBefore = cloud.sandbox.kms.calls().filter((call) => call.operation === 'Decrypt').length;
    const { execution } = await runUnseal(cloud);

    expect(execution.status).toBe('SUCCEEDED');
    expect(nodeResults(execution).every((node) => node.outcome === 'AlreadyUnsealed')).toBe(true);
    expect(cloud.sandbox.kms.calls().filter((call) => call.operation === 'Decrypt')).toHaveLength(decryptsBefore);
  });

  it("resets someone else's partial progress before unsealing", async () => {
    cloud.sandbox.vault.node('vault-1').seal();
    // Another operator's half-finished attempt: one (wrong) share already counted.
    await sandboxVaultClient(cloud.sandbox, { nodeId: 'vault-1' }).unseal({ key: 'ab'.repeat(33) });
    expect((await sealStatus(cloud, cloud.sandbox.vault.node('vault-1').url)).progress).toBe(1);

    const { execution } = await runUnseal(cloud, { trigger: 'cli', nodeIds: ['vault-1'] });

    expect(execution.status).toBe('SUCCEEDED');
    expect(nodeResults(execution)).toEqual([expect.objectContaining({ nodeId: 'vault-1', outcome: 'Unsealed', resetStaleProgress: true })]);
  });

  it('runs an unseal with only the named node and refuses an unknown node id before touching Vault', async () => {
    const { execution } = await runUnseal(cloud, { trigger: 'cli', nodeIds: ['vault-9'] });

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('NodeNotFoundError');
    expect(execution.cause).toContain('vault-9');
  });

  it('keeps every share, plaintext and token out of payloads, history, events and logs', async () => {
    // Learn the secrets the way only the sandbox may: decrypt the stored shares with its KMS.
    const shares = await storedSharePlaintexts(cloud);
    expect(shares).toHaveLength(5);
    const needles = secretNeedles({ shares, rootToken: init.rootTokenForSandbox });

    const haystack = [
      JSON.stringify(executions.map((execution) => execution.history)),
      JSON.stringify(executions.map((execution) => [execution.input, execution.output, execution.cause])),
      JSON.stringify(cloud.sandbox.eventBridge.events()),
      cloud.logLines().join('\n'),
    ].join('\n');

    expect(executions.length).toBeGreaterThanOrEqual(3);
    expect(leaks(haystack, needles)).toEqual([]);
    // Every log line is structured JSON; every line a handler logged carries the run id.
    const lines = cloud.logLines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(5);
    const logged = lines.filter((line) => line.level !== undefined);
    expect(logged.every((line) => typeof line.runId === 'string')).toBe(true);
  });
});

describe('the Unseal workflow when something is wrong', () => {
  it('fails with a typed error, does not loop and emits Vault Unseal Failed when the stored shares belong to another Vault', async () => {
    const cloud = await startLocalCloud();
    try {
      // Real shares of a different Vault, wrapped correctly: KMS opens them, Vault refuses the set.
      const foreign = await startLocalCloud();
      const foreignKeys = (await foreign.sandbox.vault.bootstrap()).keys;
      await foreign.sandbox.close();
      await cloud.sandbox.vault.bootstrap();
      const env = cloud.runner.functionEnv('UnsealNode');
      const store = new DynamoDbShareStore(cloud.sandbox.dynamoDbClient, env[EnvNames.ShareTable]!);
      const wrapped = [];
      for (const [index, share] of foreignKeys.entries()) {
        const context = { 'vault-cluster': env[EnvNames.VaultClusterId]!, 'share-index': String(index) };
        const { CiphertextBlob } = await cloud.sandbox.kmsClient.send(
          new EncryptCommand({ KeyId: env[EnvNames.UnsealKeyId], Plaintext: Buffer.from(share), EncryptionContext: context }),
        );
        wrapped.push({ clusterId: context['vault-cluster'], index, ciphertext: CiphertextBlob!, context });
      }
      await store.putAllIfAbsent(wrapped);
      expect(wrapped).toHaveLength(5);
      await sealEveryNode(cloud);

      const { execution, events } = await runUnseal(cloud);

      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('VaultUnsealFailed');
      const failed = events.find((event) => event.detailType === 'Vault Unseal Failed');
      expect(failed).toBeDefined();
      const nodes = failed!.detail.nodes as NodeResult[];
      expect(nodes.map((node) => [node.outcome, node.error])).toEqual([
        ['Failed', 'UnsealKeySetRejectedError'],
        ['Failed', 'UnsealKeySetRejectedError'],
        ['Failed', 'UnsealKeySetRejectedError'],
      ]);
      const retries = execution.history.filter((event) => event.type === 'StateRetried');
      expect(retries).toHaveLength(0);
      for (const node of cloud.sandbox.vault.nodes) {
        const status = await sealStatus(cloud, node.url);
        expect([status.sealed, status.progress]).toEqual([true, 0]);
      }
    } finally {
      await cloud.sandbox.close();
    }
  });

  it('gives a ShareDecryptError and leaves the node untouched when a share was wrapped with another context', async () => {
    const cloud = await startLocalCloud();
    try {
      await cloud.sandbox.vault.bootstrap();
      const env = cloud.runner.functionEnv('UnsealNode');
      const store = new DynamoDbShareStore(cloud.sandbox.dynamoDbClient, env[EnvNames.ShareTable]!);
      const wrapped = [];
      for (let index = 0; index < 5; index += 1) {
        // Every share claims index 0 in its context: decrypting share 1 with its own index fails.
        const context = { 'vault-cluster': env[EnvNames.VaultClusterId]!, 'share-index': '0' };
        const { CiphertextBlob } = await cloud.sandbox.kmsClient.send(
          new EncryptCommand({ KeyId: env[EnvNames.UnsealKeyId], Plaintext: Buffer.from('ab'.repeat(33)), EncryptionContext: context }),
        );
        wrapped.push({ clusterId: context['vault-cluster'], index, ciphertext: CiphertextBlob!, context });
      }
      await store.putAllIfAbsent(wrapped);
      cloud.sandbox.vault.node('vault-0').seal();

      const { execution, events } = await runUnseal(cloud, { trigger: 'cli', nodeIds: ['vault-0'] });

      expect(execution.status).toBe('FAILED');
      const detail = events.find((event) => event.detailType === 'Vault Unseal Failed')!.detail as { nodes: NodeResult[] };
      expect(detail.nodes[0]).toEqual(expect.objectContaining({ nodeId: 'vault-0', outcome: 'Failed', error: 'ShareDecryptError' }));
      const status = await sealStatus(cloud, cloud.sandbox.vault.node('vault-0').url);
      expect([status.sealed, status.progress, status.nonce]).toEqual([true, 0, '']);
    } finally {
      await cloud.sandbox.close();
    }
  });

  it('reports an uninitialized cluster without initializing it', async () => {
    const cloud = await startLocalCloud();
    try {
      const { execution, events } = await runUnseal(cloud);

      expect(execution.status).toBe('FAILED');
      const detail = events.find((event) => event.detailType === 'Vault Unseal Failed')!.detail as { nodes: NodeResult[] };
      expect(detail.nodes.map((node) => node.outcome)).toEqual(['Uninitialized', 'Uninitialized', 'Uninitialized']);
      const initialized = await sandboxVaultClient(cloud.sandbox).initialized();
      expect(initialized.initialized).toBe(false);
    } finally {
      await cloud.sandbox.close();
    }
  });

  it('reports awskms nodes that are sealed because KMS is down, never feeds them keys, and sees them recover', async () => {
    const cloud = await startLocalCloud({ nodeSeals: { 'vault-0': 'awskms', 'vault-1': 'awskms', 'vault-2': 'awskms' } });
    try {
      await initSandboxVault(cloud);
      cloud.sandbox.kms.setAvailable(false);
      await sealEveryNode(cloud);

      const { execution, events } = await runUnseal(cloud);

      expect(execution.status).toBe('FAILED');
      const detail = events.find((event) => event.detailType === 'Vault Unseal Failed')!.detail as { nodes: NodeResult[] };
      expect(detail.nodes.map((node) => [node.outcome, node.sealed])).toEqual([
        ['AutoUnsealSealed', true],
        ['AutoUnsealSealed', true],
        ['AutoUnsealSealed', true],
      ]);
      for (const node of cloud.sandbox.vault.nodes) {
        const status = await sealStatus(cloud, node.url);
        // No key was sent: an attempt would have set a nonce or raised progress.
        expect([status.type, status.sealed, status.progress, status.nonce]).toEqual(['awskms', true, 0, '']);
      }

      cloud.sandbox.kms.setAvailable(true);
      for (const node of cloud.sandbox.vault.nodes) await cloud.sandbox.vault.node(node.id).tryAutoUnseal();
      const again = await runUnseal(cloud);
      expect(again.execution.status).toBe('SUCCEEDED');
      expect(nodeResults(again.execution).map((node) => node.outcome)).toEqual(['AlreadyUnsealed', 'AlreadyUnsealed', 'AlreadyUnsealed']);
    } finally {
      cloud.sandbox.kms.setAvailable(true);
      await cloud.sandbox.close();
    }
  });
});
