import 'reflect-metadata';
import { createPrivateKey, createPublicKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, id_ce_nameConstraints, NameConstraints } from '@peculiar/asn1-x509';
import { VaultApiError } from '../envelope';

/**
 * Real X.509 for the PKI emulator: key pairs (ECDSA P-256/P-384/P-521, RSA 2048-8192), CSRs,
 * CA and leaf certificates with the extensions Vault's certutil writes (basicConstraints, keyUsage,
 * EKU, SKID by RFC 5280 method 1, AKID from the signer's SKID, SANs, AIA and CRL distribution
 * points), PEM/DER handling and Vault's serial number forms. Everything `openssl verify` accepts.
 * @peculiar/x509 needs reflect-metadata first and a WebCrypto provider (TOOLCHAIN.md).
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyType = 'rsa' | 'ec';

/** A key pair the mount holds. `spki` (DER) links keys to certificates. Never leaves the emulator. */
export interface KeyPairMaterial {
  readonly type: KeyType;
  readonly bits: number;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly spki: Buffer;
}

const CURVE_BY_BITS: Readonly<Record<number, string>> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };
const BITS_BY_CURVE: Readonly<Record<string, number>> = { 'P-256': 256, 'P-384': 384, 'P-521': 521, prime256v1: 256, secp384r1: 384, secp521r1: 521 };
const HASH_BY_EC_BITS: Readonly<Record<number, string>> = { 256: 'SHA-256', 384: 'SHA-384', 521: 'SHA-512' };
const RSA_SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** certutil.ValidateDefaultOrValueKeyTypeSignatureLength: 0 bits picks the default (RSA 2048, EC 256). */
export function validateKeyTypeBits(keyType: string, keyBits: number): { type: KeyType; bits: number } {
  switch (keyType) {
    case 'rsa': {
      const bits = keyBits === 0 ? 2048 : keyBits;
      if (bits < 2048) throw new VaultApiError(400, `RSA keys < 2048 bits are unsafe and not supported: got ${bits}`);
      if (![2048, 3072, 4096, 8192].includes(bits)) throw new VaultApiError(400, `unsupported bit length for RSA key: ${bits}`);
      return { type: 'rsa', bits };
    }
    case 'ec': {
      const bits = keyBits === 0 ? 256 : keyBits;
      if (!CURVE_BY_BITS[bits]) throw new VaultApiError(400, `unsupported bit length for EC key: ${bits}`);
      return { type: 'ec', bits };
    }
    default:
      throw new VaultApiError(400, `unknown key type ${keyType}`);
  }
}

export async function generateKeyPair(type: KeyType, bits: number): Promise<KeyPairMaterial> {
  const algorithm =
    type === 'ec'
      ? { name: 'ECDSA', namedCurve: CURVE_BY_BITS[bits] ?? 'P-256' }
      : { ...RSA_SIGNING, modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]) };
  const pair = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', pair.publicKey));
  return { type, bits, privateKey: pair.privateKey, publicKey: pair.publicKey, spki };
}

/** A private key in PKCS#8, SEC1 (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) PEM. */
export async function importPrivateKeyPem(pem: string): Promise<KeyPairMaterial> {
  const keyObject = createPrivateKey({ key: pem, format: 'pem' });
  const details = keyObject.asymmetricKeyDetails ?? {};
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
  let algorithm: EcKeyImportParams | RsaHashedImportParams;
  let type: KeyType;
  let bits: number;
  if (keyObject.asymmetricKeyType === 'ec') {
    bits = BITS_BY_CURVE[details.namedCurve ?? ''] ?? 0;
    if (!CURVE_BY_BITS[bits]) throw new VaultApiError(400, `unsupported elliptic curve ${details.namedCurve ?? ''}`);
    algorithm = { name: 'ECDSA', namedCurve: CURVE_BY_BITS[bits] ?? 'P-256' };
    type = 'ec';
  } else if (keyObject.asymmetricKeyType === 'rsa') {
    bits = details.modulusLength ?? 0;
    algorithm = RSA_SIGNING;
    type = 'rsa';
  } else {
    throw new VaultApiError(400, `unsupported private key type ${keyObject.asymmetricKeyType ?? 'unknown'}`);
  }
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify']);
  return { type, bits, privateKey, publicKey, spki: Buffer.from(spki) };
}

/**
 * A private key as Vault returns it: `der` (the default `private_key_format`) means PKCS#1 or SEC1
 * in PEM; `pkcs8` means `PRIVATE KEY`. Trimmed like certutil's bundle output.
 */
export async function exportPrivateKeyPem(key: KeyPairMaterial, format: 'der' | 'pkcs8' = 'der'): Promise<string> {
  // The CryptoKey's own KeyObject: no PKCS#8 copy of the key exported and parsed back per leaf.
  const keyObject = KeyObject.from(key.privateKey);
  const type = format === 'pkcs8' ? 'pkcs8' : key.type === 'ec' ? 'sec1' : 'pkcs1';
  return (keyObject.export({ type, format: 'pem' }) as string).trim();
}

/** The public key algorithm and size of a SubjectPublicKeyInfo. */
export function publicKeyDetails(spki: ArrayBuffer | Buffer): { type: string; bits: number } {
  const keyObject = createPublicKey({ key: Buffer.from(spki as ArrayBuffer), format: 'der', type: 'spki' });
  const details = keyObject.asymmetricKeyDetails ?? {};
  if (keyObject.asymmetricKeyType === 'ec') return { type: 'ec', bits: BITS_BY_CURVE[details.namedCurve ?? ''] ?? 0 };
  if (keyObject.asymmetricKeyType === 'rsa') return { type: 'rsa', bits: details.modulusLength ?? 0 };
  return { type: keyObject.asymmetricKeyType ?? 'unknown', bits: 0 };
}

/** The algorithm a key signs with: SHA-256 for RSA and P-256, matching the curve size otherwise. */
export function signingAlgorithm(key: KeyPairMaterial): Algorithm & { hash: string } {
  return key.type === 'ec' ? { name: 'ECDSA', hash: HASH_BY_EC_BITS[key.bits] ?? 'SHA-256' } : RSA_SIGNING;
}

/** Subject parts as Vault's fields name them (common_name, organization, ou, ...). */
export interface SubjectFields {
  readonly commonName?: string;
  readonly organization?: readonly string[];
  readonly ou?: readonly string[];
  readonly country?: readonly string[];
  readonly locality?: readonly string[];
  readonly province?: readonly string[];
  readonly streetAddress?: readonly string[];
  readonly postalCode?: readonly string[];
  readonly serialNumber?: string;
}

/** pkix.Name.ToRDNSequence order: C, ST, L, STREET, PostalCode, O, OU, CN, SERIALNUMBER. */
export function buildName(fields: SubjectFields): x509.Name {
  const rdns: Record<string, string[]>[] = [];
  const add = (oid: string, values: readonly string[] | undefined): void => {
    for (const value of values ?? []) if (value !== '') rdns.push({ [oid]: [value] });
  };
  add('2.5.4.6', fields.country);
  add('2.5.4.8', fields.province);
  add('2.5.4.7', fields.locality);
  add('2.5.4.9', fields.streetAddress);
  add('2.5.4.17', fields.postalCode);
  add('2.5.4.10', fields.organization);
  add('2.5.4.11', fields.ou);
  add('2.5.4.3', fields.commonName ? [fields.commonName] : []);
  add('2.5.4.5', fields.serialNumber ? [fields.serialNumber] : []);
  return new x509.Name(rdns);
}

export function commonNameOf(name: x509.Name): string {
  return name.getField('CN')[0] ?? '';
}

export interface SubjectAltNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly emailAddresses: readonly string[];
  readonly uris: readonly string[];
}

export const NO_SANS: SubjectAltNames = { dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [] };

function sanExtension(sans: SubjectAltNames): x509.SubjectAlternativeNameExtension | undefined {
  const names: x509.JsonGeneralNames = [
    ...sans.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...sans.emailAddresses.map((value) => ({ type: 'email' as const, value })),
    ...sans.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...sans.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  return names.length > 0 ? new x509.SubjectAlternativeNameExtension(names) : undefined;
}

/** The SANs of a certificate or CSR, split by kind. */
export function sansOf(container: x509.X509Certificate | x509.Pkcs10CertificateRequest): SubjectAltNames {
  const extension =
    container instanceof x509.X509Certificate
      ? container.getExtension(x509.SubjectAlternativeNameExtension)
      : (container.getExtension('2.5.29.17') as x509.SubjectAlternativeNameExtension | null);
  const items = extension?.names.items ?? [];
  const of = (type: string): string[] => items.filter((item) => item.type === type).map((item) => item.value);
  return { dnsNames: of('dns'), ipAddresses: of('ip'), emailAddresses: of('email'), uris: of('url') };
}

export async function createCsr(key: KeyPairMaterial, subject: x509.Name, sans: SubjectAltNames): Promise<string> {
  const san = sanExtension(sans);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys: { privateKey: key.privateKey, publicKey: key.publicKey },
    signingAlgorithm: signingAlgorithm(key),
    extensions: san ? [san] : [],
  });
  return csr.toString('pem');
}

/** A PEM CSR, signature checked; 400 with Vault's wording otherwise. */
export async function parseCsr(pem: string): Promise<x509.Pkcs10CertificateRequest> {
  const block = parsePemBlocks(pem)[0];
  if (!block) throw new VaultApiError(400, 'csr contains no data');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(new Uint8Array(block.der));
  } catch (err) {
    throw new VaultApiError(400, `certificate request could not be parsed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!(await csr.verify())) throw new VaultApiError(400, 'certificate request could not be parsed: the CSR signature does not verify');
  return csr;
}

export interface UrlSettings {
  readonly issuingCertificates: readonly string[];
  readonly crlDistributionPoints: readonly string[];
  readonly ocspServers: readonly string[];
}

export interface CertificateTemplate {
  readonly subject: x509.Name;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: x509.PublicKey | CryptoKey;
  /** A CA certificate; `pathLen` undefined means no path length constraint. Absent: a leaf. */
  readonly ca?: { readonly pathLen?: number };
  /** Leaves only: write basicConstraints CA:FALSE (role `basic_constraints_valid_for_non_ca`). */
  readonly basicConstraintsForLeaf?: boolean;
  readonly keyUsage: number;
  readonly extKeyUsage: readonly string[];
  readonly sans: SubjectAltNames;
  /** Hex SKID to use instead of the computed one (cross-signing, §5.3). */
  readonly skidHex?: string;
  readonly urls?: UrlSettings;
  /** CA only: permitted subtrees of a critical nameConstraints extension (sign-intermediate's permitted_dns_domains / permitted_uri_domains). */
  readonly permitted?: { readonly dnsDomains: readonly string[]; readonly uriDomains: readonly string[] };
}

export interface Signer {
  /** Undefined for a self-signed certificate. */
  readonly cert?: x509.X509Certificate;
  readonly key: KeyPairMaterial;
}

function subjectKeyIdOf(cert: x509.X509Certificate): string | undefined {
  return cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
}

/** Signs a certificate as Vault's certutil.createCertificate / signCertificate do. */
export async function issueCertificate(template: CertificateTemplate, signer: Signer): Promise<x509.X509Certificate> {
  const skid = template.skidHex
    ? new x509.SubjectKeyIdentifierExtension(template.skidHex)
    : await x509.SubjectKeyIdentifierExtension.create(template.publicKey);
  const authorityKeyId = signer.cert
    ? (subjectKeyIdOf(signer.cert) ?? (await x509.SubjectKeyIdentifierExtension.create(signer.cert.publicKey)).keyId)
    : skid.keyId;
  const extensions: x509.Extension[] = [new x509.KeyUsagesExtension(template.keyUsage, true)];
  if (template.extKeyUsage.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension([...template.extKeyUsage]));
  if (template.ca) extensions.push(new x509.BasicConstraintsExtension(true, template.ca.pathLen, true));
  else if (template.basicConstraintsForLeaf) extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
  extensions.push(skid, new x509.AuthorityKeyIdentifierExtension(authorityKeyId));
  const urls = template.urls;
  if (urls && (urls.ocspServers.length > 0 || urls.issuingCertificates.length > 0)) {
    extensions.push(new x509.AuthorityInfoAccessExtension({ ocsp: [...urls.ocspServers], caIssuers: [...urls.issuingCertificates] }));
  }
  const san = sanExtension(template.sans);
  if (san) extensions.push(san);
  if (urls && urls.crlDistributionPoints.length > 0) extensions.push(new x509.CRLDistributionPointsExtension([...urls.crlDistributionPoints]));
  const permitted = template.permitted;
  if (template.ca && permitted && permitted.dnsDomains.length + permitted.uriDomains.length > 0) {
    // RFC 5280 4.2.1.10: critical, permitted subtrees only, minimum 0 and no maximum (as Go's x509 writes Vault's).
    const subtrees = [
      ...permitted.dnsDomains.map((dNSName) => new GeneralSubtree({ base: new GeneralName({ dNSName }) })),
      ...permitted.uriDomains.map((uniformResourceIdentifier) => new GeneralSubtree({ base: new GeneralName({ uniformResourceIdentifier }) })),
    ];
    const value = AsnConvert.serialize(new NameConstraints({ permittedSubtrees: new GeneralSubtrees(subtrees) }));
    extensions.push(new x509.Extension(id_ce_nameConstraints, true, value));
  }

  return x509.X509CertificateGenerator.create({
    serialNumber: template.serialHex,
    subject: template.subject,
    // The signer's subject as encoded in its certificate, so issuer and subject match byte for byte.
    issuer: signer.cert ? signer.cert.subjectName : template.subject,
    notBefore: template.notBefore,
    notAfter: template.notAfter,
    publicKey: template.publicKey,
    signingKey: signer.key.privateKey,
    signingAlgorithm: signingAlgorithm(signer.key),
    extensions,
  });
}

export function isCaCertificate(cert: x509.X509Certificate): boolean {
  return cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;
}

/** The path length constraint of a CA certificate; undefined when unlimited. */
export function pathLenOf(cert: x509.X509Certificate): number | undefined {
  return cert.getExtension(x509.BasicConstraintsExtension)?.pathLength;
}

export function hasKeyUsage(cert: x509.X509Certificate, flag: x509.KeyUsageFlags): boolean {
  const extension = cert.getExtension(x509.KeyUsagesExtension);
  return extension === null ? true : (extension.usages & flag) !== 0;
}

/** Does `child` carry a signature by `parent`'s key (and name `parent` as its issuer)? */
export async function isSignedBy(child: x509.X509Certificate, parent: x509.X509Certificate): Promise<boolean> {
  if (!Buffer.from(child.issuerName.toArrayBuffer()).equals(Buffer.from(parent.subjectName.toArrayBuffer()))) return false;
  try {
    return await child.verify({ publicKey: parent.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

export function isSelfSigned(cert: x509.X509Certificate): boolean {
  return Buffer.from(cert.issuerName.toArrayBuffer()).equals(Buffer.from(cert.subjectName.toArrayBuffer()));
}

// ---- PEM and DER ----

export interface PemBlock {
  readonly type: string;
  readonly der: Buffer;
}

/** Every PEM block in a text, with any text between blocks ignored (openssl's chain output included). */
export function parsePemBlocks(text: string): PemBlock[] {
  // RFC 7468 with RFC 1421 headers (`Proc-Type:`), as PemConverter reads it.
  return x509.PemConverter.decodeWithHeaders(text).map((block) => ({ type: block.type, der: Buffer.from(block.rawData) }));
}

/** PEM without a trailing newline, as Vault's JSON fields carry it. */
export function pemEncode(type: string, der: Buffer | ArrayBuffer): string {
  return x509.PemConverter.encode(der instanceof ArrayBuffer ? der : new Uint8Array(der), type);
}

export function certificatePem(cert: x509.X509Certificate): string {
  return pemEncode('CERTIFICATE', cert.rawData);
}

export function parseCertificateDer(der: Buffer): x509.X509Certificate {
  return new x509.X509Certificate(new Uint8Array(der));
}

// ---- serial numbers ----

/** 159 random bits like certutil.GenerateSerialNumber: 20 bytes, positive, no leading zero byte. */
export function randomSerialHex(): string {
  const bytes = randomBytes(20);
  bytes[0] = ((bytes[0] ?? 1) & 0x7f) || 0x01;
  return bytes.toString('hex');
}

/** Vault's `serial_number` form: lower-case hex byte pairs joined by colons, no leading zero bytes. */
export function colonSerial(hex: string): string {
  let clean = hex.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (clean.length % 2 === 1) clean = `0${clean}`;
  while (clean.length > 2 && clean.startsWith('00')) clean = clean.slice(2);
  return (clean.match(/.{2}/g) ?? ['00']).join(':');
}

/** A serial as a request may spell it (colon or hyphen, any case) to the stored colon form. */
export function requestSerialToColon(serial: string): string {
  return serial.trim().toLowerCase().replace(/-/g, ':');
}

export function serialHexOf(cert: x509.X509Certificate): string {
  return cert.serialNumber;
}

export { x509 };
