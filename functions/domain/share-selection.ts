import { ShareStoreError } from '../contracts/errors';

/**
 * Picks the shares to decrypt. Exactly `threshold` distinct indices are chosen: a duplicate share
 * is silently ignored by Vault (2.2), so a loop that sends "until progress == t" with repeats would
 * spin, and decrypting more shares than needed only widens what KMS hands out.
 */
export interface ShareRef {
  index: number;
}

export function selectShares<T extends ShareRef>(stored: readonly T[], threshold: number): T[] {
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new ShareStoreError(`the node reports an unusable threshold (${threshold})`);
  }
  const byIndex = new Map<number, T>();
  for (const share of stored) {
    if (!Number.isInteger(share.index) || share.index < 0) {
      throw new ShareStoreError(`the share store holds a share with an invalid index (${share.index})`);
    }
    if (!byIndex.has(share.index)) byIndex.set(share.index, share);
  }
  if (byIndex.size < threshold) {
    throw new ShareStoreError(`the share store holds ${byIndex.size} distinct shares; the node needs ${threshold}`, {
      details: { distinctShares: byIndex.size, threshold },
    });
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index).slice(0, threshold);
}

/** The encryption context that binds a share to its cluster and index (VAULT_API.md 3.2, P11). */
export function shareContext(clusterId: string, index: number): Record<string, string> {
  return { 'vault-cluster': clusterId, 'share-index': String(index) };
}

/**
 * A share as Vault's `sys/init` hands it out: hex (`keys`). Decrypted plaintext is trimmed (the
 * bank-vaults convention, 3.1) and checked before it goes anywhere near Vault, so a corrupted
 * store gives a clear error instead of a 400 from the node.
 */
const HEX_SHARE = /^(?:[0-9a-f]{2}){2,128}$/i;

export function parseSharePlaintext(plaintext: string, index: number): string {
  const share = plaintext.trim();
  if (!HEX_SHARE.test(share)) {
    throw new ShareStoreError(`share ${index} does not decrypt to a hex unseal share`, { details: { index } });
  }
  return share;
}
