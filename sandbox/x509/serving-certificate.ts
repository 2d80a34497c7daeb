import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

/**
 * A throwaway self-signed serving certificate for an emulator's HTTPS mode, shared by every
 * emulator that serves TLS (one generator, not one per emulator). The Kubernetes emulator uses
 * it because kubectl (client-go's clientcmd) only sends a kubeconfig's credentials over TLS, so a
 * kubectl run against the emulator needs HTTPS for its bearer token to arrive; the kubeconfig then
 * trusts exactly this certificate (`certificate-authority-data`) instead of skipping verification.
 * The certificate is its own CA, so `certPem` is also the CA bundle a client pins.
 * @peculiar/x509 needs reflect-metadata first and a WebCrypto provider (TOOLCHAIN.md).
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface ServingCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function toPem(der: ArrayBuffer, label: string): string {
  return `${x509.PemConverter.encode(der, label)}\n`;
}

/**
 * ECDSA P-256, valid for a year, for `host` plus 127.0.0.1 and localhost; its own CA.
 * @param commonName the subject CN, naming which emulator serves it (@default the Kubernetes API server's)
 */
export async function createServingCertificate(host: string, commonName = 'certflow-sandbox-kube-apiserver'): Promise<ServingCertificate> {
  // Real time, not the emulator's clock: the client checks validity against its own.
  const now = new Date();
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const names = new Map<string, x509.JsonGeneralName>();
  for (const name of [host, '127.0.0.1', 'localhost']) {
    names.set(name, isIP(name) ? { type: 'ip', value: name } : { type: 'dns', value: name });
  }
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // A positive 64-bit serial: the leading 01 keeps the top bit clear.
    serialNumber: `01${randomBytes(8).toString('hex')}`,
    name: `CN=${commonName}`,
    notBefore: new Date(now.getTime() - 60 * 60 * 1000),
    notAfter: new Date(now.getTime() + 365 * 24 * 60 * 60 * 1000),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...names.values()]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: certificate.toString('pem'), keyPem: toPem(pkcs8, 'PRIVATE KEY') };
}
