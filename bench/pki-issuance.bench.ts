import '../sandbox/runner/polyfills';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { sandboxVaultClient } from '../sandbox/compose/sandbox-vault-client';
import { loadConfig } from '../lib/config';
import { startSandbox } from '../sandbox/compose/sandbox';
import { setupSandboxPki } from '../sandbox/compose/pki-setup';
import { machine, round, writeResult } from './bench-kit';

/**
 * Issue 3's benchmark: leaves per second issued through node-vault against the Vault emulator
 * (P-256 and RSA 2048), and, in the same run, the same leaves signed directly with the same
 * crypto library (@peculiar/x509 on WebCrypto, as the emulator uses): the ratio is what HTTP,
 * node-vault, routing and the PKI bookkeeping cost on top of the cryptography.
 */
const COUNTS = { ec: Number(process.env.BENCH_EC ?? 300), rsa: Number(process.env.BENCH_RSA ?? 20) };

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

async function direct(keyType: 'ec' | 'rsa', count: number, issuer: { cert: x509.X509Certificate; key: CryptoKey }): Promise<number> {
  const algorithm = keyType === 'ec' ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: (BigInt(Date.now()) * 1000n + BigInt(i)).toString(16),
      subject: `CN=backend-${i}.econ-graph.svc`,
      issuer: issuer.cert.subject,
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 30 * 86400_000),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      publicKey: keys.publicKey,
      signingKey: issuer.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: `backend-${i}.econ-graph.svc` }]),
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    if (!cert.toString('pem') || pkcs8.byteLength === 0) throw new Error('empty output');
  }
  return performance.now() - started;
}

async function main(): Promise<void> {
  const config = loadConfig('config/econgraph.json');
  const sandbox = await startSandbox({ config });
  const results: Record<string, unknown> = {};
  try {
    const { rootToken } = await sandbox.vault.bootstrap();
    await setupSandboxPki(sandbox, rootToken);
    const vault = sandboxVaultClient(sandbox, { token: rootToken });
    const issuerAlg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const issuerKeys = (await webcrypto.subtle.generateKey(issuerAlg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const issuerCert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=bench issuer', keys: issuerKeys, signingAlgorithm: issuerAlg, notBefore: new Date(), notAfter: new Date(Date.now() + 86400_000) });

    for (const keyType of ['ec', 'rsa'] as const) {
      const count = COUNTS[keyType];
      // warm-up
      await vault.write('pki_int/issue/econ-graph-services', { common_name: 'warm.econ-graph.svc', key_type: keyType, key_bits: keyType === 'ec' ? 256 : 2048 });
      const started = performance.now();
      for (let i = 0; i < count; i += 1) {
        await vault.write('pki_int/issue/econ-graph-services', { common_name: `backend-${i}.econ-graph.svc`, key_type: keyType, key_bits: keyType === 'ec' ? 256 : 2048, ttl: '720h' });
      }
      const viaVaultMs = performance.now() - started;
      const directMs = await direct(keyType, count, { cert: issuerCert, key: issuerKeys.privateKey });
      results[keyType === 'ec' ? 'ecdsaP256' : 'rsa2048'] = {
        leaves: count,
        viaNodeVault: { totalMs: round(viaVaultMs), leavesPerSecond: round((count / viaVaultMs) * 1000), msPerLeaf: round(viaVaultMs / count, 2) },
        directSigning: { totalMs: round(directMs), leavesPerSecond: round((count / directMs) * 1000), msPerLeaf: round(directMs / count, 2) },
        ratio: round(viaVaultMs / directMs, 2),
      };
    }
  } finally {
    await sandbox.close();
  }
  const result = { benchmark: 'pki-issuance', machine: machine(), ...results };
  const path = writeResult('pki-issuance', result);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${path}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
