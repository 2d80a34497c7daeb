/**
 * Reads PEM/DER input into facts the rest of the domain reasons about. Maintained parsers do the
 * work, each for what it is best at: pkijs for a certificate's ASN.1 (extensions, serial; the
 * trust checker's engine then works on the same object), @peculiar/x509 for CRLs, and Node's
 * `crypto.X509Certificate` (OpenSSL) for names, signatures, host names, key matching,
 * fingerprints and the strict reading of validity times (OpenSSL refuses a month 13 where an
 * ASN.1 library hands JavaScript's Date a value it silently rolls over).
 * Both are pure computation, allowed in domain/ (.dependency-cruiser.cjs `domain-is-pure`).
 * Malformed input is an `InvalidInputError`.
 */
import 'reflect-metadata';
import { X509Certificate, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { contentCache, ContentCacheLimits } from './content-cache';
import { InvalidInputError } from '../contracts/errors';
import { countX509Parse } from './x509-parse-count';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyUsage = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' | 'keyAgreement' | 'keyCertSign' | 'cRLSign' | 'encipherOnly' | 'decipherOnly';

/** In the order of RFC 5280 4.2.1.3's KeyUsage bits. */
const KEY_USAGE_BITS: readonly KeyUsage[] = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

export const ExtensionOids = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  nameConstraints: '2.5.29.30',
} as const;

/** Everything the domain needs to know about one certificate. */
export interface CertFacts {
  cert: X509Certificate;
  der: Buffer;
  /** The same certificate as pkijs reads it (the trust checker's engine works on these). */
  pki: pkijs.Certificate;
  /** Serial as Vault writes it: colon-separated lower-case hex. */
  serial: string;
  /** Subject and issuer on one line, for details (`CN=svc, O=acme`). */
  subject: string;
  issuer: string;
  /** Comparison keys for subject and issuer (`nameKey`): string types ignored, case and spacing folded. */
  subjectKey: string;
  issuerKey: string;
  /** As OpenSSL reads them; `validityError` says when it could not. */
  notBefore: Date;
  notAfter: Date;
  /** Set when OpenSSL cannot read notBefore or notAfter (a month 13, a day 32): the certificate is malformed. */
  validityError?: string;
  fingerprint256: string;
  /** Every extension in the order the certificate lists them, duplicates included. */
  extensions: ReadonlyArray<{ oid: string; critical: boolean }>;
  /** Absent when the certificate carries no basicConstraints extension. */
  basicConstraints?: { ca: boolean; pathLength?: number };
  /** Absent when there is no keyUsage extension, which RFC 5280 4.2.1.3 reads as "no restriction". */
  keyUsage?: KeyUsage[];
  /** Absent when there is no extKeyUsage extension. */
  extKeyUsage?: string[];
}

export interface CrlFacts {
  /** Position in the caller's list, for details. */
  index: number;
  der: Buffer;
  crl: x509.X509Crl;
  issuerKey: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  revokedSerials: ReadonlySet<string>;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** The PEM blocks in a text, in order; text between blocks (openssl's `subject=` lines) is ignored. */
export function pemBlocks(text: string): { label: string; der: Buffer }[] {
  return x509.PemConverter.decodeWithHeaders(text).map((block) => ({ label: block.type, der: Buffer.from(block.rawData) }));
}

/** Vault's serial form (VAULT_API.md 4.12) from the library's hex, without DER's sign byte. */
export function vaultSerial(hex: string): string {
  const bytes = hex.toLowerCase().replace(/^(00)+(?=..)/, '');
  return (bytes.length % 2 ? `0${bytes}` : bytes).match(/../g)?.join(':') ?? '00';
}

function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

/** One form for names from certificates (pkijs) and CRLs (@peculiar/x509): @peculiar's string, case and spacing folded. */
function nameKey(name: x509.Name): string {
  return name.toString().toLowerCase().replace(/\s+/g, ' ');
}

/**
 * The name as @peculiar/x509 reads it, from the bytes the certificate holds (pkijs keeps them as
 * `valueBeforeDecode`): re-encoding through `toSchema().toBER()` parsed the name a second time
 * for the same bytes. A name built by hand (no bytes kept) is still encoded.
 */
function pkiName(name: pkijs.RelativeDistinguishedNames): x509.Name {
  const raw = name.valueBeforeDecode.byteLength > 0 ? name.valueBeforeDecode : name.toSchema().toBER();
  return new x509.Name(new Uint8Array(raw));
}

/** OpenSSL prints `Bad time value` where it cannot read a time; otherwise `Jun  1 12:00:00 2030 GMT`. */
function opensslTime(printed: string): Date | undefined {
  const time = Date.parse(printed);
  return /bad time/i.test(printed) || Number.isNaN(time) ? undefined : new Date(time);
}

/**
 * RFC 5280 4.2.1.3: KeyUsage is a BIT STRING, bit 0 (digitalSignature) the most significant bit
 * of the first byte; pkijs hands over the bytes, the names follow the ASN.1 definition.
 */
function keyUsageNames(bits: Uint8Array): KeyUsage[] {
  return KEY_USAGE_BITS.filter((_, bit) => ((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
}

/**
 * Parsed certificates by content (their DER), so that each certificate is parsed once however
 * often it is read: the trust bundle and the expected issuer for every target's check, the shared
 * chain for every leaf. Facts are never changed after parsing, so handing out the same object is
 * safe. Bounded (content-cache.ts): a warm Lambda sees a few certificates per service, and the
 * least recently used goes when it is full. Only successful parses are kept; a malformed input fails again, with its name.
 */
const parsed = contentCache<CertFacts>(ContentCacheLimits.certificates);
export { x509ParseCount } from './x509-parse-count';

/** Parses one DER certificate, once per content; `what` names it in the error (e.g. `served chain certificate 2`). */
export function certFacts(der: Buffer, what: string): CertFacts {
  const key = der.toString('base64');
  const known = parsed.get(key);
  if (known) return known;
  const facts = parseCertFacts(der, what);
  countX509Parse();
  parsed.set(key, facts);
  return facts;
}

function parseCertFacts(der: Buffer, what: string): CertFacts {
  let cert: X509Certificate;
  let pki: pkijs.Certificate;
  try {
    cert = new X509Certificate(der);
    pki = pkijs.Certificate.fromBER(new Uint8Array(der));
  } catch (error) {
    throw new InvalidInputError(`${what} is not a valid X.509 certificate: ${(error as Error).message}`, { cause: error, details: { input: what } });
  }
  const notBefore = opensslTime(cert.validFrom);
  const notAfter = opensslTime(cert.validTo);
  const facts: CertFacts = {
    cert,
    der,
    pki,
    serial: vaultSerial(Buffer.from(pki.serialNumber.valueBlock.valueHexView).toString('hex')),
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    subjectKey: nameKey(pkiName(pki.subject)),
    issuerKey: nameKey(pkiName(pki.issuer)),
    notBefore: notBefore ?? pki.notBefore.value,
    notAfter: notAfter ?? pki.notAfter.value,
    fingerprint256: cert.fingerprint256,
    extensions: (pki.extensions ?? []).map((ext) => ({ oid: ext.extnID, critical: ext.critical })),
  };
  if (!notBefore || !notAfter) facts.validityError = `its ${notBefore ? 'notAfter' : 'notBefore'} is not a valid time`;
  // The first of each kind: a duplicate is refused by the trust checker, never silently merged.
  const first = (oid: string) => pki.extensions?.find((ext) => ext.extnID === oid);
  const basic = first(ExtensionOids.basicConstraints);
  const usage = first(ExtensionOids.keyUsage);
  const eku = first(ExtensionOids.extKeyUsage);
  if ((basic && !basic.parsedValue) || (usage && !usage.parsedValue) || (eku && !eku.parsedValue)) {
    throw new InvalidInputError(`${what} has an extension that does not parse`, { details: { input: what } });
  }
  if (basic) {
    const value = basic.parsedValue as pkijs.BasicConstraints;
    const length = value.pathLenConstraint;
    facts.basicConstraints = { ca: value.cA === true, ...(length !== undefined ? { pathLength: typeof length === 'number' ? length : length.valueBlock.valueDec } : {}) };
  }
  if (usage) facts.keyUsage = keyUsageNames((usage.parsedValue as asn1js.BitString).valueBlock.valueHexView);
  if (eku) facts.extKeyUsage = [...(eku.parsedValue as pkijs.ExtKeyUsage).keyPurposes];
  return facts;
}

/** What a plan needs of a target's current leaf: Node's X509Certificate and the fields it reads. */
export interface LeafSummary {
  cert: X509Certificate;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * The first certificate of a Secret's PEM, read by Node's X.509 parser (OpenSSL) alone: a plan
 * reads every target's leaf for its dates, names, serial and issuer, and the full parse (pkijs as
 * well, for the trust checker) cost it a millisecond or more per target. Anything Node cannot read
 * as a plan needs it (no certificate it parses, a validity time it cannot read, a serial it prints
 * as negative) takes the full parse instead, which names the error as before. Undefined when the
 * text holds no certificate.
 */
export function leafSummary(text: string, what: string): LeafSummary | undefined {
  const block = pemBlocks(text).find((entry) => entry.label === 'CERTIFICATE');
  if (!block) return undefined;
  let cert: X509Certificate | undefined;
  try {
    cert = new X509Certificate(block.der);
  } catch {
    cert = undefined;
  }
  const notBefore = cert ? opensslTime(cert.validFrom) : undefined;
  const notAfter = cert ? opensslTime(cert.validTo) : undefined;
  if (cert && notBefore && notAfter && /^[0-9A-Fa-f]+$/.test(cert.serialNumber)) return { cert, serial: vaultSerial(cert.serialNumber), notBefore, notAfter };
  const full = certificatesFromPem(text, what)[0];
  return full && { cert: full.cert, serial: full.serial, notBefore: full.notBefore, notAfter: full.notAfter };
}

/**
 * The same PEM texts come back for every target (the trust bundle, the expected issuer, the
 * shared chain): their PEM is decoded once, as their certificates are parsed once. Only texts that
 * parsed are kept; a copy of the list goes out, so no caller can change what the next one reads.
 */
const fromPem = contentCache<CertFacts[]>(ContentCacheLimits.pemTexts);

/**
 * Every CERTIFICATE block of a PEM text. Other blocks (a private key in a `pem_bundle`) are
 * skipped; a CERTIFICATE block that does not parse is an error, never silently dropped.
 */
export function certificatesFromPem(text: string, what: string): CertFacts[] {
  // A text that carries a private key (a pem_bundle) is never kept as a cache key.
  const cacheable = !text.includes('PRIVATE KEY');
  const known = cacheable ? fromPem.get(text) : undefined;
  if (known) return [...known];
  const facts = pemBlocks(text)
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block, index) => certFacts(block.der, `${what} certificate ${index + 1}`));
  if (cacheable) fromPem.set(text, facts);
  return [...facts];
}

/**
 * One CRL given as PEM (`X509 CRL`, or `CRL` as some libraries label it) or as base64 DER (what
 * Vault's JSON `crl` fields and `/crl/der` through base64 give, VAULT_API.md 4.13).
 */
const parsedCrls = contentCache<CrlFacts>(ContentCacheLimits.crls);

export function crlFacts(text: string, index: number): CrlFacts {
  // Each verify checks every target against the same few CRLs: parse each once, as certificates.
  const key = `${index}\n${text}`;
  const known = parsedCrls.get(key);
  if (known) return known;
  const facts = parseCrlFacts(text, index);
  parsedCrls.set(key, facts);
  return facts;
}

function parseCrlFacts(text: string, index: number): CrlFacts {
  const what = `CRL ${index + 1}`;
  const blocks = pemBlocks(text).filter((b) => b.label === 'X509 CRL' || b.label === 'CRL');
  let der: Buffer;
  if (blocks.length > 1) throw new InvalidInputError(`${what} holds ${blocks.length} CRLs: pass one per entry`, { details: { input: what } });
  if (blocks[0]) der = blocks[0].der;
  else {
    const compact = text.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw new InvalidInputError(`${what} is neither a PEM CRL nor base64 DER`, { details: { input: what } });
    der = Buffer.from(compact, 'base64');
  }
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(new Uint8Array(der));
  } catch (error) {
    throw new InvalidInputError(`${what} is not a valid X.509 CRL: ${(error as Error).message}`, { cause: error, details: { input: what } });
  }
  return {
    index,
    der,
    crl,
    issuerKey: nameKey(crl.issuerName),
    thisUpdate: crl.thisUpdate,
    ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate } : {}),
    revokedSerials: new Set(crl.entries.map((entry) => vaultSerial(entry.serialNumber))),
  };
}

/**
 * Whether `key` signed the CRL (the library verifies, RSASSA-PSS included: Vault may sign CRLs
 * with it, `revocation_signature_algorithm`, VAULT_API.md 4.3). A key of another type cannot have
 * signed it.
 */
export async function crlSignedBy(crl: CrlFacts, key: KeyObject): Promise<boolean> {
  try {
    const publicKey = new x509.PublicKey(key.export({ type: 'spki', format: 'der' }));
    return await crl.crl.verify({ publicKey });
  } catch {
    return false;
  }
}
