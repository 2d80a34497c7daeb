import { NodeNotFoundError } from '../contracts/errors';
import type { VaultNode } from '../contracts/env';

/**
 * The nodes one Unseal run works on: every configured node, or the ones the request names.
 * Each is addressed by its own URL (P7). An unknown node id is refused before anything happens.
 */
export function discoverNodes(configured: readonly VaultNode[], requestedIds?: readonly string[]): VaultNode[] {
  if (!requestedIds) return [...configured];
  const unknown = requestedIds.filter((id) => !configured.some((node) => node.id === id));
  if (unknown.length > 0) {
    throw new NodeNotFoundError(`unknown Vault node(s): ${unknown.join(', ')}; configured: ${configured.map((n) => n.id).join(', ')}`);
  }
  return configured.filter((node) => requestedIds.includes(node.id));
}
