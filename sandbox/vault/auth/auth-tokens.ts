import { randomUUID } from 'node:crypto';
import type { TokenEntry, TokenStore } from '../token-store';

/**
 * Tokens handed out by the auth routes (VAULT_API.md 6): created in the cluster's TokenStore
 * (which the router checks on every request, expiring tokens by the cluster clock), plus the
 * facts Vault reports that the store does not keep: issue time, creation TTL, max TTL, auth path,
 * and a stable accessor across renewals. Renewal re-creates the store entry under the same id.
 */

/** Vault's system default and max lease TTL: 768h (32 days). */
export const SYSTEM_TOKEN_TTL = 768 * 3600;

export interface TokenRecord {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly displayName: string;
  readonly meta: Readonly<Record<string, string>>;
  /** The auth path that created it: `auth/token/create`, `auth/approle/login`, `auth/aws/login`. */
  readonly path: string;
  readonly issueTime: Date;
  readonly creationTtl: number;
  /** Cap for renewals, from issue time (explicit_max_ttl, role token_max_ttl, or the system max). */
  readonly maxTtl: number;
  readonly explicitMaxTtl: number;
  readonly renewable: boolean;
  readonly orphan: boolean;
  readonly numUses: number;
  /** When the current lease ends. */
  expiresAt: Date;
}

export interface IssueTokenRequest {
  readonly policies: readonly string[];
  /** 0 picks the system default (768h). */
  readonly ttl?: number;
  /** 0: only the system max applies. */
  readonly maxTtl?: number;
  readonly explicitMaxTtl?: number;
  readonly renewable?: boolean;
  readonly displayName: string;
  readonly meta?: Record<string, string>;
  readonly path: string;
  readonly orphan?: boolean;
  readonly numUses?: number;
  readonly noDefaultPolicy?: boolean;
}

/** Policies as Vault stores them: sorted, de-duplicated, `default` added unless root or refused. */
export function tokenPolicies(policies: readonly string[], noDefaultPolicy = false): string[] {
  const set = new Set(policies.map((policy) => policy.trim()).filter((policy) => policy !== ''));
  if (!noDefaultPolicy && !set.has('root')) set.add('default');
  return [...set].sort();
}

export class AuthTokens {
  private readonly records = new Map<string, TokenRecord>();

  constructor(
    private readonly store: TokenStore,
    private readonly now: () => Date,
  ) {}

  issue(request: IssueTokenRequest): TokenRecord {
    const policies = tokenPolicies(request.policies, request.noDefaultPolicy);
    const explicitMaxTtl = request.explicitMaxTtl ?? 0;
    const caps = [SYSTEM_TOKEN_TTL, request.maxTtl || SYSTEM_TOKEN_TTL, explicitMaxTtl || SYSTEM_TOKEN_TTL];
    const maxTtl = Math.min(...caps);
    const ttl = Math.min(request.ttl || SYSTEM_TOKEN_TTL, maxTtl);
    const entry = this.store.create({
      policies,
      displayName: request.displayName,
      ttlSeconds: ttl,
      renewable: request.renewable ?? true,
      meta: { ...(request.meta ?? {}) },
    });
    const issueTime = entry.createdAt;
    const record: TokenRecord = {
      id: entry.id,
      accessor: entry.accessor,
      policies,
      displayName: request.displayName,
      meta: { ...(request.meta ?? {}) },
      path: request.path,
      issueTime,
      creationTtl: ttl,
      maxTtl,
      explicitMaxTtl,
      renewable: request.renewable ?? true,
      orphan: request.orphan ?? false,
      numUses: request.numUses ?? 0,
      expiresAt: new Date(issueTime.getTime() + ttl * 1000),
    };
    this.records.set(record.id, record);
    return record;
  }

  /** What this module knows about a token: its record, or (root and other tokens made elsewhere) the store entry. */
  describe(entry: TokenEntry): TokenRecord {
    const known = this.records.get(entry.id);
    if (known) return known;
    return {
      id: entry.id,
      accessor: entry.accessor,
      policies: entry.policies,
      displayName: entry.displayName,
      meta: entry.meta,
      path: entry.policies.includes('root') ? 'auth/token/root' : 'auth/token/create',
      issueTime: entry.createdAt,
      creationTtl: entry.ttlSeconds,
      maxTtl: entry.ttlSeconds,
      explicitMaxTtl: 0,
      renewable: entry.renewable,
      orphan: true,
      numUses: 0,
      expiresAt: new Date(entry.createdAt.getTime() + entry.ttlSeconds * 1000),
    };
  }

  /** A token this module issued whose lease has run out (the store has already dropped it). */
  isExpired(id: string | undefined): boolean {
    const record = id === undefined ? undefined : this.records.get(id);
    return record !== undefined && record.expiresAt.getTime() <= this.now().getTime();
  }

  /**
   * Extends the lease by `increment` seconds from now (0: the creation TTL), capped at the max
   * TTL counted from issue time. Returns the record and the warning Vault gives when capped.
   */
  renew(entry: TokenEntry, increment: number): { record: TokenRecord; ttl: number; warnings: string[] } {
    const record = this.describe(entry);
    const now = this.now();
    const wanted = increment > 0 ? increment : record.creationTtl;
    const remainingMax = Math.max(0, Math.floor((record.issueTime.getTime() + record.maxTtl * 1000 - now.getTime()) / 1000));
    const ttl = Math.min(wanted, remainingMax);
    const warnings = ttl < wanted ? [`TTL of "${wanted}s" exceeded the effective max_ttl of "${remainingMax}s"; TTL value is capped accordingly`] : [];
    // The store measures expiry from creation: re-create the entry, same id, with the new TTL.
    this.store.create({ id: entry.id, policies: entry.policies, displayName: entry.displayName, ttlSeconds: ttl, renewable: entry.renewable, meta: { ...entry.meta } });
    const renewed: TokenRecord = { ...record, expiresAt: new Date(now.getTime() + ttl * 1000) };
    this.records.set(renewed.id, renewed);
    return { record: renewed, ttl, warnings };
  }

  revoke(id: string): void {
    this.store.revoke(id);
    this.records.delete(id);
  }

  /** The `auth` block of a login, create or renew response (VAULT_API.md 1.1). */
  authBlock(record: TokenRecord, leaseDuration = record.creationTtl): Record<string, unknown> {
    return {
      client_token: record.id,
      accessor: record.accessor,
      policies: record.policies,
      token_policies: record.policies,
      metadata: Object.keys(record.meta).length > 0 ? record.meta : null,
      lease_duration: leaseDuration,
      renewable: record.renewable,
      entity_id: '',
      token_type: 'service',
      orphan: record.orphan,
      mfa_requirement: null,
      num_uses: record.numUses,
    };
  }

  /** A fresh accessor-like id for secret ids and roles. */
  static newId(): string {
    return randomUUID();
  }
}
