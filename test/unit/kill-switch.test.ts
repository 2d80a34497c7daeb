import { unsealNode } from '../../functions/steps/unseal-node';
import { preflight } from '../../functions/steps/preflight';
import type { PauseSwitch } from '../../functions/ports/pause-switch';
import type { SealStatus, VaultSys } from '../../functions/ports/vault-sys';
import type { KeyWrapper } from '../../functions/ports/key-wrapper';
import type { ShareStore } from '../../functions/ports/share-store';
import type { RotationRuntime } from '../../functions/steps/rotation-deps';
import type { Log } from '../../functions/ports/log';

/** The kill switch at the steps that act first (issue 13 item 5), with fakes and no sandbox. */
const silent: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const sealedStatus: SealStatus = { type: 'shamir', initialized: true, sealed: true, t: 3, n: 5, progress: 0, nonce: '', version: '1.16.0', migration: false, recoverySeal: false };
const pausedFor = (held: string[]): PauseSwitch => ({
  pauseOf: async (workflow) => (held.includes(workflow) ? { pausedBy: 'role/incident-commander', pausedAt: '2026-12-02T17:00:00Z', reason: 'incident seal' } : undefined),
});

function counted() {
  const calls = { unwraps: 0, shares: 0, statusReads: 0 };
  const vault = {
    nodeUrl: 'https://vault-0.internal:8200',
    sealStatus: async () => (calls.statusReads++, sealedStatus),
    submitShare: async () => (calls.shares++, sealedStatus),
    resetProgress: async () => sealedStatus,
  } as unknown as VaultSys;
  const keys: KeyWrapper = { wrap: async (p) => p, unwrap: async (c) => (calls.unwraps++, c) };
  const shares: ShareStore = { list: async () => [], putAllIfAbsent: async () => undefined };
  return { vault, keys, shares, calls };
}

describe('the kill switch', () => {
  it('leaves a sealed node sealed while unseal is paused: no share decrypted or sent, the outcome says who paused it', async () => {
    const fake = counted();
    const result = await unsealNode(
      { vault: fake.vault, keys: fake.keys, shares: fake.shares, clusterId: 'econgraph-vault', expected: { threshold: 3, shares: 5 }, pause: pausedFor(['unseal']), log: silent },
      { id: 'vault-0', url: fake.vault.nodeUrl },
    );
    expect(result).toMatchObject({ outcome: 'Paused', sealed: true, sharesSubmitted: 0, message: expect.stringContaining('role/incident-commander') });
    expect([fake.calls.unwraps, fake.calls.shares]).toEqual([0, 0]);
  });

  it('stops a paused rotation at Preflight with a WorkflowPausedError before it reads any Vault node', async () => {
    const fake = counted();
    const runtime = {
      vaultNodes: async () => [{ id: 'vault-0', url: fake.vault.nodeUrl }],
      clusterId: 'econgraph-vault',
      unseal: { vaultFor: () => fake.vault, keys: fake.keys, shares: fake.shares, expected: { threshold: 3, shares: 5 }, pause: pausedFor(['rotation']) },
    } as unknown as RotationRuntime;
    await expect(preflight(runtime, { runId: 'r1' } as never, silent)).rejects.toMatchObject({ name: 'WorkflowPausedError', message: expect.stringContaining('certflow resume rotation') });
    expect(fake.calls.statusReads).toBe(0);
  });

  it('stops Preflight with a WorkflowPausedError when it finds a sealed node and unseal is paused', async () => {
    const fake = counted();
    const runtime = {
      vaultNodes: async () => [{ id: 'vault-0', url: fake.vault.nodeUrl }],
      clusterId: 'econgraph-vault',
      unseal: { vaultFor: () => fake.vault, keys: fake.keys, shares: fake.shares, expected: { threshold: 3, shares: 5 }, pause: pausedFor(['unseal']) },
    } as unknown as RotationRuntime;
    await expect(preflight(runtime, { runId: 'r1' } as never, silent)).rejects.toMatchObject({ name: 'WorkflowPausedError' });
    expect([fake.calls.unwraps, fake.calls.shares]).toEqual([0, 0]);
  });
});
