import '../sandbox/runner/polyfills';
import { spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { machine, round, writeResult } from './bench-kit';

/**
 * Issue 5's benchmark: `certflow simulate --services N` end to end (a forced rotation with a new
 * intermediate over N services, each renewed, rolled out and verified by mTLS handshake), and in
 * the same run the time to sign N leaves directly with the same crypto library. Also history
 * events per service, transitions per run, and the AWS cost per 1,000 services.
 */
const SIZES = (process.env.BENCH_SIZES ?? '5,100,1000').split(',').map(Number);
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

async function signDirectly(count: number): Promise<number> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const issuer = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    await x509.X509CertificateGenerator.create({
      serialNumber: (i + 1).toString(16).padStart(4, '0'),
      subject: `CN=svc-${i}.econ-graph.svc`,
      issuer: 'CN=bench',
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 30 * 86400_000),
      signingAlgorithm: alg,
      publicKey: keys.publicKey,
      signingKey: issuer.privateKey,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: `svc-${i}.econ-graph.svc` }])],
    });
    await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  }
  return performance.now() - started;
}

async function main(): Promise<void> {
  const root = join(__dirname, '..');
  const runs = [];
  for (const size of SIZES) {
    const started = performance.now();
    const child = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['bin/certflow.ts', 'simulate', '--services', String(size), '--json'], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=8192' },
    });
    const wallMs = performance.now() - started;
    if (child.status !== 0) throw new Error(`simulate --services ${size} exited ${child.status}: ${child.stderr.slice(-2000)}`);
    const report = JSON.parse(child.stdout) as {
      outcome: string;
      services: unknown[];
      transitions: number;
      historyEvents: number;
      rotationMs: number;
      cost: { usd: { total: number } };
    };
    const signingMs = await signDirectly(size);
    runs.push({
      services: size,
      outcome: report.outcome,
      simulateWallMs: round(wallMs),
      rotationMs: report.rotationMs,
      signingAloneMs: round(signingMs),
      ratioRotationToSigning: round(report.rotationMs / signingMs, 1),
      transitions: report.transitions,
      historyEvents: report.historyEvents,
      historyEventsPerService: round(report.historyEvents / size, 1),
      costUsd: round(report.cost.usd.total, 5),
      costPer1000ServicesUsd: round((report.cost.usd.total / size) * 1000, 4),
    });
    console.log(JSON.stringify(runs[runs.length - 1]));
  }
  const path = writeResult('simulate', { benchmark: 'simulate', machine: machine(), runs });
  console.log(`written to ${path}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
