import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * A fresh private key and its PKCS#10 request for one issuance, as cert-manager's key manager and
 * requestmanager make them (rotationPolicy: Always): ECDSA P-256 unless spec.privateKey asks for
 * RSA (2048 unless a size is given). The key leaves this module only as PKCS#8 PEM for the Secret.
 * @peculiar/x509 needs reflect-metadata first and a WebCrypto provider (TOOLCHAIN.md).
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyAlgorithm = 'ECDSA' | 'RSA';

export interface KeySpec {
  readonly algorithm: KeyAlgorithm;
  readonly size: number;
}

export class UnsupportedPrivateKeyError extends Error {
  override readonly name = 'UnsupportedPrivateKeyError';
}

const CURVES: Readonly<Record<number, { curve: string; hash: string }>> = {
  256: { curve: 'P-256', hash: 'SHA-256' },
  384: { curve: 'P-384', hash: 'SHA-384' },
};

/** spec.privateKey as cert-manager defaults it: RSA 2048 when only the algorithm is given, ECDSA 256. */
export function keySpecOf(privateKey: unknown): KeySpec {
  const spec = (typeof privateKey === 'object' && privateKey !== null ? privateKey : {}) as { algorithm?: unknown; size?: unknown };
  const algorithm = spec.algorithm === undefined || spec.algorithm === '' ? 'ECDSA' : spec.algorithm;
  const size = typeof spec.size === 'number' && spec.size > 0 ? spec.size : undefined;
  if (algorithm === 'RSA') {
    const bits = size ?? 2048;
    if (![2048, 3072, 4096].includes(bits)) throw new UnsupportedPrivateKeyError(`unsupported RSA key size ${bits}; use 2048, 3072 or 4096`);
    return { algorithm, size: bits };
  }
  if (algorithm === 'ECDSA') {
    const bits = size ?? 256;
    if (!CURVES[bits]) throw new UnsupportedPrivateKeyError(`unsupported ECDSA key size ${bits}; use 256 or 384`);
    return { algorithm, size: bits };
  }
  throw new UnsupportedPrivateKeyError(`unsupported private key algorithm ${String(algorithm)}; the sandbox issues ECDSA and RSA keys`);
}

export interface KeyAndRequest {
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`): secret material, never logged. */
  readonly privateKeyPem: string;
  readonly csrPem: string;
}

export async function createKeyAndRequest(options: { key: KeySpec; commonName: string; dnsNames: readonly string[] }): Promise<KeyAndRequest> {
  const { key } = options;
  const generate =
    key.algorithm === 'RSA'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: key.size, publicExponent: new Uint8Array([1, 0, 1]) }
      : { name: 'ECDSA', namedCurve: CURVES[key.size]!.curve };
  const signingAlgorithm = key.algorithm === 'RSA' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', hash: CURVES[key.size]!.hash };
  const keys = (await webcrypto.subtle.generateKey(generate, true, ['sign', 'verify'])) as CryptoKeyPair;
  const extensions = options.dnsNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(options.dnsNames.map((value) => ({ type: 'dns' as const, value })))] : [];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [options.commonName] }],
    keys,
    signingAlgorithm,
    extensions,
  });
  return {
    // Node's own PKCS#8 PEM of the key (the same text as encoding WebCrypto's export), without the export's round trip.
    privateKeyPem: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string,
    csrPem: csr.toString('pem'),
  };
}
