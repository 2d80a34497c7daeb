/**
 * Reads PEM/DER input into facts the trust checks reason about: Node's `crypto.X509Certificate`
 * for what it does well (signatures, host names, key matching, fingerprints) plus the DER reader
 * for what it does not expose (basicConstraints, keyUsage bits, exact validity, CRL contents).
 * Node's `crypto` is pure computation and the only built-in the domain may use
 * (.dependency-cruiser.cjs `domain-no-node-io`). Malformed input is an `InvalidInputError`.
 */
import 'reflect-metadata';
import { X509Certificate, verify as verifySignature, constants, type KeyObject } from 'node:crypto';
import { PemConverter } from '@peculiar/x509';
import { InvalidInputError } from '../contracts/errors';
import {
  DerError,
  ExtensionOids,
  children,
  nameKey,
  readBasicConstraints,
  readCertificate,
  readCrl,
  readExtKeyUsage,
  readKeyUsage,
  readOid,
  readSingle,
  readSmallInteger,
  Tags,
  type KeyUsage,
} from './der';

/** Everything the trust checks need to know about one certificate. */
export interface CertFacts {
  cert: X509Certificate;
  /** Serial as Vault writes it: colon-separated lower-case hex. */
  serial: string;
  /** Subject and issuer on one line, for details (`CN=svc, O=acme`). */
  subject: string;
  issuer: string;
  /** Comparison keys for subject and issuer (`der.ts` `nameKey`). */
  subjectKey: string;
  issuerKey: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
  /** Absent when the certificate carries no basicConstraints extension. */
  basicConstraints?: { ca: boolean; pathLength?: number };
  /** Absent when there is no keyUsage extension, which RFC 5280 4.2.1.3 reads as "no restriction". */
  keyUsage?: KeyUsage[];
  /** Absent when there is no extKeyUsage extension, which RFC 5280 4.2.1.12 reads as "any purpose". */
  extKeyUsage?: string[];
}

export interface CrlFacts {
  /** Position in the caller's list, for details. */
  index: number;
  issuerKey: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  revokedSerials: ReadonlySet<string>;
  tbs: Buffer;
  signatureAlgorithm: { oid: string; parameters?: Buffer };
  signature: Buffer;
}

/**
 * The PEM blocks (RFC 7468) in a text, in order, as @peculiar/x509's PemConverter reads them;
 * text between blocks (openssl's `subject=` lines) is ignored.
 */
export function pemBlocks(text: string): { label: string; der: Buffer }[] {
  return PemConverter.decodeWithHeaders(text).map((block) => ({ label: block.type, der: Buffer.from(block.rawData) }));
}

function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

/** Parses one DER certificate; `what` names it in the error (e.g. `served chain certificate 2`). */
export function certFacts(der: Buffer, what: string): CertFacts {
  try {
    const cert = new X509Certificate(der);
    const fields = readCertificate(der);
    const facts: CertFacts = {
      cert,
      serial: fields.serial,
      subject: oneLine(cert.subject),
      issuer: oneLine(cert.issuer),
      subjectKey: nameKey(fields.subject),
      issuerKey: nameKey(fields.issuer),
      notBefore: fields.notBefore,
      notAfter: fields.notAfter,
      fingerprint256: cert.fingerprint256,
    };
    for (const ext of fields.extensions) {
      if (ext.oid === ExtensionOids.basicConstraints) facts.basicConstraints = readBasicConstraints(ext.value);
      else if (ext.oid === ExtensionOids.keyUsage) facts.keyUsage = readKeyUsage(ext.value);
      else if (ext.oid === ExtensionOids.extKeyUsage) facts.extKeyUsage = readExtKeyUsage(ext.value);
    }
    return facts;
  } catch (error) {
    throw new InvalidInputError(`${what} is not a valid X.509 certificate: ${(error as Error).message}`, { cause: error, details: { input: what } });
  }
}

/**
 * Every CERTIFICATE block of a PEM text. Other blocks (a private key in a `pem_bundle`) are
 * skipped; a CERTIFICATE block that does not parse is an error, never silently dropped.
 */
export function certificatesFromPem(text: string, what: string): CertFacts[] {
  return pemBlocks(text)
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block, index) => certFacts(block.der, `${what} certificate ${index + 1}`));
}

/**
 * One CRL given as PEM (`X509 CRL`, or `CRL` as some libraries label it) or as base64 DER (what
 * Vault's JSON `crl` fields and `/crl/der` through base64 give, VAULT_API.md 4.13).
 */
export function crlFacts(text: string, index: number): CrlFacts {
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
  try {
    const fields = readCrl(der);
    return {
      index,
      issuerKey: nameKey(fields.issuer),
      thisUpdate: fields.thisUpdate,
      ...(fields.nextUpdate ? { nextUpdate: fields.nextUpdate } : {}),
      revokedSerials: new Set(fields.revokedSerials),
      tbs: fields.tbs,
      signatureAlgorithm: fields.signatureAlgorithm,
      signature: fields.signature,
    };
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
    throw new InvalidInputError(`${what} is not a valid X.509 CRL: ${error.message}`, { cause: error, details: { input: what } });
  }
}

/** Signature algorithm OIDs a CA may sign a CRL with, mapped to Node's digest names. */
const SIGNATURE_DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, // Ed25519: no separate digest
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const HASH_OIDS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/**
 * Whether `key` signed the CRL. Vault may sign CRLs with RSASSA-PSS
 * (`revocation_signature_algorithm`, VAULT_API.md 4.3), so PSS is read from its parameters.
 * An algorithm we cannot check is an error rather than "not signed": ignoring such a CRL would
 * let a revoked certificate pass as valid.
 */
export function crlSignedBy(crl: CrlFacts, key: KeyObject): boolean {
  const what = `CRL ${crl.index + 1}`;
  const { oid, parameters } = crl.signatureAlgorithm;
  let digest: string | null | undefined;
  let options: { padding: number; saltLength: number } | undefined;
  try {
    if (oid === RSASSA_PSS) {
      const pss = readPssParameters(parameters);
      digest = pss.digest;
      options = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss.saltLength };
    } else {
      digest = SIGNATURE_DIGESTS[oid];
    }
  } catch (error) {
    throw new InvalidInputError(`${what} has malformed RSASSA-PSS parameters: ${(error as Error).message}`, { cause: error, details: { input: what } });
  }
  if (digest === undefined) {
    throw new InvalidInputError(`${what} is signed with algorithm ${oid}, which certflow cannot verify`, { details: { input: what, algorithm: oid } });
  }
  try {
    return verifySignature(digest, crl.tbs, options ? { key, ...options } : key, crl.signature);
  } catch {
    // A key of another type (an RSA CA and an ECDSA-signed CRL) cannot have signed it.
    return false;
  }
}

/** RSASSA-PSS-params (RFC 4055 3.1): hashAlgorithm [0] (default SHA-1), saltLength [2] (default 20). */
function readPssParameters(parameters: Buffer | undefined): { digest: string | undefined; saltLength: number } {
  let digest: string | undefined = 'sha1';
  let saltLength = 20;
  if (!parameters) return { digest, saltLength };
  for (const field of children(readSingle(parameters, Tags.Sequence))) {
    const [inner] = children(field);
    if (!inner) continue;
    if (field.tag === Tags.Context0) {
      const [hashOid] = children(inner);
      if (hashOid) digest = HASH_OIDS[readOid(hashOid)];
    } else if (field.tag === Tags.Context2) {
      saltLength = readSmallInteger(inner);
    }
  }
  return { digest, saltLength };
}
