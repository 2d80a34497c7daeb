import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkTrust } from '../../functions/domain/trust-checker';
import { buildCase, chainSpec, CORPUS_NOW, stricterThanOpenssl, type BuiltCase, type KeyPool } from '../support/chain-corpus';
import { makeKeys } from '../support/pki-fixtures';

/**
 * The differential test of issue 12 (DESIGN.md I9): generated chains, each judged by certflow's
 * checker and by `openssl verify` (-partial_chain, -crl_check_all, -purpose, -verify_hostname).
 * The expected verdict is OpenSSL's, tightened only by the rules certflow applies on purpose
 * (chain-corpus.ts `stricterThanOpenssl`, read from the spec). Any disagreement fails and prints
 * the case: its spec, OpenSSL's answer and certflow's verdict.
 *
 * CORPUS_SIZE and CORPUS_SEED may be set to explore further; the default seed keeps CI stable.
 */
const SIZE = Number(process.env.CORPUS_SIZE ?? 520);
const SEED = Number(process.env.CORPUS_SEED ?? 20261202);
/** openssl processes at once: the suite shares 2 cores. */
const PARALLEL = 4;

const haveOpenssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
if (!haveOpenssl) console.warn('openssl is not on PATH: skipping the differential test against `openssl verify`');
const withOpenssl = haveOpenssl ? it : it.skip;

interface OpensslAnswer {
  ok: boolean;
  output: string;
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

describe('certflow agrees with openssl verify on a generated corpus of chains', () => {
  let dir: string;
  let pool: KeyPool;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certflow-differential-'));
    pool = { ec: await Promise.all([0, 1, 2, 3].map(() => makeKeys('ec'))), rsa: await Promise.all([0, 1].map(() => makeKeys('rsa'))) };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  withOpenssl(`judges ${SIZE} generated chains as openssl does, or stricter only where certflow's policy says so`, async () => {
    const started = Date.now();
    const specs = fc.sample(chainSpec, { numRuns: SIZE, seed: SEED });
    const cases = await inBatches(specs, 1, (spec, index) => buildCase(spec, pool, index));
    const built = Date.now();
    const answers = await inBatches(cases, PARALLEL, (one, index) => opensslVerify(dir, index, one));
    const judged = Date.now();
    const disagreements: string[] = [];
    let valid = 0;
    for (const [index, built] of cases.entries()) {
      const openssl = answers[index] as OpensslAnswer;
      const verdict = await checkTrust({ servedChain: built.servedChain, trustBundle: built.trustBundle, hostName: built.hostName, now: CORPUS_NOW, purpose: built.spec.purpose, ...(built.crls ? { crls: built.crls } : {}) });
      const stricter = stricterThanOpenssl(built.spec);
      const expected = openssl.ok && stricter.length === 0;
      if (verdict.valid) valid += 1;
      if (verdict.valid !== expected) {
        disagreements.push(
          [`case ${index}: certflow ${verdict.reason} (${verdict.detail}), openssl ${openssl.ok ? 'OK' : 'refused'}${stricter.length ? `, certflow stricter by policy: ${stricter.join('; ')}` : ''}`, `  openssl: ${openssl.output.split('\n').slice(-3).join(' | ')}`, `  spec: ${JSON.stringify(built.spec)}`].join('\n'),
        );
      }
    }
    const s = (from: number, to: number) => ((to - from) / 1000).toFixed(1);
    console.info(
      `differential: ${SIZE} chains (seed ${SEED}), ${valid} valid, ${SIZE - valid} refused, ${disagreements.length} disagreements; ` +
        `${s(started, Date.now())} s (building ${s(started, built)} s, openssl ${s(built, judged)} s, certflow ${s(judged, Date.now())} s)`,
    );
    expect(disagreements.slice(0, 10).join('\n\n')).toBe('');
    // A corpus of only refusals would prove little: both verdicts must be well represented.
    expect(valid).toBeGreaterThan(SIZE * 0.1);
    expect(SIZE - valid).toBeGreaterThan(SIZE * 0.3);
  }, 180_000);
});
