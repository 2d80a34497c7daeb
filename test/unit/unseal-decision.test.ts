import { decideUnseal, judgeShareAnswer, type SealSnapshot } from '../../functions/domain/unseal-decision';

const shamir: SealSnapshot = { type: 'shamir', initialized: true, sealed: true, t: 3, progress: 0, migration: false, recoverySeal: false };
const awskms: SealSnapshot = { ...shamir, type: 'awskms', recoverySeal: true };

describe('the per-node unseal decision', () => {
  it.each<[string, SealSnapshot, ReturnType<typeof decideUnseal>]>([
    ['an unsealed node needs nothing', { ...shamir, sealed: false }, { action: 'none', reason: 'AlreadyUnsealed' }],
    ['an uninitialized node is reported, never initialized', { ...shamir, initialized: false, t: 0 }, { action: 'report', reason: 'Uninitialized' }],
    ['an uninitialized node is reported even when it claims to be unsealed', { ...shamir, initialized: false, sealed: false }, { action: 'report', reason: 'Uninitialized' }],
    ['a sealed awskms node is reported and never fed keys', awskms, { action: 'report', reason: 'AutoUnsealSealed' }],
    ['a sealed node whose seal type is not shamir is treated as auto-unseal', { ...shamir, type: 'transit' }, { action: 'report', reason: 'AutoUnsealSealed' }],
    ['an unsealed awskms node needs nothing', { ...awskms, sealed: false }, { action: 'none', reason: 'AlreadyUnsealed' }],
    ['a node with a pending seal migration is reported', { ...shamir, migration: true }, { action: 'report', reason: 'MigrationPending' }],
    ['a shamir-sealed node with no progress gets t shares', shamir, { action: 'submit-shares', reason: 'ShamirSealed', resetFirst: false, sharesNeeded: 3 }],
    ['stale progress from another attempt is reset first', { ...shamir, progress: 2 }, { action: 'submit-shares', reason: 'StaleProgress', resetFirst: true, sharesNeeded: 3 }],
    ['the threshold comes from the node, not from config', { ...shamir, t: 2 }, { action: 'submit-shares', reason: 'ShamirSealed', resetFirst: false, sharesNeeded: 2 }],
  ])('%s', (_name, status, expected) => {
    expect(decideUnseal(status)).toEqual(expected);
  });
});

describe('judging the answer to a submitted share', () => {
  it.each<[string, { sealed: boolean; progress: number }, number, number, ReturnType<typeof judgeShareAnswer>]>([
    ['an unsealed answer means done', { sealed: false, progress: 0 }, 3, 3, 'unsealed'],
    ['progress that matches the shares sent means accepted', { sealed: true, progress: 2 }, 2, 3, 'accepted'],
    ['still sealed after the threshold share means the set was rejected', { sealed: true, progress: 0 }, 3, 3, 'rejected'],
    ['progress that does not match means another caller interfered', { sealed: true, progress: 1 }, 2, 3, 'interfered'],
    ['an unchanged progress (a duplicate share) is interference too', { sealed: true, progress: 1 }, 2, 3, 'interfered'],
  ])('%s', (_name, answer, submitted, threshold, expected) => {
    expect(judgeShareAnswer(answer, submitted, threshold)).toBe(expected);
  });
});
