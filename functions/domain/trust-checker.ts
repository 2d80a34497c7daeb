/**
 * Does a served certificate chain validate against a trust bundle? The verification step of a
 * rotation (DESIGN.md Rotation step 9) and invariant I1 (every served chain validates against
 * every peer's bundle) both ask this, so the answer is a verdict with a named reason, never an
 * exception, for anything a server or a bundle can get wrong.
 *
 * Gather, then decide (STYLE.md): `gather` parses every input into facts; then an ordered chain
 * of small checks runs and the first that fails decides:
 *
 *  1. chain           build a path leaf -> ... -> a certificate of the trust bundle, each link a
 *                     matching name and a verifying signature (MissingIntermediate, UnknownIssuer)
 *  2. validity        every certificate of the path is within its validity at `now`
 *                     (NotYetValid, Expired; notAfter itself is still valid, RFC 5280 4.1.2.5)
 *  3. keyUsage        CAs: basicConstraints CA:true, keyCertSign, pathLen; the leaf:
 *                     digitalSignature and an EKU for `purpose`; CA EKUs must allow it too
 *                     (WrongKeyUsage)
 *  4. hostName        the leaf's SANs cover `hostName` (NameMismatch)
 *  5. keyMatch        `privateKeyPem` is the leaf's key (KeyMismatch)
 *  6. expectedIssuer  `expectedIssuerPem` signed the leaf (UnknownIssuer)
 *  7. revocation      no CRL of an issuer on the path lists a certificate below it (Revoked)
 *
 * Several paths can exist (a bundle holding the root and both intermediates during a rotation,
 * step 5). Checks 2-7 run per path, shortest first; the first path that passes them all makes the
 * verdict Valid, and when none does, the verdict is the failure of the shortest path.
 *
 * Malformed *input* is different: a served chain with no certificate, a PEM block that is not a
 * certificate, an unreadable CRL or private key are caller mistakes, not facts about the PKI, and
 * throw `InvalidInputError` (I7) instead of a misleading verdict such as UnknownIssuer. A bundle
 * that is well-formed but empty is a fact ("this peer trusts nothing") and yields UnknownIssuer.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { InvalidInputError } from '../contracts/errors';
import { certificatesFromPem, crlFacts, crlSignedBy, type CertFacts, type CrlFacts } from './x509-facts';

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
  /** The leaf's SANs do not cover the host name. */
  NameMismatch: 'NameMismatch',
  /** A CRL signed by an issuer on the path lists the leaf or an intermediate. */
  Revoked: 'Revoked',
  /** A CA lacks CA:true / keyCertSign / path length, or the leaf lacks the usage for its purpose. */
  WrongKeyUsage: 'WrongKeyUsage',
  /** The private key given does not belong to the leaf. */
  KeyMismatch: 'KeyMismatch',
} as const;
export type TrustReason = (typeof TrustReasons)[keyof typeof TrustReasons];

/** The checks in the order they run (see the module comment). */
export const TrustCheckOrder = ['chain', 'validity', 'keyUsage', 'hostName', 'keyMatch', 'expectedIssuer', 'revocation'] as const;

/** `ca`: the end certificate is itself a CA (Istio's plug-in mesh CA): keyCertSign instead of TLS usages. */
export type TrustPurpose = 'server' | 'client' | 'any' | 'ca';

export interface TrustInput {
  /** PEM: the leaf first, then the intermediates the server sends (in any order). */
  servedChain: string;
  /** PEM: what the peer trusts. Every certificate in it is a trust anchor, roots or intermediates. */
  trustBundle: string;
  /** DNS name or IP address the peer dials; checked against SANs only (the CN is ignored, as Go does). */
  hostName?: string;
  now: Date;
  /** CRLs, each PEM or base64 DER. A CRL counts only when its issuer is on the path and its signature verifies. */
  crls?: string[];
  /** The key that should belong to the leaf. Only compared, never echoed in a detail. */
  privateKeyPem?: string;
  /** PEM of the issuer that must have signed the leaf (the new intermediate after a rotation). */
  expectedIssuerPem?: string;
  /**
   * Which extended key usage the leaf needs: serverAuth, clientAuth, or `any` to skip the EKU check.
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
}

interface TrustSnapshot {
  leaf: CertFacts;
  /** Served certificates after the leaf. */
  intermediates: CertFacts[];
  anchors: CertFacts[];
  crls: CrlFacts[];
  now: Date;
  purpose: TrustPurpose;
  hostName?: string;
  privateKey?: KeyObject;
  expectedIssuer?: CertFacts;
}

/** leaf, then its issuer, ..., ending with a certificate of the trust bundle. */
type Path = readonly CertFacts[];
type Failure = { reason: TrustReason; detail: string };
type PathCheck = (s: TrustSnapshot, path: Path) => Failure | undefined;

/** Bounds on path building: real PKIs are 2-4 deep; a hostile bundle must not make us search forever. */
const MAX_PATH_LENGTH = 8;
const MAX_PATHS = 16;

const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  any: '2.5.29.37.0',
} as const;

export function checkTrust(input: TrustInput): TrustVerdict {
  const s = gather(input);
  const leaf = {
    serial: s.leaf.serial,
    subject: s.leaf.subject,
    notAfter: s.leaf.notAfter.toISOString(),
    fingerprint256: s.leaf.fingerprint256,
  };
  const paths = buildPaths(s);
  if (paths.length === 0) return { valid: false, ...explainMissingPath(s), leaf };
  let shortestFailure: Failure | undefined;
  for (const path of paths) {
    const failure = firstFailure(s, path);
    if (!failure) return { valid: true, reason: TrustReasons.Valid, detail: describeValid(s, path), leaf };
    shortestFailure ??= failure;
  }
  return { valid: false, ...(shortestFailure as Failure), leaf };
}

/** Checks 2-7, in order; the first failure wins. */
const PATH_CHECKS: readonly PathCheck[] = [checkValidity, checkKeyUsage, checkHostName, checkKeyMatch, checkExpectedIssuer, checkRevocation];

function firstFailure(s: TrustSnapshot, path: Path): Failure | undefined {
  for (const check of PATH_CHECKS) {
    const failure = check(s, path);
    if (failure) return failure;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// gather

function gather(input: TrustInput): TrustSnapshot {
  if (!(input.now instanceof Date) || Number.isNaN(input.now.getTime())) {
    throw new InvalidInputError('now must be a valid Date', { details: { input: 'now' } });
  }
  const served = certificatesFromPem(input.servedChain, 'served chain');
  const [leaf, ...intermediates] = served;
  if (!leaf) throw new InvalidInputError('the served chain holds no PEM certificate', { details: { input: 'servedChain' } });
  const snapshot: TrustSnapshot = {
    leaf,
    intermediates,
    anchors: certificatesFromPem(input.trustBundle, 'trust bundle'),
    crls: (input.crls ?? []).map((crl, index) => crlFacts(crl, index)),
    now: input.now,
    purpose: input.purpose ?? 'server',
  };
  if (input.hostName !== undefined) snapshot.hostName = input.hostName;
  if (input.privateKeyPem !== undefined) {
    try {
      snapshot.privateKey = createPrivateKey(input.privateKeyPem);
    } catch (error) {
      // The message names the input only: a key, even a broken one, never goes into an error.
      throw new InvalidInputError('privateKeyPem is not a readable private key', { cause: error, details: { input: 'privateKeyPem' } });
    }
  }
  if (input.expectedIssuerPem !== undefined) {
    const expected = certificatesFromPem(input.expectedIssuerPem, 'expected issuer');
    if (expected.length !== 1 || !expected[0]) {
      throw new InvalidInputError(`expectedIssuerPem must hold exactly one certificate, found ${expected.length}`, { details: { input: 'expectedIssuerPem' } });
    }
    snapshot.expectedIssuer = expected[0];
  }
  return snapshot;
}

// ---------------------------------------------------------------------------------------------
// 1. chain

/** `parent` signed `child`: the names match and the signature verifies with the parent's key. */
function issued(parent: CertFacts, child: CertFacts): boolean {
  if (child.issuerKey !== parent.subjectKey) return false;
  try {
    return child.cert.verify(parent.cert.publicKey);
  } catch {
    return false;
  }
}

function sameCert(a: CertFacts, b: CertFacts): boolean {
  return a.fingerprint256 === b.fingerprint256;
}

function isAnchor(s: TrustSnapshot, cert: CertFacts): boolean {
  return s.anchors.some((anchor) => sameCert(anchor, cert));
}

function selfSigned(cert: CertFacts): boolean {
  return issued(cert, cert);
}

/**
 * Every path from the leaf to a bundle certificate, shortest first. Any bundle certificate is an
 * anchor, root or not: consumers that trust the intermediate directly are why rotation publishes
 * a bundle with both intermediates (DESIGN.md Rotation step 5). (`openssl verify` needs
 * `-partial_chain` to agree on such bundles.)
 */
function buildPaths(s: TrustSnapshot): Path[] {
  const pool: CertFacts[] = [];
  for (const cert of [...s.anchors, ...s.intermediates]) if (!pool.some((c) => sameCert(c, cert))) pool.push(cert);
  const found: Path[] = [];
  const extend = (path: Path): void => {
    if (found.length >= MAX_PATHS) return;
    const tip = path[path.length - 1] as CertFacts;
    if (isAnchor(s, tip)) {
      found.push(path);
      return;
    }
    if (path.length >= MAX_PATH_LENGTH) return;
    for (const candidate of pool) {
      if (!path.some((c) => sameCert(c, candidate)) && issued(candidate, tip)) extend([...path, candidate]);
    }
  };
  extend([s.leaf]);
  return found.sort((a, b) => a.length - b.length);
}

/**
 * No path exists: say why, from what the server sent. Walk up from the leaf through the served
 * certificates as far as signatures go, then look at where the walk stopped.
 */
function explainMissingPath(s: TrustSnapshot): Failure {
  if (s.anchors.length === 0) {
    return { reason: TrustReasons.UnknownIssuer, detail: 'the trust bundle holds no certificate, so nothing can anchor the chain' };
  }
  const walk: CertFacts[] = [s.leaf];
  for (;;) {
    const tip = walk[walk.length - 1] as CertFacts;
    const next = s.intermediates.find((c) => !walk.some((w) => sameCert(w, c)) && issued(c, tip));
    if (!next) break;
    walk.push(next);
  }
  const end = walk[walk.length - 1] as CertFacts;
  const trusted = s.anchors.slice(0, 3).map((a) => a.subject).join('; ') + (s.anchors.length > 3 ? `; and ${s.anchors.length - 3} more` : '');
  if (selfSigned(end)) {
    return {
      reason: TrustReasons.UnknownIssuer,
      detail: `the served chain ends at the self-signed ${end.subject}, which the trust bundle does not hold (it trusts ${trusted})`,
    };
  }
  const namesakeInBundle = s.anchors.find((a) => a.subjectKey === end.issuerKey);
  if (namesakeInBundle) {
    return {
      reason: TrustReasons.UnknownIssuer,
      detail: `${end.subject} names ${end.issuer} as its issuer, and the trust bundle holds a certificate of that name, but its key did not sign it (a different CA with the same name)`,
    };
  }
  if (walk.length === 1) {
    const namesakeServed = s.intermediates.some((c) => c.subjectKey === end.issuerKey);
    return {
      reason: TrustReasons.MissingIntermediate,
      detail:
        `the leaf's issuer ${end.issuer} is neither in the served chain nor in the trust bundle (it trusts ${trusted}): ` +
        (namesakeServed
          ? 'the server sends a certificate of that name, but not the one whose key signed the leaf (an old intermediate?)'
          : 'the server must send the intermediate with its leaf'),
    };
  }
  return {
    reason: TrustReasons.UnknownIssuer,
    detail: `the served chain ends at ${end.subject}, issued by ${end.issuer}, which the trust bundle does not hold (it trusts ${trusted})`,
  };
}

// ---------------------------------------------------------------------------------------------
// 2-7. per-path checks

function role(path: Path, index: number): string {
  if (index === 0) return 'leaf';
  return index === path.length - 1 ? 'trust anchor' : 'intermediate';
}

function checkValidity(s: TrustSnapshot, path: Path): Failure | undefined {
  const now = s.now.getTime();
  for (const [index, cert] of path.entries()) {
    if (now < cert.notBefore.getTime()) {
      return {
        reason: TrustReasons.NotYetValid,
        detail: `the ${role(path, index)} ${cert.subject} is not valid before ${cert.notBefore.toISOString()} (now is ${s.now.toISOString()})`,
      };
    }
    if (now > cert.notAfter.getTime()) {
      return {
        reason: TrustReasons.Expired,
        detail: `the ${role(path, index)} ${cert.subject} expired at ${cert.notAfter.toISOString()} (now is ${s.now.toISOString()})`,
      };
    }
  }
  return undefined;
}

function allowsPurpose(extKeyUsage: readonly string[] | undefined, purpose: TrustPurpose): boolean {
  if (purpose === 'any' || purpose === 'ca' || extKeyUsage === undefined) return true;
  return extKeyUsage.includes(EKU.any) || extKeyUsage.includes(purpose === 'server' ? EKU.serverAuth : EKU.clientAuth);
}

function checkKeyUsage(s: TrustSnapshot, path: Path): Failure | undefined {
  const wrong = (detail: string): Failure => ({ reason: TrustReasons.WrongKeyUsage, detail });
  for (let index = 1; index < path.length; index++) {
    const ca = path[index] as CertFacts;
    const signed = path[index - 1] as CertFacts;
    const what = `the ${role(path, index)} ${ca.subject}`;
    // A trust anchor without basicConstraints at all (an old v1 root) is trusted as configured;
    // any certificate that says CA:false, or an intermediate that says nothing, may not sign.
    const anchorWithoutExtension = index === path.length - 1 && ca.basicConstraints === undefined;
    if (!anchorWithoutExtension && ca.basicConstraints?.ca !== true) {
      return wrong(`${what} signed ${signed.subject} but is not a CA (basicConstraints CA:true is missing)`);
    }
    if (ca.keyUsage && !ca.keyUsage.includes('keyCertSign')) {
      return wrong(`${what} signed ${signed.subject} but its key usage (${ca.keyUsage.join(', ')}) lacks keyCertSign`);
    }
    const pathLength = ca.basicConstraints?.pathLength;
    if (pathLength !== undefined && index - 1 > pathLength) {
      return wrong(`${what} allows ${pathLength} intermediate(s) below it, but the chain has ${index - 1}`);
    }
    if (!allowsPurpose(ca.extKeyUsage, s.purpose)) {
      return wrong(`${what} restricts its extended key usage to ${ca.extKeyUsage?.join(', ')}, which excludes ${s.purpose} authentication`);
    }
  }
  const leaf = s.leaf;
  if (s.purpose === 'ca') {
    if (leaf.basicConstraints?.ca !== true) return wrong(`${leaf.subject} should be a CA but basicConstraints CA:true is missing`);
    if (leaf.keyUsage && !leaf.keyUsage.includes('keyCertSign')) return wrong(`${leaf.subject} is a CA whose key usage (${leaf.keyUsage.join(', ')}) lacks keyCertSign`);
    return undefined;
  }
  if (leaf.keyUsage && !leaf.keyUsage.includes('digitalSignature')) {
    return wrong(`the leaf's key usage (${leaf.keyUsage.join(', ') || 'none'}) lacks digitalSignature, which TLS needs`);
  }
  if (!allowsPurpose(leaf.extKeyUsage, s.purpose)) {
    return wrong(`the leaf's extended key usage (${leaf.extKeyUsage?.join(', ') || 'none'}) does not allow ${s.purpose} authentication`);
  }
  return undefined;
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

function checkHostName(s: TrustSnapshot): Failure | undefined {
  const host = s.hostName;
  if (host === undefined) return undefined;
  const cert = s.leaf.cert;
  // subject: 'never' ignores the CN, like Go and browsers; no partial wildcards (f*.example.com).
  const matched = isIpAddress(host) ? cert.checkIP(host) : cert.checkHost(host, { subject: 'never', partialWildcards: false });
  if (matched !== undefined) return undefined;
  return {
    reason: TrustReasons.NameMismatch,
    detail: `the leaf's names (${cert.subjectAltName ?? 'no subjectAltName'}) do not cover ${host}`,
  };
}

function checkKeyMatch(s: TrustSnapshot): Failure | undefined {
  if (!s.privateKey) return undefined;
  let matches = false;
  try {
    matches = s.leaf.cert.checkPrivateKey(s.privateKey);
  } catch {
    matches = false; // keys of different types
  }
  if (matches) return undefined;
  return {
    reason: TrustReasons.KeyMismatch,
    detail: `the private key (${s.privateKey.asymmetricKeyType}) does not belong to the leaf's public key (${s.leaf.cert.publicKey.asymmetricKeyType}): the Secret's tls.key and tls.crt come from different issuances`,
  };
}

/**
 * "Issued by" means the expected certificate's name and key signed the leaf. An intermediate
 * re-issued with its existing key (VAULT_API.md 5.1 step 1) therefore counts as the same issuer:
 * nothing in the leaf can tell the two certificates apart.
 */
function checkExpectedIssuer(s: TrustSnapshot, path: Path): Failure | undefined {
  const expected = s.expectedIssuer;
  if (!expected || issued(expected, s.leaf)) return undefined;
  const actual = path[1];
  return {
    reason: TrustReasons.UnknownIssuer,
    detail:
      `the leaf was issued by ${s.leaf.issuer}${actual ? ` (serial ${actual.serial})` : ''}, ` +
      `not by the expected issuer ${expected.subject} (serial ${expected.serial})`,
  };
}

/**
 * A CRL counts for a certificate when its issuer name is the certificate's issuer on this path and
 * the issuer's key signed it: each issuer signs its own CRL, so after a rotation an old leaf is on
 * the old issuer's CRL, not on `pki/crl` (VAULT_API.md 4.13, P13). An issuer whose key usage lacks
 * cRLSign cannot sign a valid CRL. Freshness (nextUpdate) is not judged here.
 */
function checkRevocation(s: TrustSnapshot, path: Path): Failure | undefined {
  for (let index = 0; index < path.length - 1; index++) {
    const cert = path[index] as CertFacts;
    const issuer = path[index + 1] as CertFacts;
    if (issuer.keyUsage && !issuer.keyUsage.includes('cRLSign')) continue;
    for (const crl of s.crls) {
      if (crl.issuerKey !== issuer.subjectKey || !crl.revokedSerials.has(cert.serial)) continue;
      if (!crlSignedBy(crl, issuer.cert.publicKey)) continue;
      return {
        reason: TrustReasons.Revoked,
        detail: `the ${role(path, index)} ${cert.subject} (serial ${cert.serial}) is listed on CRL ${crl.index + 1} of ${issuer.subject}, issued ${crl.thisUpdate.toISOString()}`,
      };
    }
  }
  return undefined;
}

function describeValid(s: TrustSnapshot, path: Path): string {
  const until = new Date(Math.min(...path.map((c) => c.notAfter.getTime())));
  const checked = [
    s.hostName !== undefined ? `names cover ${s.hostName}` : undefined,
    s.privateKey ? 'key matches' : undefined,
    s.expectedIssuer ? 'issued by the expected issuer' : undefined,
    s.crls.length > 0 ? `not on ${s.crls.length} CRL(s)` : undefined,
  ].filter(Boolean);
  return `${path.map((c) => c.subject).join(' <- ')} is trusted for ${s.purpose} use until ${until.toISOString()}${checked.length ? `; ${checked.join(', ')}` : ''}`;
}
