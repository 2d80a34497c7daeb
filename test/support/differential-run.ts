/**
 * The differential test's work (test/unit/trust-differential.test.ts): build the generated corpus,
 * ask `openssl verify` about each chain, and ask certflow's checker. Run as a plain Node process
 * (`node --import tsx`), not inside jest: jest runs a test file in a vm context of its own, where
 * asn1js and pkijs (Object.prototype.toString on every buffer they touch) run about 4 times slower
 * than in Node's main context; the 520-chain corpus took 26 s there. The test asserts on what this
 * prints: one JSON document on stdout.
 *
 * Input (environment): CORPUS_SIZE, CORPUS_SEED, and DIFFERENTIAL_DIR, a scratch directory for
 * the PEM files openssl reads (the test makes and removes it).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkTrust } from '../../functions/domain/trust-checker';
import { buildCase, chainSpec, CORPUS_NOW, stricterThanOpenssl, type BuiltCase, type ChainSpec, type KeyPool } from './chain-corpus';
import { makeKeys } from './pki-fixtures';

/** openssl processes at once. */
const PARALLEL = 4;

export interface OpensslAnswer {
  ok: boolean;
  output: string;
}

export interface DifferentialCase {
  spec: ChainSpec;
  openssl: OpensslAnswer;
  certflow: { valid: boolean; reason: string; detail: string };
  stricter: string[];
}

export interface DifferentialResult {
  size: number;
  seed: number;
  cases: DifferentialCase[];
  seconds: { building: number; openssl: number; certflow: number };
}

function opensslVerify(dir: string, index: number, built: BuiltCase): Promise<OpensslAnswer> {
  const file = (name: string, text: string) => {
    const path = join(dir, `${index}-${name}.pem`);
    writeFileSync(path, text);
    return path;
  };
  const args = ['verify', '-attime', String(Math.floor(CORPUS_NOW.getTime() / 1000)), '-partial_chain', '-purpose', built.spec.purpose === 'server' ? 'sslserver' : 'sslclient'];
  args.push('-verify_hostname', built.hostName, '-CAfile', file('bundle', built.trustBundle));
  if (built.servedIntermediates.length) args.push('-untrusted', file('untrusted', built.servedIntermediates.join('\n')));
  if (built.crls) {
    // See chain-corpus.ts: below an intermediate anchor only the leaf is checked, as certflow does.
    args.push(built.spec.anchor === 'root' ? '-crl_check_all' : '-crl_check');
    built.crls.forEach((crl, n) => args.push('-CRLfile', file(`crl${n}`, crl)));
  }
  args.push(file('leaf', built.leafPem));
  return new Promise((resolve) => {
    const child = spawn('openssl', args);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // `openssl verify` prints "<file>: OK" and exits 0 only when the whole chain verified.
    child.on('close', (code) => resolve({ ok: code === 0 && /: OK\s*$/.test(output), output: output.trim() }));
  });
}

async function inBatches<T, R>(items: T[], width: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await run(items[index] as T, index);
      }
    }),
  );
  return results;
}

export async function runDifferential(size: number, seed: number, dir: string): Promise<DifferentialResult> {
  const pool: KeyPool = { ec: await Promise.all([0, 1, 2, 3].map(() => makeKeys('ec'))), rsa: await Promise.all([0, 1].map(() => makeKeys('rsa'))) };
  const started = Date.now();
  const specs = fc.sample(chainSpec, { numRuns: size, seed });
  const built = await inBatches(specs, 1, (spec, index) => buildCase(spec, pool, index));
  const builtAt = Date.now();
  const answers = await inBatches(built, PARALLEL, (one, index) => opensslVerify(dir, index, one));
  const judgedAt = Date.now();
  const cases: DifferentialCase[] = [];
  for (const [index, one] of built.entries()) {
    const verdict = await checkTrust({ servedChain: one.servedChain, trustBundle: one.trustBundle, hostName: one.hostName, now: CORPUS_NOW, purpose: one.spec.purpose, ...(one.crls ? { crls: one.crls } : {}) });
    cases.push({ spec: one.spec, openssl: answers[index] as OpensslAnswer, certflow: { valid: verdict.valid, reason: String(verdict.reason), detail: String(verdict.detail) }, stricter: stricterThanOpenssl(one.spec) });
  }
  const s = (from: number, to: number) => (to - from) / 1000;
  return { size, seed, cases, seconds: { building: s(started, builtAt), openssl: s(builtAt, judgedAt), certflow: s(judgedAt, Date.now()) } };
}

if (require.main === module) {
  const size = Number(process.env.CORPUS_SIZE);
  const seed = Number(process.env.CORPUS_SEED);
  const dir = process.env.DIFFERENTIAL_DIR;
  if (!Number.isInteger(size) || !Number.isInteger(seed) || !dir) throw new Error('differential-run: CORPUS_SIZE, CORPUS_SEED and DIFFERENTIAL_DIR are required');
  void runDifferential(size, seed, dir).then((result) => process.stdout.write(JSON.stringify(result)));
}
