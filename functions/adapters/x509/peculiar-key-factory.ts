import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KeyFactory } from '../../ports/key-factory';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHMS = {
  ec: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
  rsa: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 },
} as const;

/** Key pairs and PKCS#10 CSRs with WebCrypto and @peculiar/x509. */
export class PeculiarKeyFactory implements KeyFactory {
  async csr(request: { commonName: string; organization?: string; keyType: 'ec' | 'rsa'; ca: boolean }): Promise<{ csrPem: string; privateKeyPem: string }> {
    const algorithm = ALGORITHMS[request.keyType];
    const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    const name = [`CN=${request.commonName}`, ...(request.organization ? [`O=${request.organization}`] : [])].join(', ');
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name,
      keys,
      signingAlgorithm: algorithm,
      extensions: request.ca ? [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)] : [],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const privateKeyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
    return { csrPem: csr.toString('pem'), privateKeyPem };
  }
}
