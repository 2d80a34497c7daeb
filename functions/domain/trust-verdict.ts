/**
 * The vocabulary of the trust checker: its reasons, input and verdict, and the snapshot the
 * checks share (trust-checker.ts gathers it; trust-explain.ts and revocation-check.ts read it).
 */
import type * as pkijs from 'pkijs';
import type { BudgetedCrypto, PathWork } from './path-engine';
import type { CertFacts, CrlFacts } from './x509-facts';
import type { KeyObject } from 'node:crypto';

export const TrustReasons = {
  /** The chain builds to the bundle and every check passed. */
  Valid: 'Valid',
  /** A certificate of the chain is past its notAfter. */
  Expired: 'Expired',
  /** A certificate of the chain is before its notBefore (clock skew, or issued for the future). */
  NotYetValid: 'NotYetValid',
  /** Nothing in the bundle anchors the chain, or the leaf was not signed by the expected issuer. */
  UnknownIssuer: 'UnknownIssuer',
  /** The leaf's issuer is neither served nor trusted: the server must send its intermediate (P2). */
  MissingIntermediate: 'MissingIntermediate',
  /** The leaf's SANs do not cover a host name, or a host name is not a name at all. */
  NameMismatch: 'NameMismatch',
  /** A CRL signed by an issuer on the path lists the leaf or an intermediate. */
  Revoked: 'Revoked',
  /** A CA lacks CA:true / keyCertSign / path length, or the leaf lacks the usage for its purpose. */
  WrongKeyUsage: 'WrongKeyUsage',
  /** The private key given does not belong to the leaf. */
  KeyMismatch: 'KeyMismatch',
  /** A CA on the path does not permit (or excludes) a name of a certificate below it. */
  NameConstraintViolation: 'NameConstraintViolation',
  /** A certificate of the path marks critical an extension certflow does not process (RFC 5280 4.2). */
  UnhandledCriticalExtension: 'UnhandledCriticalExtension',
  /** A certificate of the path carries the same extension twice (RFC 5280 4.2). */
  DuplicateExtension: 'DuplicateExtension',
  /** A certificate of the path has a validity time that is not a time (a month 13). */
  MalformedCertificate: 'MalformedCertificate',
  /** The search for a path spent its fixed budget of signature checks or issuer look-ups. */
  PathBudgetExceeded: 'PathBudgetExceeded',
  /** CRLs were given, but none of a certificate's issuer is there and signed by it. */
  RevocationUnknown: 'RevocationUnknown',
  /** The issuer's CRL is past its nextUpdate (or before its thisUpdate): revocation cannot be judged. */
  CrlStale: 'CrlStale',
} as const;
export type TrustReason = (typeof TrustReasons)[keyof typeof TrustReasons];

/** The checks in the order they run (see the module comment). */
export const TrustCheckOrder = ['chain', 'structure', 'keyUsage', 'hostName', 'keyMatch', 'expectedIssuer', 'revocation'] as const;

/**
 * `mtls`: both serverAuth and clientAuth (a service that serves and dials with one certificate).
 * `ca`: the end certificate is itself a CA (Istio's plug-in mesh CA): keyCertSign instead of TLS usages.
 */
export type TrustPurpose = 'server' | 'client' | 'mtls' | 'any' | 'ca';

export interface TrustInput {
  /** PEM: the leaf first, then the intermediates the server sends (in any order). */
  servedChain: string;
  /** PEM: what the peer trusts. Every certificate in it is a trust anchor, roots or intermediates. */
  trustBundle: string;
  /** DNS name or IP address the peer dials; checked against SANs only (the CN is ignored, as Go does). */
  hostName?: string;
  /** More names that must all be covered (every declared name of a target). */
  hostNames?: string[];
  now: Date;
  /**
   * CRLs, each PEM or base64 DER. When given (even empty), every certificate below the anchor
   * needs a current CRL of its issuer, as `openssl verify -crl_check_all` does.
   */
  crls?: string[];
  /** The key that should belong to the leaf. Only compared, never echoed in a detail. */
  privateKeyPem?: string;
  /** PEM of the issuer that must have signed the leaf (the new intermediate after a rotation). */
  expectedIssuerPem?: string;
  /**
   * Which extended key usage the leaf needs.
   * @default 'server'
   */
  purpose?: TrustPurpose;
}

export interface TrustVerdict {
  valid: boolean;
  reason: TrustReason;
  /** Plain words: which certificate, what is wrong, with which dates or names. Safe to log. */
  detail: string;
  leaf?: {
    /** Colon-separated lower-case hex, as Vault writes serials (VAULT_API.md 4.12). */
    serial: string;
    subject: string;
    /** ISO 8601. */
    notAfter: string;
    fingerprint256: string;
  };
  /** What the path search cost, counted (the budget is fixed, path-engine.ts). */
  work: Omit<PathWork, 'exhausted'>;
}

export interface CertNode {
  facts: CertFacts;
  pki: pkijs.Certificate;
}

export interface CrlNode {
  facts: CrlFacts;
}

export interface TrustSnapshot {
  leaf: CertNode;
  /** Served certificates after the leaf. */
  intermediates: CertNode[];
  anchors: CertNode[];
  crls?: CrlNode[];
  now: Date;
  purpose: TrustPurpose;
  hostNames: string[];
  privateKey?: KeyObject;
  expectedIssuer?: CertNode;
  crypto: BudgetedCrypto;
}

/** leaf, then its issuer, ..., ending with a certificate of the trust bundle. */
export type Path = readonly CertNode[];
export type Failure = { reason: TrustReason; detail: string };
export type PathCheck = (s: TrustSnapshot, path: Path) => Failure | undefined | Promise<Failure | undefined>;

export function sameCert(a: CertFacts, b: CertFacts): boolean {
  return a.fingerprint256 === b.fingerprint256;
}

export function isAnchor(s: TrustSnapshot, node: CertNode): boolean {
  return s.anchors.some((anchor) => sameCert(anchor.facts, node.facts));
}

export function role(s: TrustSnapshot, node: CertNode): string {
  if (node === s.leaf) return 'leaf';
  return isAnchor(s, node) ? 'trust anchor' : 'intermediate';
}

/** `parent`'s key signed `child`, through the budgeted engine (counted, memoized). */
export async function signs(s: TrustSnapshot, parent: CertNode, child: CertNode): Promise<boolean> {
  try {
    return await child.pki.verify(parent.pki, s.crypto);
  } catch {
    return false;
  }
}
