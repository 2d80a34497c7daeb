/**
 * Does a served certificate chain validate against a trust bundle? The verification step of a
 * rotation (DESIGN.md Rotation step 9) asks this, so the answer is a verdict with a named reason,
 * never an exception, for anything a server or a bundle can get wrong.
 *
 * Path building and RFC 5280 validation are pkijs' `CertificateChainValidationEngine`
 * (path-engine.ts, inside a fixed budget). It is the maintained engine that runs in pure
 * JavaScript on bytes alone, so it can judge a Secret or a chain without a TLS session; OpenSSL
 * (`openssl verify`, test/unit/trust-differential.test.ts) is the oracle it is compared with.
 * Where pkijs is more lenient than OpenSSL (it ignores path length, EKU, unknown critical
 * extensions on the leaf, duplicate extensions, the trust anchor's name constraints, permits a
 * certificate when any one of its DNS names is permitted, and reads a month 13 as January), the
 * checks below apply the rule on what the libraries parsed; none of them parses or builds
 * anything itself.
 *
 * Gather, then decide (STYLE.md): `gather` parses every input; then an ordered chain of checks
 * runs and the first that fails decides:
 *
 *  1. chain           the engine: a path leaf -> ... -> a bundle certificate, signatures,
 *                     validity of every certificate at `now`, every issuer and the anchor a CA
 *                     with keyCertSign, name constraints of every CA on the path, the anchor's
 *                     included (MissingIntermediate, UnknownIssuer, Expired, NotYetValid,
 *                     WrongKeyUsage, NameConstraintViolation, PathBudgetExceeded)
 *  2. structure       no certificate of the path repeats an extension, carries a critical
 *                     extension certflow does not process, or has a time OpenSSL cannot read
 *                     (DuplicateExtension, UnhandledCriticalExtension, MalformedCertificate)
 *  3. keyUsage        path length; CA EKUs allow the purpose; the leaf is not a CA, has
 *                     digitalSignature, and an EKU naming the purpose: no EKU is not "any"
 *                     (WrongKeyUsage)
 *  4. hostName        the leaf's SANs cover every name asked for (NameMismatch)
 *  5. keyMatch        `privateKeyPem` is the leaf's key (KeyMismatch)
 *  6. expectedIssuer  `expectedIssuerPem` signed the leaf (UnknownIssuer)
 *  7. revocation      when CRLs are given: each certificate below the anchor has a CRL of its
 *                     issuer, signed by it, current at `now`, that does not list it
 *                     (RevocationUnknown, CrlStale, Revoked)
 *
 * Malformed *input* is different: a served chain with no certificate, a PEM block that is not a
 * certificate, an unreadable CRL or private key are caller mistakes, not facts about the PKI, and
 * throw `InvalidInputError` (I7) instead of a misleading verdict such as UnknownIssuer. A bundle
 * that is well-formed but empty is a fact ("this peer trusts nothing") and yields UnknownIssuer.
 */
import { createPrivateKey } from 'node:crypto';
import * as pkijs from 'pkijs';
import { InvalidInputError } from '../contracts/errors';
import { dnsConstraintViolation } from './dns-name-constraints';
import { BudgetedCrypto, runEngine, type PathWork } from './path-engine';
import { explainEngineFailure } from './trust-explain';
import { checkRevocation } from './revocation-check';
import { isAnchor, role, signs, TrustReasons, type CertNode, type Failure, type Path, type PathCheck, type TrustInput, type TrustPurpose, type TrustSnapshot, type TrustVerdict } from './trust-verdict';
import { certificatesFromPem, crlFacts, ExtensionOids } from './x509-facts';

export { TrustCheckOrder, TrustReasons, type TrustInput, type TrustPurpose, type TrustReason, type TrustVerdict } from './trust-verdict';

const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Extensions certflow (with the engine) processes, so may be critical: the set OpenSSL handles, less those nobody here reads. */
const HANDLED_CRITICAL = new Set([
  ExtensionOids.basicConstraints,
  ExtensionOids.keyUsage,
  ExtensionOids.extKeyUsage,
  ExtensionOids.nameConstraints,
  '2.5.29.17', // subjectAltName
  '2.5.29.32', // certificatePolicies (the engine processes policies)
  '2.5.29.33', // policyMappings
  '2.5.29.36', // policyConstraints
  '2.5.29.54', // inhibitAnyPolicy
]);

export async function checkTrust(input: TrustInput): Promise<TrustVerdict> {
  const s = gather(input);
  const leaf = {
    serial: s.leaf.facts.serial,
    subject: s.leaf.facts.subject,
    notAfter: s.leaf.facts.notAfter.toISOString(),
    fingerprint256: s.leaf.facts.fingerprint256,
  };
  const verdict = (failure: Failure | undefined, path?: Path): TrustVerdict => {
    const work = { signatureChecks: s.crypto.work.signatureChecks, pathSteps: s.crypto.work.pathSteps };
    if (!failure) return { valid: true, reason: TrustReasons.Valid, detail: describeValid(s, path as Path), leaf, work };
    return { valid: false, ...failure, leaf, work };
  };
  const chain = await buildPath(s);
  if ('reason' in chain) return verdict(chain);
  for (const check of PATH_CHECKS) {
    const failure = await check(s, chain.path);
    if (failure) return verdict(failure);
  }
  return verdict(undefined, chain.path);
}

/** Checks 2-7, in order; the first failure wins. */
const PATH_CHECKS: readonly PathCheck[] = [checkStructure, checkKeyUsage, checkHostNames, checkKeyMatch, checkExpectedIssuer, checkRevocation];

// ---------------------------------------------------------------------------------------------
// gather

function nodes(text: string, what: string): CertNode[] {
  return certificatesFromPem(text, what).map((facts) => ({ facts, pki: facts.pki }));
}

function gather(input: TrustInput): TrustSnapshot {
  if (!(input.now instanceof Date) || Number.isNaN(input.now.getTime())) {
    throw new InvalidInputError('now must be a valid Date', { details: { input: 'now' } });
  }
  const [leaf, ...intermediates] = nodes(input.servedChain, 'served chain');
  if (!leaf) throw new InvalidInputError('the served chain holds no PEM certificate', { details: { input: 'servedChain' } });
  const snapshot: TrustSnapshot = {
    leaf,
    intermediates,
    anchors: nodes(input.trustBundle, 'trust bundle'),
    now: input.now,
    purpose: input.purpose ?? 'server',
    hostNames: [...(input.hostName !== undefined ? [input.hostName] : []), ...(input.hostNames ?? [])],
    crypto: new BudgetedCrypto(),
  };
  if (input.crls) {
    snapshot.crls = input.crls.map((crl, index) => {
      // @peculiar/x509 reads the CRL: pkijs refuses the empty crlEntryExtensions that some
      // generators write (OpenSSL, like @peculiar, accepts them).
      return { facts: crlFacts(crl, index) };
    });
  }
  if (input.privateKeyPem !== undefined) {
    try {
      snapshot.privateKey = createPrivateKey(input.privateKeyPem);
    } catch (error) {
      // The message names the input only: a key, even a broken one, never goes into an error.
      throw new InvalidInputError('privateKeyPem is not a readable private key', { cause: error, details: { input: 'privateKeyPem' } });
    }
  }
  if (input.expectedIssuerPem !== undefined) {
    const expected = nodes(input.expectedIssuerPem, 'expected issuer');
    if (expected.length !== 1 || !expected[0]) {
      throw new InvalidInputError(`expectedIssuerPem must hold exactly one certificate, found ${expected.length}`, { details: { input: 'expectedIssuerPem' } });
    }
    snapshot.expectedIssuer = expected[0];
  }
  return snapshot;
}

// ---------------------------------------------------------------------------------------------
// 1. chain (the engine)

async function buildPath(s: TrustSnapshot): Promise<{ path: Path } | Failure> {
  if (s.anchors.length === 0) {
    return { reason: TrustReasons.UnknownIssuer, detail: 'the trust bundle holds no certificate, so nothing can anchor the chain' };
  }
  const all = [s.leaf, ...s.intermediates, ...s.anchors];
  const byPki = (cert: pkijs.Certificate): CertNode => all.find((node) => node.pki === cert) ?? (all.find((node) => samePki(node.pki, cert)) as CertNode);
  const base = { leaf: s.leaf.pki, intermediates: s.intermediates.map((n) => n.pki), anchors: s.anchors.map((n) => n.pki), now: s.now, crypto: s.crypto };
  let result = await runEngine(base);
  if (result.ok) {
    // pkijs applies name constraints of the certificates below the anchor only; OpenSSL applies
    // the anchor's too (an intermediate trusted directly keeps its constraints), so run again
    // with the anchor's subtrees as the initial ones. Signatures are memoized: no extra checks.
    const anchor = result.path[result.path.length - 1] as pkijs.Certificate;
    const constraints = anchor.extensions?.find((ext) => ext.extnID === ExtensionOids.nameConstraints)?.parsedValue as pkijs.NameConstraints | undefined;
    if (constraints && result.path.length > 1) {
      result = await runEngine({ ...base, ...(constraints.permittedSubtrees ? { permitted: constraints.permittedSubtrees } : {}), ...(constraints.excludedSubtrees ? { excluded: constraints.excludedSubtrees } : {}) });
    }
  }
  if (result.ok) {
    const violation = dnsConstraintViolation(result.path);
    if (violation) {
      const ca = byPki(result.path[violation.ca] as pkijs.Certificate);
      return {
        reason: TrustReasons.NameConstraintViolation,
        detail: `${violation.name} is ${violation.rule === 'excluded' ? 'in a subtree excluded' : 'outside the subtrees permitted'} by the ${role(s, ca)} ${ca.facts.subject} (${violation.constraint})`,
      };
    }
    return { path: result.path.map(byPki) };
  }
  if (s.crypto.work.exhausted) {
    return {
      reason: TrustReasons.PathBudgetExceeded,
      detail: `the path search stopped after ${s.crypto.work.signatureChecks} signature checks and ${s.crypto.work.pathSteps} issuer look-ups without a trusted path (${s.intermediates.length} served and ${s.anchors.length} trusted certificates)`,
    };
  }
  return explainEngineFailure(s, result.code, result.message);
}

function samePki(a: pkijs.Certificate, b: pkijs.Certificate): boolean {
  return Buffer.from(a.tbsView).equals(Buffer.from(b.tbsView)) && Buffer.from(a.signatureValue.valueBlock.valueHexView).equals(Buffer.from(b.signatureValue.valueBlock.valueHexView));
}

// ---------------------------------------------------------------------------------------------
// 2-6. per-path checks (7, revocation, is revocation-check.ts)

function checkStructure(s: TrustSnapshot, path: Path): Failure | undefined {
  for (const node of path) {
    const what = `the ${role(s, node)} ${node.facts.subject}`;
    const seen = new Set<string>();
    for (const ext of node.facts.extensions) {
      if (seen.has(ext.oid)) return { reason: TrustReasons.DuplicateExtension, detail: `${what} carries extension ${ext.oid} more than once, which RFC 5280 4.2 forbids` };
      seen.add(ext.oid);
    }
    const critical = node.facts.extensions.find((ext) => ext.critical && !HANDLED_CRITICAL.has(ext.oid as never));
    if (critical) return { reason: TrustReasons.UnhandledCriticalExtension, detail: `${what} marks extension ${critical.oid} critical, and certflow does not process it (RFC 5280 4.2: reject)` };
    if (node.facts.validityError) return { reason: TrustReasons.MalformedCertificate, detail: `${what} is malformed: ${node.facts.validityError}` };
  }
  return undefined;
}

function ekusFor(purpose: TrustPurpose): string[] {
  if (purpose === 'server') return [EKU.serverAuth];
  if (purpose === 'client') return [EKU.clientAuth];
  if (purpose === 'mtls') return [EKU.serverAuth, EKU.clientAuth];
  return [];
}

const EKU_NAMES: Record<string, string> = { [EKU.serverAuth]: 'serverAuth', [EKU.clientAuth]: 'clientAuth' };

function checkKeyUsage(s: TrustSnapshot, path: Path): Failure | undefined {
  const wrong = (detail: string): Failure => ({ reason: TrustReasons.WrongKeyUsage, detail });
  const needed = ekusFor(s.purpose);
  for (let index = 1; index < path.length; index++) {
    const ca = path[index] as CertNode;
    const what = `the ${role(s, ca)} ${ca.facts.subject}`;
    // RFC 5280 4.2.1.9: pathLenConstraint counts the non-self-issued intermediates below the CA.
    const below = path.slice(1, index).filter((n) => n.facts.subjectKey !== n.facts.issuerKey).length;
    const pathLength = ca.facts.basicConstraints?.pathLength;
    if (pathLength !== undefined && below > pathLength) return wrong(`${what} allows ${pathLength} intermediate(s) below it, but the chain has ${below}`);
    const missing = needed.filter((oid) => ca.facts.extKeyUsage && !ca.facts.extKeyUsage.includes(oid));
    if (missing.length) return wrong(`${what} restricts its extended key usage to ${ca.facts.extKeyUsage?.join(', ')}, which excludes ${missing.map((oid) => EKU_NAMES[oid]).join(' and ')}`);
  }
  const leaf = s.leaf.facts;
  if (s.purpose === 'ca') {
    if (leaf.basicConstraints?.ca !== true) return wrong(`${leaf.subject} should be a CA but basicConstraints CA:true is missing`);
    if (leaf.keyUsage && !leaf.keyUsage.includes('keyCertSign')) return wrong(`${leaf.subject} is a CA whose key usage (${leaf.keyUsage.join(', ')}) lacks keyCertSign`);
    return undefined;
  }
  if (s.purpose === 'any') return undefined;
  if (leaf.basicConstraints?.ca === true) return wrong(`the leaf ${leaf.subject} is itself a CA (basicConstraints CA:true): an end-entity certificate may not be one`);
  if (leaf.keyUsage && !leaf.keyUsage.includes('digitalSignature')) {
    return wrong(`the leaf's key usage (${leaf.keyUsage.join(', ') || 'none'}) lacks digitalSignature, which TLS needs`);
  }
  const lacking = needed.filter((oid) => !leaf.extKeyUsage?.includes(oid));
  if (lacking.length) {
    return wrong(
      `the leaf's extended key usage (${leaf.extKeyUsage?.join(', ') || 'none: no EKU is not "any"'}) does not allow ${lacking.map((oid) => EKU_NAMES[oid]).join(' and ')} (${s.purpose} authentication)`,
    );
  }
  return undefined;
}

/**
 * Every name must be covered. A name Node cannot read as an IP address (`checkIP` refuses it) is
 * matched as a DNS name, and a "DNS name" with a port, brackets or a zone id (`host:443`,
 * `[::1]`, `fe80::1%eth0`) is no name at all: a verdict that says so, not a TypeError.
 */
function checkHostNames(s: TrustSnapshot): Failure | undefined {
  const cert = s.leaf.facts.cert;
  for (const host of s.hostNames) {
    let matched: string | undefined;
    let isIp = true;
    try {
      matched = cert.checkIP(host);
    } catch {
      isIp = false;
    }
    if (!isIp) {
      if (!/^[A-Za-z0-9*_-]+(\.[A-Za-z0-9_-]+)*\.?$/.test(host)) {
        return { reason: TrustReasons.NameMismatch, detail: `${JSON.stringify(host)} is neither a DNS name nor an IP address (a port, brackets or a zone id do not belong in a host name)` };
      }
      // subject: 'never' ignores the CN, like Go and browsers; no partial wildcards (f*.example.com).
      matched = cert.checkHost(host, { subject: 'never', partialWildcards: false });
    }
    if (matched === undefined) {
      return { reason: TrustReasons.NameMismatch, detail: `the leaf's names (${cert.subjectAltName ?? 'no subjectAltName'}) do not cover ${host}` };
    }
  }
  return undefined;
}

function checkKeyMatch(s: TrustSnapshot): Failure | undefined {
  if (!s.privateKey) return undefined;
  let matches = false;
  try {
    matches = s.leaf.facts.cert.checkPrivateKey(s.privateKey);
  } catch {
    matches = false; // keys of different types
  }
  if (matches) return undefined;
  return {
    reason: TrustReasons.KeyMismatch,
    detail: `the private key (${s.privateKey.asymmetricKeyType}) does not belong to the leaf's public key (${s.leaf.facts.cert.publicKey.asymmetricKeyType}): the Secret's tls.key and tls.crt come from different issuances`,
  };
}

/**
 * "Issued by" means the expected certificate's name and key signed the leaf. An intermediate
 * re-issued with its existing key (VAULT_API.md 5.1 step 1) therefore counts as the same issuer:
 * nothing in the leaf can tell the two certificates apart.
 */
async function checkExpectedIssuer(s: TrustSnapshot, path: Path): Promise<Failure | undefined> {
  const expected = s.expectedIssuer;
  if (!expected) return undefined;
  if (expected.facts.subjectKey === s.leaf.facts.issuerKey && (await signs(s, expected, s.leaf))) return undefined;
  const actual = path[1];
  return {
    reason: TrustReasons.UnknownIssuer,
    detail:
      `the leaf was issued by ${s.leaf.facts.issuer}${actual ? ` (serial ${actual.facts.serial})` : ''}, ` +
      `not by the expected issuer ${expected.facts.subject} (serial ${expected.facts.serial})`,
  };
}

function describeValid(s: TrustSnapshot, path: Path): string {
  const until = new Date(Math.min(...path.map((c) => c.facts.notAfter.getTime())));
  const checked = [
    s.hostNames.length ? `names cover ${s.hostNames.join(', ')}` : undefined,
    s.privateKey ? 'key matches' : undefined,
    s.expectedIssuer ? 'issued by the expected issuer' : undefined,
    s.crls ? `not on ${path.length - 1} current CRL(s) of ${s.crls.length} given` : undefined,
  ].filter(Boolean);
  return `${path.map((c) => c.facts.subject).join(' <- ')} is trusted for ${s.purpose} use until ${until.toISOString()}${checked.length ? `; ${checked.join(', ')}` : ''}`;
}
