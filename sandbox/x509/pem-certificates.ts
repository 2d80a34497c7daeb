import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { colonSerial } from '../vault/pki/x509-engine';

/**
 * PEM and certificate facts for the emulators, from the libraries (@peculiar/x509's PemConverter,
 * Node's X509Certificate), never from certflow's own parsers: an emulator that shares the code
 * under test cannot catch its mistakes (DESIGN.md, The sandbox).
 */

export interface PemBlock {
  readonly type: string;
  readonly der: Buffer;
}

/** Every PEM block (RFC 7468) in a text; text between blocks (openssl's `subject=` lines) is ignored. */
export function pemBlocksOf(text: string): PemBlock[] {
  return x509.PemConverter.decodeWithHeaders(text).map((block) => ({ type: block.type, der: Buffer.from(block.rawData) }));
}

/** One PEM block, base64 wrapped at 64 columns, without a trailing newline. */
export function toPem(der: Buffer, type: string): string {
  return x509.PemConverter.encode(new Uint8Array(der), type);
}

export interface CertificateDates {
  /** Vault's form: lower-case hex byte pairs joined by colons. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** `AB:CD:...`, as Node prints it. */
  readonly fingerprint256: string;
}

function datesOf(der: Buffer): CertificateDates {
  const cert = new X509Certificate(der);
  return { serial: colonSerial(cert.serialNumber), notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo), fingerprint256: cert.fingerprint256 };
}

/** The CERTIFICATE blocks of a PEM text, leaf first as written; throws on one that does not parse. */
export function certificatesOf(text: string): CertificateDates[] {
  return pemBlocksOf(text)
    .filter((block) => block.type === 'CERTIFICATE')
    .map((block) => datesOf(block.der));
}

/**
 * The first CERTIFICATE block of a PEM text (a served chain's leaf), the rest left unparsed: a
 * pod reloading its Secret needs only its own certificate's facts. Throws when it does not parse.
 */
export function firstCertificateOf(text: string): CertificateDates | undefined {
  const first = pemBlocksOf(text).find((block) => block.type === 'CERTIFICATE');
  return first ? datesOf(first.der) : undefined;
}
