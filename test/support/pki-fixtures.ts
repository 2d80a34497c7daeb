/**
 * Builds real X.509 material for tests with @peculiar/x509: roots, intermediates and leaves with
 * chosen validity windows, SANs, key usages and EKUs, name constraints, extra (critical or
 * duplicated) extensions, and CRLs signed by a chosen issuer; `resign` patches the bytes of a
 * to-be-signed certificate (a month 13) and signs it again, for what no generator will write.
 *
 * Key generation dominates the cost (about 100 ms per RSA-2048 key, TOOLCHAIN.md), so make keys
 * once per test file with `makeKeys` and pass them in; signing a P-256 certificate costs 3-5 ms.
 */
import 'reflect-metadata';
import { KeyObject, sign, webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1x509 from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyKind = 'ec' | 'rsa';

export interface KeyPair {
  kind: KeyKind;
  keys: CryptoKeyPair;
}

export interface Issued {
  /** PEM of the certificate. */
  pem: string;
  cert: x509.X509Certificate;
  key: KeyPair;
  /** The subject, e.g. `CN=certflow Root`. */
  name: string;
  /** Serial as Vault writes it: colon-separated lower-case hex. */
  serial: string;
}

const ALGORITHMS: Record<KeyKind, { generate: RsaHashedKeyGenParams | EcKeyGenParams; sign: Algorithm | EcdsaParams }> = {
  ec: { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams },
  rsa: {
    generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm,
  },
};

export async function makeKeys(kind: KeyKind): Promise<KeyPair> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHMS[kind].generate, true, ['sign', 'verify'])) as CryptoKeyPair;
  return { kind, keys };
}

export const KeyUsage = x509.KeyUsageFlags;
export const Eku = { serverAuth: x509.ExtendedKeyUsage.serverAuth, clientAuth: x509.ExtendedKeyUsage.clientAuth, codeSigning: x509.ExtendedKeyUsage.codeSigning } as const;

let serialCounter = 0x1000;
/** Distinct serials per file; the high byte is set now and then to exercise DER's sign byte. */
export function nextSerial(): string {
  serialCounter += 1;
  return (serialCounter % 3 === 0 ? 'a5' : '3c') + serialCounter.toString(16).padStart(6, '0');
}

function vaultSerial(hex: string): string {
  return (hex.replace(/^(00)+/, '').match(/../g) ?? []).join(':').toLowerCase();
}

function issued(cert: x509.X509Certificate, key: KeyPair, name: string, serialHex: string): Issued {
  return { pem: cert.toString('pem'), cert, key, name, serial: vaultSerial(serialHex) };
}

export interface CaOptions {
  name: string;
  key: KeyPair;
  notBefore: Date;
  notAfter: Date;
  /** @default true; `null` leaves basicConstraints out (an end-entity certificate) */
  ca?: boolean | null;
  pathLength?: number;
  /** @default keyCertSign | cRLSign; `null` leaves the extension out */
  keyUsage?: number | null;
  extKeyUsage?: string[];
  nameConstraints?: NameConstraintOptions;
  /** Appended as given: unknown, critical or duplicate extensions. */
  extraExtensions?: x509.Extension[];
  serial?: string;
}

export interface NameConstraintOptions {
  permittedDns?: string[];
  excludedDns?: string[];
  /** @default true (RFC 5280 4.2.1.10: conforming CAs mark it critical) */
  critical?: boolean;
}

/** A nameConstraints extension with DNS subtrees, encoded by @peculiar/asn1-x509. */
export function nameConstraintsExtension(options: NameConstraintOptions): x509.Extension {
  const subtrees = (names: string[] | undefined) =>
    names?.length ? new asn1x509.GeneralSubtrees(names.map((dNSName) => new asn1x509.GeneralSubtree({ base: new asn1x509.GeneralName({ dNSName }) }))) : undefined;
  const permitted = subtrees(options.permittedDns);
  const excluded = subtrees(options.excludedDns);
  const value = new asn1x509.NameConstraints({ ...(permitted ? { permittedSubtrees: permitted } : {}), ...(excluded ? { excludedSubtrees: excluded } : {}) });
  return new x509.Extension(asn1x509.id_ce_nameConstraints, options.critical ?? true, AsnConvert.serialize(value));
}

/** An extension nobody knows (a private arc), critical or not. */
export function unknownExtension(critical: boolean): x509.Extension {
  return new x509.Extension('1.3.6.1.4.1.55555.1.1', critical, AsnConvert.serialize(new asn1x509.SubjectKeyIdentifier(new Uint8Array([1, 2, 3]).buffer)));
}

function caExtensions(options: CaOptions): x509.Extension[] {
  const extensions: x509.Extension[] = [];
  if (options.ca !== null) extensions.push(new x509.BasicConstraintsExtension(options.ca ?? true, options.pathLength, true));
  const usage = options.keyUsage === undefined ? KeyUsage.keyCertSign | KeyUsage.cRLSign : options.keyUsage;
  if (usage !== null) extensions.push(new x509.KeyUsagesExtension(usage, true));
  if (options.extKeyUsage) extensions.push(new x509.ExtendedKeyUsageExtension(options.extKeyUsage));
  if (options.nameConstraints) extensions.push(nameConstraintsExtension(options.nameConstraints));
  extensions.push(...(options.extraExtensions ?? []));
  return extensions;
}

export async function makeRoot(options: CaOptions): Promise<Issued> {
  const serial = options.serial ?? nextSerial();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial,
    name: options.name,
    keys: options.key.keys,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    signingAlgorithm: ALGORITHMS[options.key.kind].sign,
    extensions: [...caExtensions(options), await x509.SubjectKeyIdentifierExtension.create(options.key.keys.publicKey)],
  });
  return issued(cert, options.key, options.name, serial);
}

async function signedBy(issuer: Issued, subject: string, key: KeyPair, notBefore: Date, notAfter: Date, serial: string, extensions: x509.Extension[]) {
  return x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject,
    issuer: issuer.cert.subject,
    notBefore,
    notAfter,
    publicKey: key.keys.publicKey,
    signingKey: issuer.key.keys.privateKey,
    signingAlgorithm: ALGORITHMS[issuer.key.kind].sign,
    extensions: [
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.key.keys.publicKey),
    ],
  });
}

export async function makeIntermediate(options: CaOptions & { issuer: Issued }): Promise<Issued> {
  const serial = options.serial ?? nextSerial();
  const cert = await signedBy(options.issuer, options.name, options.key, options.notBefore, options.notAfter, serial, caExtensions(options));
  return issued(cert, options.key, options.name, serial);
}

export interface LeafOptions {
  issuer: Issued;
  key: KeyPair;
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  notBefore: Date;
  notAfter: Date;
  /** @default digitalSignature | keyEncipherment; `null` leaves the extension out */
  keyUsage?: number | null;
  /** @default [serverAuth, clientAuth] (Vault's role defaults, VAULT_API.md 4.15); `null` leaves it out */
  extKeyUsage?: string[] | null;
  /** basicConstraints CA flag. @default false; `null` leaves the extension out */
  ca?: boolean | null;
  /** Appended after the usual extensions. */
  extraExtensions?: x509.Extension[];
  serial?: string;
}

export async function makeLeaf(options: LeafOptions): Promise<Issued> {
  const serial = options.serial ?? nextSerial();
  const extensions: x509.Extension[] = options.ca === null ? [] : [new x509.BasicConstraintsExtension(options.ca ?? false, undefined, true)];
  const usage = options.keyUsage === undefined ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment : options.keyUsage;
  if (usage !== null) extensions.push(new x509.KeyUsagesExtension(usage, true));
  const eku = options.extKeyUsage === undefined ? [Eku.serverAuth, Eku.clientAuth] : options.extKeyUsage;
  if (eku !== null) extensions.push(new x509.ExtendedKeyUsageExtension(eku));
  const names = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  extensions.push(...(options.extraExtensions ?? []));
  const name = `CN=${options.commonName}`;
  const cert = await signedBy(options.issuer, name, options.key, options.notBefore, options.notAfter, serial, extensions);
  return issued(cert, options.key, name, serial);
}

export interface CrlOptions {
  issuer: Issued;
  /** Serials in Vault's colon form or plain hex. */
  revoked: string[];
  thisUpdate: Date;
  nextUpdate: Date;
  /** Sign with another key than the issuer's (a forged CRL). */
  signingKey?: KeyPair;
}

/** A CRL as PEM with the `X509 CRL` label openssl and Vault use (@peculiar writes `CRL`). */
export async function makeCrl(options: CrlOptions): Promise<{ pem: string; der: Buffer }> {
  const signer = options.signingKey ?? options.issuer.key;
  const crl = await x509.X509CrlGenerator.create({
    issuer: options.issuer.cert.subject,
    thisUpdate: options.thisUpdate,
    nextUpdate: options.nextUpdate,
    entries: options.revoked.map((serial) => ({ serialNumber: serial.replace(/:/g, ''), revocationDate: options.thisUpdate })),
    signingAlgorithm: ALGORITHMS[signer.kind].sign,
    signingKey: signer.keys.privateKey,
  });
  const der = Buffer.from(crl.rawData);
  return { pem: toPem('X509 CRL', der), der };
}

export function toPem(label: string, der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

export async function privateKeyPem(key: KeyPair): Promise<string> {
  return toPem('PRIVATE KEY', new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', key.keys.privateKey)));
}

/** Concatenated PEM, in the order given (leaf first for a served chain). */
export function pemOf(...certs: Issued[]): string {
  return certs.map((c) => c.pem).join('\n');
}

/**
 * The certificate `issued` with its to-be-signed bytes changed by `patch` and signed again by
 * `signer` (ECDSA P-256 / SHA-256 or RSA PKCS#1 / SHA-256, as the key is): how a test makes what
 * no generator will write, such as a notAfter in month 13. asn1js keeps the patched time as
 * written (checked below), so nothing re-encodes it.
 */
export function resign(issued: Issued, signer: KeyPair, patch: (tbs: Buffer) => Buffer): Issued {
  const parsed = AsnConvert.parse(issued.cert.rawData, asn1x509.Certificate);
  const tbs = patch(Buffer.from(AsnConvert.serialize(parsed.tbsCertificate)));
  const signature = sign('sha256', tbs, KeyObject.from(signer.keys.privateKey));
  const algorithm = asn1js.fromBER(AsnConvert.serialize(parsed.signatureAlgorithm)).result;
  const tbsAsn = asn1js.fromBER(tbs).result;
  // asn1js keeps a decoded time as written; make sure nothing was normalised on the way.
  if (!Buffer.from(tbsAsn.toBER()).equals(tbs)) throw new Error('asn1js re-encoded the patched to-be-signed bytes');
  const der = new asn1js.Sequence({ value: [tbsAsn, algorithm, new asn1js.BitString({ valueHex: signature })] }).toBER();
  const cert = new x509.X509Certificate(der);
  return { ...issued, pem: cert.toString('pem'), cert };
}

/** Replaces the first occurrence of an ASCII string (a UTCTime) in DER bytes; fails loudly when absent. */
export function replaceAscii(der: Buffer, from: string, to: string): Buffer {
  const at = der.indexOf(Buffer.from(from, 'latin1'));
  if (at < 0 || from.length !== to.length) throw new Error(`cannot patch ${from} -> ${to}`);
  const copy = Buffer.from(der);
  copy.write(to, at, 'latin1');
  return copy;
}
