import { randomBytes, randomUUID } from 'node:crypto';

/**
 * The cluster's tokens. `sys/init` puts the root token here; the auth routes of the PKI part
 * (issue 3) add and revoke others. Shared by every node, like Vault's token store in storage.
 */
export interface TokenEntry {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly displayName: string;
  readonly createdAt: Date;
  /** Zero means the token never expires (the root token). */
  readonly ttlSeconds: number;
  readonly renewable: boolean;
  readonly meta: Readonly<Record<string, string>>;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `hvs.` + 24 random base62 characters: the shape of a Vault 1.10+ service token. */
export function newServiceTokenId(): string {
  const bytes = randomBytes(24);
  return `hvs.${Array.from(bytes, (b) => BASE62[b % BASE62.length]).join('')}`;
}

export class TokenStore {
  private readonly tokens = new Map<string, TokenEntry>();

  constructor(private readonly now: () => Date) {}

  /** Creates and stores a token; `id` may be forced (tests), otherwise it is random. */
  create(request: {
    policies: readonly string[];
    displayName?: string;
    ttlSeconds?: number;
    renewable?: boolean;
    meta?: Record<string, string>;
    id?: string;
  }): TokenEntry {
    const entry: TokenEntry = {
      id: request.id ?? newServiceTokenId(),
      accessor: randomUUID(),
      policies: [...request.policies],
      displayName: request.displayName ?? 'token',
      createdAt: this.now(),
      ttlSeconds: request.ttlSeconds ?? 0,
      renewable: request.renewable ?? false,
      meta: { ...(request.meta ?? {}) },
    };
    this.tokens.set(entry.id, entry);
    return entry;
  }

  /** The live entry for a token, or undefined when unknown or expired. */
  lookup(id: string | undefined): TokenEntry | undefined {
    if (!id) return undefined;
    const entry = this.tokens.get(id);
    if (!entry) return undefined;
    if (entry.ttlSeconds > 0 && this.now().getTime() >= entry.createdAt.getTime() + entry.ttlSeconds * 1000) {
      this.tokens.delete(id);
      return undefined;
    }
    return entry;
  }

  revoke(id: string): boolean {
    return this.tokens.delete(id);
  }

  isRoot(entry: TokenEntry | undefined): boolean {
    return entry?.policies.includes('root') ?? false;
  }
}
