/**
 * What certflow does with Vault's PKI engine (VAULT_API.md section 4), named by capability.
 * Mounts are passed explicitly: the root and intermediate mounts are different engines.
 */
export interface IssuerSummary {
  issuerId: string;
  issuerName: string;
  isDefault: boolean;
  serialNumber: string;
  keyId: string;
}

export type LeafNotAfterBehavior = 'err' | 'truncate' | 'permit' | 'always_enforce_err';

export interface IssuerDetails {
  issuerId: string;
  issuerName: string;
  keyId: string;
  certificatePem: string;
  /** This issuer first, then its parents as far as the mount knows them (4.2). */
  caChainPem: string[];
  leafNotAfterBehavior: LeafNotAfterBehavior;
  /** Parsed as a set: Vault's order varies by version (4.2). */
  usage: string[];
  revoked: boolean;
}

export interface SignedIntermediate {
  certificatePem: string;
  issuingCaPem: string;
  caChainPem: string[];
  serialNumber: string;
  /** Unix seconds. */
  expiration: number;
  warnings: string[];
}

export interface ImportResult {
  importedIssuers: string[];
  /** Issuer id -> key id ('' when the issuer came without a key). */
  mapping: Record<string, string>;
}

export interface IssuedLeaf {
  certificatePem: string;
  /** Secret: travels only from Vault to the Lambda's memory to the target Secret. */
  privateKeyPem?: string;
  issuingCaPem: string;
  caChainPem: string[];
  serialNumber: string;
  expiration: number;
}

export interface LeafRequest {
  commonName: string;
  altNames?: string[];
  ipSans?: string[];
  ttl?: string;
  /** Needed when the role's key_type is `any` (4.10); ignored with a warning otherwise. */
  keyType?: 'ec' | 'rsa';
  keyBits?: number;
  /** Issue from this issuer instead of the role's (`issuer/:ref/issue/:role`). */
  issuerRef?: string;
}

export interface VaultPki {
  listIssuers(mount: string): Promise<IssuerSummary[]>;
  readIssuer(mount: string, ref: string): Promise<IssuerDetails>;
  /** The default issuer's id, or undefined when the mount has none. */
  defaultIssuer(mount: string): Promise<string | undefined>;
  setDefaultIssuer(mount: string, issuerId: string): Promise<void>;
  /** The id of the key named `name` on the mount, or undefined. */
  keyIdByName(mount: string, name: string): Promise<string | undefined>;
  /** A new key (or the existing `keyRef`, for a retried step) and a CSR for it; no issuer yet (4.4). */
  generateIntermediateCsr(
    mount: string,
    request: { commonName: string; keyType: 'ec' | 'rsa'; keyBits: number; keyName: string; organization?: string; keyRef?: string },
  ): Promise<{ csrPem: string; keyId: string }>;
  /**
   * `sign-intermediate` (VAULT_API.md 4.5). `notAfter` bounds the CA's life exactly (Vault's
   * `not_after`; `ttl` is then not sent, since Vault refuses both); `permittedDnsDomains` and `permittedUriDomains` become its
   * name constraints (`permitted_dns_domains`; `permitted_uri_domains` in Vault 1.18 and later).
   */
  signIntermediate(
    rootMount: string,
    request: { csrPem: string; commonName: string; ttl: string; notAfter?: Date; issuerRef?: string; maxPathLength?: number; organization?: string; permittedDnsDomains?: string[]; permittedUriDomains?: string[] },
  ): Promise<SignedIntermediate>;
  importIssuers(mount: string, pemBundle: string): Promise<ImportResult>;
  /** PATCH with merge-patch: fields left out keep their values (P5). */
  updateIssuer(mount: string, ref: string, patch: { issuerName?: string; leafNotAfterBehavior?: LeafNotAfterBehavior; usage?: string[] }): Promise<IssuerDetails>;
  revokeIssuer(mount: string, ref: string): Promise<IssuerDetails>;
  revokeSerial(mount: string, serialNumber: string): Promise<{ revoked: boolean; warnings: string[] }>;
  rotateCrl(mount: string): Promise<void>;
  /** PEM CRL of one issuer (unauthenticated read). */
  issuerCrl(mount: string, ref: string): Promise<string>;
  issueLeaf(mount: string, role: string, request: LeafRequest): Promise<IssuedLeaf>;
  signLeaf(mount: string, role: string, request: LeafRequest & { csrPem: string }): Promise<IssuedLeaf>;
  listCertificates(mount: string): Promise<string[]>;
  /** The paths of Vault's enabled audit devices (`sys/audit`, a sudo path; preflight). */
  auditDevices(): Promise<string[]>;
  /** Whether a role exists on the mount (preflight). */
  roleExists(mount: string, role: string): Promise<boolean>;
  readCertificate(mount: string, serialNumber: string): Promise<{ certificatePem: string; revocationTime: number } | undefined>;
  tidy(mount: string, flags: Record<string, boolean>): Promise<{ started: boolean; warnings: string[] }>;
  /** `DELETE issuer/:ref` (4.9): the key stays; revoked leaves it signed are listed by the default's CRL from then on. */
  deleteIssuer(mount: string, ref: string): Promise<{ warnings: string[] }>;
  /** `config/auto-tidy` (4.14): Vault's own tidy schedule, read as Vault answers it. */
  readAutoTidy(mount: string): Promise<AutoTidyConfig>;
  writeAutoTidy(mount: string, config: AutoTidyConfig): Promise<void>;
}

/** The part of Vault's `config/auto-tidy` certflow keeps; durations in seconds, as Vault reads them back. */
export interface AutoTidyConfig {
  enabled: boolean;
  intervalSeconds: number;
  tidyCertStore: boolean;
  tidyRevokedCerts: boolean;
  tidyRevokedCertIssuerAssociations: boolean;
  tidyExpiredIssuers: boolean;
  safetyBufferSeconds: number;
  issuerSafetyBufferSeconds: number;
}
