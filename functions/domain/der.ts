/**
 * Just enough ASN.1 DER to read what Node's `crypto.X509Certificate` does not expose: the
 * extensions of a certificate (basicConstraints, keyUsage, extKeyUsage), its serial, names and
 * validity as exact values, and the fields of an X.509 v2 CRL (RFC 5280 5.1) that revocation
 * needs. Pure: bytes in, values out; no crypto, no I/O. Anything it cannot read is a `DerError`,
 * never a guess: the callers turn that into a typed `InvalidInputError`.
 *
 * Limits, on purpose: single-byte tags only (X.509 never needs high tag numbers), definite
 * lengths only (DER forbids the indefinite form), lengths up to 2^32.
 */

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** Universal and context tags used by X.509 (the full first identifier byte). */
export const Tags = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  Sequence: 0x30,
  Set: 0x31,
  PrintableString: 0x13,
  T61String: 0x14,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  UniversalString: 0x1c,
  BmpString: 0x1e,
  /** `[0] EXPLICIT`, constructed: the certificate version, the CRL extensions. */
  Context0: 0xa0,
  Context1: 0xa1,
  Context2: 0xa2,
  /** `[3] EXPLICIT`, constructed: the certificate extensions. */
  Context3: 0xa3,
} as const;

/** One tag-length-value element. `bytes` is the whole element; `value` only its contents. */
export interface Tlv {
  tag: number;
  bytes: Buffer;
  value: Buffer;
}

/** Reads the element that starts at `offset`; `end` is where the next element starts. */
export function readTlv(buf: Buffer, offset = 0): Tlv & { end: number } {
  if (offset + 2 > buf.length) throw new DerError(`truncated element at byte ${offset}`);
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag number form at byte ${offset} is not supported`);
  const first = buf[offset + 1] as number;
  let length: number;
  let header: number;
  if (first < 0x80) {
    length = first;
    header = 2;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new DerError(`indefinite length at byte ${offset} is not DER`);
    if (count > 4) throw new DerError(`length of ${count} bytes at byte ${offset} is too large`);
    if (offset + 2 + count > buf.length) throw new DerError(`truncated length at byte ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[offset + 2 + i] as number);
    header = 2 + count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new DerError(`element at byte ${offset} claims ${length} bytes but only ${buf.length - offset - header} remain`);
  return { tag, bytes: buf.subarray(offset, end), value: buf.subarray(offset + header, end), end };
}

/** Reads a whole buffer as exactly one element (trailing bytes are an error). */
export function readSingle(buf: Buffer, expectedTag?: number): Tlv {
  const tlv = readTlv(buf, 0);
  if (tlv.end !== buf.length) throw new DerError(`${buf.length - tlv.end} trailing bytes after the outer element`);
  return expectTag(tlv, expectedTag);
}

/** The elements inside a constructed element, in order. */
export function children(tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let offset = 0;
  while (offset < tlv.value.length) {
    const child = readTlv(tlv.value, offset);
    out.push(child);
    offset = child.end;
  }
  return out;
}

function expectTag(tlv: Tlv | undefined, tag: number | undefined, what = 'element'): Tlv {
  if (!tlv) throw new DerError(`missing ${what}`);
  if (tag !== undefined && tlv.tag !== tag) {
    throw new DerError(`expected ${what} with tag 0x${tag.toString(16)}, found 0x${tlv.tag.toString(16)}`);
  }
  return tlv;
}

export function readOid(tlv: Tlv): string {
  expectTag(tlv, Tags.Oid, 'OBJECT IDENTIFIER');
  const bytes = tlv.value;
  if (bytes.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  if ((bytes[bytes.length - 1] as number) & 0x80) throw new DerError('truncated OBJECT IDENTIFIER');
  const first = arcs.shift() as number;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

export function readBoolean(tlv: Tlv): boolean {
  expectTag(tlv, Tags.Boolean, 'BOOLEAN');
  if (tlv.value.length !== 1) throw new DerError('BOOLEAN must be one byte');
  return tlv.value[0] !== 0;
}

/** A small non-negative INTEGER as a number (pathLenConstraint, version). */
export function readSmallInteger(tlv: Tlv): number {
  expectTag(tlv, Tags.Integer, 'INTEGER');
  if (tlv.value.length === 0 || tlv.value.length > 6) throw new DerError('INTEGER out of range');
  if ((tlv.value[0] as number) & 0x80) throw new DerError('negative INTEGER');
  return tlv.value.reduce((acc, byte) => acc * 256 + byte, 0);
}

/**
 * A serial number the way Vault writes it (VAULT_API.md 4.10, 4.12): lower-case hex byte pairs
 * joined by colons, from the magnitude without DER's leading 0x00 sign byte (Go's
 * `certutil.GetHexFormatted(serial.Bytes(), ":")`), e.g. `39:dd:2e`.
 */
export function readSerial(tlv: Tlv): string {
  expectTag(tlv, Tags.Integer, 'INTEGER serial');
  return formatSerial(tlv.value);
}

export function formatSerial(bytes: Uint8Array): string {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return Array.from(bytes.subarray(start), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A BIT STRING's bits, most significant first: `bits[0]` is bit 0 of the ASN.1 NamedBitList. */
export function readBitString(tlv: Tlv): boolean[] {
  expectTag(tlv, Tags.BitString, 'BIT STRING');
  const unused = tlv.value[0];
  if (unused === undefined || unused > 7) throw new DerError('malformed BIT STRING');
  const data = tlv.value.subarray(1);
  const bits: boolean[] = [];
  for (let i = 0; i < data.length * 8 - unused; i++) bits.push((((data[i >> 3] as number) >> (7 - (i & 7))) & 1) === 1);
  return bits;
}

/** BIT STRING contents without the unused-bits byte (a signature value). */
export function readBitStringBytes(tlv: Tlv): Buffer {
  expectTag(tlv, Tags.BitString, 'BIT STRING');
  if (tlv.value[0] !== 0) throw new DerError('signature BIT STRING with unused bits');
  return tlv.value.subarray(1);
}

/** UTCTime (years 1950-2049, RFC 5280 4.1.2.5.1) or GeneralizedTime, both in whole-second `Z` form. */
export function readTime(tlv: Tlv): Date {
  const text = tlv.value.toString('latin1');
  let match: RegExpExecArray | null;
  let year: number;
  if (tlv.tag === Tags.UtcTime) {
    match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!match) throw new DerError(`malformed UTCTime ${JSON.stringify(text)}`);
    const yy = Number(match[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (tlv.tag === Tags.GeneralizedTime) {
    match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text);
    if (!match) throw new DerError(`malformed GeneralizedTime ${JSON.stringify(text)}`);
    year = Number(match[1]);
  } else {
    throw new DerError(`expected a time, found tag 0x${tlv.tag.toString(16)}`);
  }
  const [, , mo, d, h, mi, s] = match.map(Number) as number[];
  return new Date(Date.UTC(year, (mo as number) - 1, d, h, mi, s));
}

function readString(tlv: Tlv): string {
  switch (tlv.tag) {
    case Tags.Utf8String:
      return tlv.value.toString('utf8');
    case Tags.PrintableString:
    case Tags.Ia5String:
    case Tags.T61String:
      return tlv.value.toString('latin1');
    case Tags.BmpString:
      return Buffer.from(tlv.value).swap16().toString('utf16le');
    default:
      return `#${tlv.bytes.toString('hex')}`;
  }
}

/**
 * A comparison key for a distinguished Name: `oid=value` pairs in order, values case-folded with
 * runs of white space collapsed (a simplified RFC 5280 7.1 / RFC 4518 match). Equal keys for two
 * encodings of the same name (PrintableString versus UTF8String) are the point: issuer and
 * subject are compared with this, never as raw bytes.
 */
export function nameKey(name: Tlv): string {
  expectTag(name, Tags.Sequence, 'Name');
  return children(name)
    .map((rdn) =>
      children(expectTag(rdn, Tags.Set, 'RelativeDistinguishedName'))
        .map((atv) => {
          const [type, value] = children(expectTag(atv, Tags.Sequence, 'AttributeTypeAndValue'));
          const text = readString(expectTag(value, undefined, 'attribute value'));
          return `${readOid(expectTag(type, Tags.Oid))}=${text.trim().replace(/\s+/g, ' ').toLowerCase()}`;
        })
        .sort()
        .join('+'),
    )
    .join(',');
}

export interface DerExtension {
  oid: string;
  critical: boolean;
  /** The contents of `extnValue` (the DER of the extension's own value). */
  value: Buffer;
}

export interface CertificateFields {
  serial: string;
  issuer: Tlv;
  subject: Tlv;
  notBefore: Date;
  notAfter: Date;
  extensions: DerExtension[];
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 4.1). */
export function readCertificate(der: Buffer): CertificateFields {
  const [tbs] = children(readSingle(der, Tags.Sequence));
  const fields = children(expectTag(tbs, Tags.Sequence, 'tbsCertificate'));
  let i = 0;
  if (fields[i]?.tag === Tags.Context0) i++; // version [0] EXPLICIT, absent for v1
  const serial = readSerial(expectTag(fields[i++], Tags.Integer, 'serialNumber'));
  i++; // signature AlgorithmIdentifier (the outer one is what gets verified)
  const issuer = expectTag(fields[i++], Tags.Sequence, 'issuer');
  const validity = children(expectTag(fields[i++], Tags.Sequence, 'validity'));
  const subject = expectTag(fields[i++], Tags.Sequence, 'subject');
  expectTag(fields[i++], Tags.Sequence, 'subjectPublicKeyInfo');
  const extensions: DerExtension[] = [];
  for (const field of fields.slice(i)) {
    if (field.tag !== Tags.Context3) continue; // issuerUniqueID [1], subjectUniqueID [2]
    const [list] = children(field);
    for (const ext of children(expectTag(list, Tags.Sequence, 'Extensions'))) extensions.push(readExtension(ext));
  }
  return {
    serial,
    issuer,
    subject,
    notBefore: readTime(expectTag(validity[0], undefined, 'notBefore')),
    notAfter: readTime(expectTag(validity[1], undefined, 'notAfter')),
    extensions,
  };
}

function readExtension(ext: Tlv): DerExtension {
  const parts = children(expectTag(ext, Tags.Sequence, 'Extension'));
  const oid = readOid(expectTag(parts[0], Tags.Oid, 'extnID'));
  const critical = parts.length === 3 ? readBoolean(parts[1] as Tlv) : false;
  const value = expectTag(parts[parts.length - 1], Tags.OctetString, 'extnValue').value;
  return { oid, critical, value };
}

export const ExtensionOids = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
} as const;

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }. */
export function readBasicConstraints(value: Buffer): { ca: boolean; pathLength?: number } {
  const parts = children(readSingle(value, Tags.Sequence));
  let ca = false;
  let pathLength: number | undefined;
  for (const part of parts) {
    if (part.tag === Tags.Boolean) ca = readBoolean(part);
    else if (part.tag === Tags.Integer) pathLength = readSmallInteger(part);
  }
  return pathLength === undefined ? { ca } : { ca, pathLength };
}

/** KeyUsage bit names in NamedBitList order (RFC 5280 4.2.1.3). */
export const KeyUsageBits = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KeyUsageBits)[number];

export function readKeyUsage(value: Buffer): KeyUsage[] {
  const bits = readBitString(readSingle(value));
  return KeyUsageBits.filter((_name, index) => bits[index] === true);
}

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId. */
export function readExtKeyUsage(value: Buffer): string[] {
  return children(readSingle(value, Tags.Sequence)).map(readOid);
}

export interface CrlFields {
  issuer: Tlv;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Serials of `revokedCertificates`, formatted like `readSerial`. */
  revokedSerials: string[];
  /** The exact bytes the signature covers. */
  tbs: Buffer;
  signatureAlgorithm: { oid: string; parameters?: Buffer };
  signature: Buffer;
}

/**
 * CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue } and
 * TBSCertList ::= SEQUENCE { version OPTIONAL, signature, issuer, thisUpdate, nextUpdate OPTIONAL,
 * revokedCertificates SEQUENCE OF SEQUENCE { userCertificate, revocationDate, crlEntryExtensions
 * OPTIONAL } OPTIONAL, crlExtensions [0] EXPLICIT OPTIONAL } (RFC 5280 5.1).
 */
export function readCrl(der: Buffer): CrlFields {
  const [tbs, algorithm, signature] = children(readSingle(der, Tags.Sequence));
  const fields = children(expectTag(tbs, Tags.Sequence, 'tbsCertList'));
  let i = 0;
  if (fields[i]?.tag === Tags.Integer) i++; // version, present for v2
  i++; // signature AlgorithmIdentifier
  const issuer = expectTag(fields[i++], Tags.Sequence, 'issuer');
  const thisUpdate = readTime(expectTag(fields[i++], undefined, 'thisUpdate'));
  let nextUpdate: Date | undefined;
  const maybeNext = fields[i];
  if (maybeNext && (maybeNext.tag === Tags.UtcTime || maybeNext.tag === Tags.GeneralizedTime)) {
    nextUpdate = readTime(maybeNext);
    i++;
  }
  const revokedSerials: string[] = [];
  const maybeRevoked = fields[i];
  if (maybeRevoked?.tag === Tags.Sequence) {
    for (const entry of children(maybeRevoked)) {
      const [serial] = children(expectTag(entry, Tags.Sequence, 'revoked certificate entry'));
      revokedSerials.push(readSerial(expectTag(serial, Tags.Integer, 'userCertificate')));
    }
  }
  const [algOid, algParams] = children(expectTag(algorithm, Tags.Sequence, 'signatureAlgorithm'));
  const signatureAlgorithm =
    algParams && algParams.tag !== Tags.Null
      ? { oid: readOid(expectTag(algOid, Tags.Oid)), parameters: algParams.bytes }
      : { oid: readOid(expectTag(algOid, Tags.Oid)) };
  return {
    issuer,
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    revokedSerials,
    tbs: (tbs as Tlv).bytes,
    signatureAlgorithm,
    signature: readBitStringBytes(expectTag(signature, Tags.BitString, 'signatureValue')),
  };
}
