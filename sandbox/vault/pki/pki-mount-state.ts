import { randomUUID } from 'node:crypto';
import { VaultApiError } from '../envelope';
import type { PkiRole } from './pki-role';
import {
  certificatePem,
  colonSerial,
  isSelfSigned,
  isSignedBy,
  type KeyPairMaterial,
  randomSerialHex,
  requestSerialToColon,
  type x509,
} from './x509-engine';

/**
 * The state of one PKI mount (VAULT_API.md 4): keys, issuers, the default issuer, stored
 * certificates with their revocation entries, roles, CRL/URL configuration and the CRLs built
 * per issuer. Private keys stay inside; nothing here is ever serialized to a response whole.
 */

/** Sorted, as issuerUsage.Names() prints them (4.2: parse as a set). */
export const ISSUER_USAGES = ['crl-signing', 'issuing-certificates', 'ocsp-signing', 'read-only'] as const;
export type IssuerUsage = (typeof ISSUER_USAGES)[number];

export const LEAF_NOT_AFTER_BEHAVIORS = ['err', 'truncate', 'permit', 'always_enforce_err'] as const;
export type LeafNotAfterBehavior = (typeof LEAF_NOT_AFTER_BEHAVIORS)[number];

export interface AiaUrls {
  issuingCertificates: string[];
  crlDistributionPoints: string[];
  deltaCrlDistributionPoints: string[];
  ocspServers: string[];
  enableTemplating: boolean;
}

export interface PkiKey {
  readonly id: string;
  name: string;
  readonly material: KeyPairMaterial;
}

export interface PkiIssuer {
  readonly id: string;
  name: string;
  /** '' when the mount has no key for this certificate (an imported parent, 4.6 `mapping`). */
  keyId: string;
  readonly cert: x509.X509Certificate;
  readonly pem: string;
  /** Colon form. */
  readonly serial: string;
  leafNotAfterBehavior: LeafNotAfterBehavior;
  /** Issuer ids, first entry this issuer (4.3). */
  manualChain: string[] | null;
  usage: Set<IssuerUsage>;
  revocationSignatureAlgorithm: string;
  revoked: boolean;
  revocationTime?: Date;
  /** Per-issuer AIA fields; undefined means "use the mount's config/urls". */
  aia?: AiaUrls;
  /** Issuer ids of this issuer's chain as the mount knows it, self first (4.2, P2). */
  caChainIds: string[];
  readonly createdOrder: number;
}

export interface RevocationEntry {
  readonly time: Date;
  /** The issuer the revoked certificate was associated with, when known (`issuer_id` of 4.13). */
  readonly issuerId: string;
}

/** A certificate under `certs/`: issued leaves, and roots/intermediates generated or signed here. */
export interface StoredCert {
  /** Colon form. */
  readonly serial: string;
  readonly cert: x509.X509Certificate;
  readonly pem: string;
  /** The issuer of this mount that signed it ('' when unknown, e.g. a root is its own). */
  readonly issuerId: string;
  revocation?: RevocationEntry;
}

export interface CrlConfig {
  expirySeconds: number;
  disable: boolean;
  ocspDisable: boolean;
  autoRebuild: boolean;
  autoRebuildGracePeriodSeconds: number;
  enableDelta: boolean;
  deltaRebuildIntervalSeconds: number;
}

export interface BuiltCrl {
  readonly der: Buffer;
  readonly number: number;
  readonly thisUpdate: Date;
}

export interface MountConfig {
  defaultLeaseTtlSeconds: number;
  maxLeaseTtlSeconds: number;
}

/** Vault's system defaults for a mount without tuning: 768h for both. */
export const SYSTEM_DEFAULT_LEASE_TTL = 768 * 3600;
export const SYSTEM_MAX_LEASE_TTL = 768 * 3600;

const UUID_LENGTH = 36;

export function defaultUsage(): Set<IssuerUsage> {
  return new Set<IssuerUsage>(ISSUER_USAGES);
}

export function usageNames(usage: ReadonlySet<IssuerUsage>): string {
  return ISSUER_USAGES.filter((name) => name === 'read-only' || usage.has(name)).join(',');
}

export class PkiMount {
  readonly keys = new Map<string, PkiKey>();
  readonly issuers = new Map<string, PkiIssuer>();
  readonly certs = new Map<string, StoredCert>();
  /**
   * The stored certificates that carry a revocation entry, by serial: Vault keeps revoked
   * certificates under their own prefix (`revoked/`), so a CRL build reads those and never walks
   * the whole certificate store (issue 16: a rebuild per revocation over every stored leaf is what
   * made a 1,000-service compromise take minutes).
   */
  readonly revokedCerts = new Map<string, StoredCert>();
  readonly roles = new Map<string, PkiRole>();
  /** Built CRLs by issuer id; issuers sharing key and subject share one CRL (crl_util.go). */
  readonly crls = new Map<string, BuiltCrl>();
  defaultIssuerId = '';
  defaultFollowsLatestIssuer = false;
  /** config/keys: the first key added, as Vault's key storage does. */
  defaultKeyId = '';
  crlConfig: CrlConfig = {
    expirySeconds: 72 * 3600,
    disable: false,
    ocspDisable: false,
    autoRebuild: false,
    autoRebuildGracePeriodSeconds: 12 * 3600,
    enableDelta: false,
    deltaRebuildIntervalSeconds: 15 * 60,
  };
  urls: AiaUrls = { issuingCertificates: [], crlDistributionPoints: [], deltaCrlDistributionPoints: [], ocspServers: [], enableTemplating: false };
  crlNumber = 0;
  private issuerCounter = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly name: string,
    public config: MountConfig,
    readonly now: () => Date,
  ) {}

  /**
   * Runs a mutating operation after the previous ones finished: key generation awaits WebCrypto,
   * and Vault holds its issuers lock for the whole operation, so two imports never interleave.
   */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  nextIssuerOrder(): number {
    this.issuerCounter += 1;
    return this.issuerCounter;
  }

  /** Issuers in creation order (LIST pki/issuers sorts by id; this is for chain and CRL walks). */
  issuerList(): PkiIssuer[] {
    return [...this.issuers.values()].sort((a, b) => a.createdOrder - b.createdOrder);
  }

  /** resolveIssuerReference: `default`, a UUID, or a name; undefined when nothing matches. */
  findIssuer(reference: string): PkiIssuer | undefined {
    if (reference === 'default') return this.issuers.get(this.defaultIssuerId);
    if (reference.length === UUID_LENGTH) {
      const byId = this.issuers.get(reference);
      if (byId) return byId;
    }
    return [...this.issuers.values()].find((issuer) => issuer.name !== '' && issuer.name === reference);
  }

  /** The issuer for a reference, or 400 with the resolver's message (4.2). */
  resolveIssuer(reference: string): PkiIssuer {
    if (reference === '') throw new VaultApiError(400, 'missing issuer reference');
    if (reference === 'default' && !this.issuers.has(this.defaultIssuerId)) {
      // OpenBao answers this one with 500; VAULT_API.md 4.2 says unknown refs are 400/404.
      throw new VaultApiError(400, 'no default issuer currently configured');
    }
    const issuer = this.findIssuer(reference);
    if (!issuer) throw new VaultApiError(400, `unable to find PKI issuer for reference: ${reference}`);
    return issuer;
  }

  findKey(reference: string): PkiKey | undefined {
    if (reference.length === UUID_LENGTH) {
      const byId = this.keys.get(reference);
      if (byId) return byId;
    }
    return [...this.keys.values()].find((key) => key.name !== '' && key.name === reference);
  }

  resolveKey(reference: string): PkiKey {
    if (reference === '') throw new VaultApiError(400, 'missing key reference');
    const key = this.findKey(reference);
    if (!key) throw new VaultApiError(400, `unable to find PKI key for reference: ${reference}`);
    return key;
  }

  keyForSpki(spki: Buffer): PkiKey | undefined {
    return [...this.keys.values()].find((key) => key.material.spki.equals(spki));
  }

  /** Names are unique per mount and never the literal `default` (4.3). */
  assertIssuerNameFree(name: string, except?: string): void {
    if (name === '') return;
    if (name === 'default') throw new VaultApiError(400, "reserved keyword 'default' can not be used as issuer name");
    const taken = [...this.issuers.values()].find((issuer) => issuer.name === name && issuer.id !== except);
    if (taken) throw new VaultApiError(400, `issuer name already in use`);
  }

  assertKeyNameFree(name: string, except?: string): void {
    if (name === '') return;
    if (name === 'default') throw new VaultApiError(400, "reserved keyword 'default' can not be used as key name");
    const taken = [...this.keys.values()].find((key) => key.name === name && key.id !== except);
    if (taken) throw new VaultApiError(400, `key name already in use`);
  }

  addKey(material: KeyPairMaterial, name = ''): PkiKey {
    const key: PkiKey = { id: randomUUID(), name, material };
    this.keys.set(key.id, key);
    if (!this.keys.has(this.defaultKeyId)) this.defaultKeyId = key.id;
    return key;
  }

  /** A fresh serial unique across the mount's stored certs and issuers (4: serials are mount-unique). */
  newSerialHex(): string {
    for (;;) {
      const hex = randomSerialHex();
      const colon = colonSerial(hex);
      if (!this.certs.has(colon) && ![...this.issuers.values()].some((issuer) => issuer.serial === colon)) return hex;
    }
  }

  storeCert(cert: x509.X509Certificate, issuerId: string): StoredCert {
    const stored: StoredCert = { serial: colonSerial(cert.serialNumber), cert, pem: certificatePem(cert), issuerId };
    this.certs.set(stored.serial, stored);
    return stored;
  }

  /** Records a revocation entry and indexes it (`revoked/` in Vault's storage). */
  markRevoked(record: StoredCert, entry: RevocationEntry): void {
    record.revocation = entry;
    this.revokedCerts.set(record.serial, record);
  }

  /** Removes a stored certificate and its revocation entry (tidy). */
  forgetCert(serial: string): void {
    this.certs.delete(serial);
    this.revokedCerts.delete(serial);
  }

  findCert(serial: string): StoredCert | undefined {
    return this.certs.get(requestSerialToColon(serial));
  }

  /**
   * Recomputes every issuer's chain from what the mount holds (chain_util.go rebuildIssuersChains):
   * self, then each issuer that signed it, recursively; a manual_chain wins.
   */
  async rebuildChains(): Promise<void> {
    const issuers = this.issuerList();
    const parents = new Map<string, string[]>();
    for (const child of issuers) {
      const found: string[] = [];
      if (!isSelfSigned(child.cert)) {
        for (const parent of issuers) {
          if (parent.id !== child.id && (await isSignedBy(child.cert, parent.cert))) found.push(parent.id);
        }
      }
      parents.set(child.id, found);
    }
    for (const issuer of issuers) {
      if (issuer.manualChain) {
        issuer.caChainIds = issuer.manualChain.filter((id) => this.issuers.has(id));
        continue;
      }
      const chain = [issuer.id];
      for (let i = 0; i < chain.length; i += 1) {
        for (const parent of parents.get(chain[i] ?? '') ?? []) if (!chain.includes(parent)) chain.push(parent);
      }
      issuer.caChainIds = chain;
    }
  }

  chainPems(issuer: PkiIssuer): string[] {
    const ids = issuer.caChainIds.length > 0 ? issuer.caChainIds : [issuer.id];
    return ids.map((id) => this.issuers.get(id)?.pem).filter((pem): pem is string => pem !== undefined);
  }

  /** The AIA fields an issuer's certificates get: its own when set, else the mount's config/urls. */
  effectiveUrls(issuer: PkiIssuer | undefined): AiaUrls {
    const source = issuer?.aia ?? this.urls;
    if (!source.enableTemplating || !issuer) return source;
    const expand = (values: readonly string[]): string[] => values.map((value) => value.replace(/\{\{issuer_id\}\}/g, issuer.id));
    return {
      ...source,
      issuingCertificates: expand(source.issuingCertificates),
      crlDistributionPoints: expand(source.crlDistributionPoints),
      deltaCrlDistributionPoints: expand(source.deltaCrlDistributionPoints),
      ocspServers: expand(source.ocspServers),
    };
  }

  roleNamesUsingIssuer(issuer: PkiIssuer): string[] {
    return [...this.roles.entries()]
      .filter(([, role]) => role.issuerRef === issuer.id || (issuer.name !== '' && role.issuerRef === issuer.name))
      .map(([name]) => name)
      .sort();
  }
}
