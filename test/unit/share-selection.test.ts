import { parseSharePlaintext, selectShares, shareContext } from '../../functions/domain/share-selection';
import { ShareStoreError } from '../../functions/contracts/errors';

const shares = (...indices: number[]) => indices.map((index) => ({ index }));

describe('choosing which shares to decrypt', () => {
  it('takes exactly the threshold, lowest indices first', () => {
    expect(selectShares(shares(4, 0, 2, 1, 3), 3).map((s) => s.index)).toEqual([0, 1, 2]);
  });

  it('never picks the same index twice, because Vault ignores a repeated share', () => {
    expect(selectShares(shares(0, 0, 1, 1, 2), 3).map((s) => s.index)).toEqual([0, 1, 2]);
  });

  it('refuses when fewer distinct shares are stored than the threshold', () => {
    expect(() => selectShares(shares(0, 0, 1), 3)).toThrow(ShareStoreError);
    expect(() => selectShares(shares(0, 0, 1), 3)).toThrow(/2 distinct shares; the node needs 3/);
  });

  it.each([0, -1, 1.5])('refuses an unusable threshold of %p', (threshold) => {
    expect(() => selectShares(shares(0, 1, 2), threshold)).toThrow(ShareStoreError);
  });

  it('refuses a stored share with a negative index', () => {
    expect(() => selectShares(shares(0, -2, 1), 2)).toThrow(/invalid index/);
  });

  it('binds each share to its cluster and index in the encryption context', () => {
    expect(shareContext('econgraph-vault', 3)).toEqual({ 'vault-cluster': 'econgraph-vault', 'share-index': '3' });
  });
});

describe('checking a decrypted share', () => {
  it('trims whitespace around a hex share', () => {
    expect(parseSharePlaintext(' 0a1b2c3d\n', 0)).toBe('0a1b2c3d');
  });

  it.each(['', 'zz11', 'abc', 'not a share at all'])('rejects %p without echoing it', (text) => {
    expect(() => parseSharePlaintext(text, 2)).toThrow('share 2 does not decrypt to a hex unseal share');
  });
});
