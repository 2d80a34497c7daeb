import { identityMismatch } from '../../functions/domain/unseal-decision';
import { unsealNode } from '../../functions/steps/unseal-node';
import { reportUnseal } from '../../functions/steps/report-unseal';
import { Metrics } from '../../functions/contracts/functions';
import type { SealStatus, VaultSys } from '../../functions/ports/vault-sys';
import type { KeyWrapper } from '../../functions/ports/key-wrapper';
import type { ShareStore, WrappedShare } from '../../functions/ports/share-store';
import type { Log } from '../../functions/ports/log';

/**
 * Unseal only a Vault certflow can prove is its own (issue 13 item 1): the configured threshold,
 * share count and cluster id decide, never what a node says about itself.
 */
const expected = { threshold: 3, shares: 5, reportedClusterId: 'c0ffee00-1111-2222-3333-444455556666' };
const sealed = (overrides: Partial<SealStatus> = {}): SealStatus => ({
  type: 'shamir',
  initialized: true,
  sealed: true,
  t: 3,
  n: 5,
  progress: 0,
  nonce: '',
  version: '1.16.0',
  migration: false,
  recoverySeal: false,
  ...overrides,
});
const silent: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A node that answers whatever status it is given and counts every share it receives. */
function fakeNode(status: SealStatus) {
  const received: string[] = [];
  const vault = {
    nodeUrl: 'https://vault-0.internal:8200',
    sealStatus: async () => status,
    submitShare: async (share: string) => {
      received.push(share);
      return { ...status, progress: received.length };
    },
    resetProgress: async () => status,
  } as unknown as VaultSys;
  return { vault, received };
}

function fakeKms() {
  const unwrapped: string[] = [];
  const keys: KeyWrapper = {
    wrap: async (plaintext) => plaintext,
    unwrap: async (ciphertext, context) => {
      unwrapped.push(context['share-index']!);
      return ciphertext;
    },
  };
  const stored: WrappedShare[] = [0, 1, 2, 3, 4].map((index) => ({
    clusterId: 'econgraph-vault',
    index,
    ciphertext: new TextEncoder().encode(`0${index}`.repeat(16)),
    context: {},
  }));
  const shares: ShareStore = { list: async () => stored, putAllIfAbsent: async () => undefined };
  return { keys, shares, unwrapped };
}

describe('the identity a Vault node must show before it gets a share', () => {
  it.each([
    ['a node reporting the configured threshold and share count', sealed(), undefined],
    ['a sealed node with t = n (it would take every share)', sealed({ t: 5 }), /threshold 5, configured 3/],
    ['a node reporting a lower threshold', sealed({ t: 2 }), /threshold 2/],
    ['a node reporting another share count', sealed({ n: 7 }), /7 shares, configured 5/],
    ['an unsealed node with another cluster id', sealed({ sealed: false, clusterId: 'deadbeef-0000' }), /cluster id deadbeef-0000/],
    ['an unsealed node with the configured cluster id', sealed({ sealed: false, clusterId: expected.reportedClusterId }), undefined],
    ['an uninitialized node (t = n = 0), left to the Uninitialized report', sealed({ initialized: false, t: 0, n: 0 }), undefined],
    ['an auto-unseal node, whose t is its recovery threshold', sealed({ type: 'awskms', recoverySeal: true, t: 1, n: 1 }), undefined],
  ])('judges %s', (_name, status, mismatch) => {
    const why = identityMismatch(status, expected);
    if (mismatch === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(mismatch);
  });
});

describe('UnsealNode against a node that is not the configured Vault', () => {
  it('gives a fake node with t = n nothing: no share decrypted, none sent, a VaultIdentityMismatchError', async () => {
    const node = fakeNode(sealed({ t: 5, n: 5 }));
    const kms = fakeKms();
    const run = unsealNode({ vault: node.vault, keys: kms.keys, shares: kms.shares, clusterId: 'econgraph-vault', expected: { threshold: 3, shares: 5 }, log: silent }, { id: 'vault-0', url: node.vault.nodeUrl });
    await expect(run).rejects.toMatchObject({ name: 'VaultIdentityMismatchError', message: expect.stringContaining('no share was sent') });
    expect(kms.unwrapped).toEqual([]);
    expect(node.received).toEqual([]);
  });

  it('decrypts and sends exactly the configured threshold to the configured Vault', async () => {
    const node = fakeNode(sealed());
    const kms = fakeKms();
    // The fake unseals at the third share.
    const submit = node.vault.submitShare.bind(node.vault);
    (node.vault as { submitShare: VaultSys['submitShare'] }).submitShare = async (share) => {
      const answer = await submit(share);
      return node.received.length === 3 ? { ...answer, sealed: false, progress: 0 } : answer;
    };
    const result = await unsealNode({ vault: node.vault, keys: kms.keys, shares: kms.shares, clusterId: 'econgraph-vault', expected: { threshold: 3, shares: 5 }, log: silent }, { id: 'vault-0', url: node.vault.nodeUrl });
    expect(result).toMatchObject({ outcome: 'Unsealed', sharesSubmitted: 3 });
    expect(kms.unwrapped).toEqual(['0', '1', '2']);
    expect(node.received).toHaveLength(3);
  });

  it('reports the refused node in the run report and the VaultImpostorNodes metric', async () => {
    const gauges: Array<[string, number]> = [];
    const report = await reportUnseal(
      {
        clusterId: 'econgraph-vault',
        vaultFor: () => fakeNode(sealed({ t: 5 })).vault,
        metrics: { gauge: (name, value) => void gauges.push([name, value]), flush: () => undefined },
        log: silent,
      },
      {
        runId: 'r1',
        trigger: 'schedule',
        results: [{ node: { id: 'vault-0', url: 'https://vault-0.internal:8200' }, failure: { Error: 'VaultIdentityMismatchError', Cause: '{"errorMessage":"vault-0 is not the configured Vault cluster"}' } }],
      },
    );
    expect(report.detailType).toBe('Vault Unseal Failed');
    expect(report.detail['nodes']).toEqual([expect.objectContaining({ nodeId: 'vault-0', outcome: 'Failed', error: 'VaultIdentityMismatchError' })]);
    expect(gauges).toContainEqual([Metrics.VaultImpostorNodes, 1]);
  });
});
