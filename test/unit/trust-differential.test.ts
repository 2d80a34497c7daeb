import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DifferentialResult } from '../support/differential-run';

/**
 * The differential test of issue 12 (DESIGN.md I9): generated chains, each judged by certflow's
 * checker and by `openssl verify` (-partial_chain, -crl_check_all, -purpose, -verify_hostname).
 * The expected verdict is OpenSSL's, tightened only by the rules certflow applies on purpose
 * (chain-corpus.ts `stricterThanOpenssl`, read from the spec). Any disagreement fails and prints
 * the case: its spec, OpenSSL's answer and certflow's verdict.
 *
 * The corpus is built and judged in a plain Node process (test/support/differential-run.ts says
 * why); this file asserts on what it reports.
 *
 * CORPUS_SIZE and CORPUS_SEED may be set to explore further; the default seed keeps CI stable.
 */
const SIZE = Number(process.env.CORPUS_SIZE ?? 520);
const SEED = Number(process.env.CORPUS_SEED ?? 20261202);

const haveOpenssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
if (!haveOpenssl) console.warn('openssl is not on PATH: skipping the differential test against `openssl verify`');
const withOpenssl = haveOpenssl ? it : it.skip;

function differential(dir: string): Promise<DifferentialResult> {
  return new Promise((resolve, reject) => {
    // TMPDIR: tsx's cache goes with the scratch directory.
    const env = { ...process.env, CORPUS_SIZE: String(SIZE), CORPUS_SEED: String(SEED), DIFFERENTIAL_DIR: dir, TMPDIR: dir };
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'differential-run.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout) as DifferentialResult) : reject(new Error(`the differential run exited ${code}:\n${stderr}`))));
  });
}

describe('certflow agrees with openssl verify on a generated corpus of chains', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'certflow-differential-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  withOpenssl(`judges ${SIZE} generated chains as openssl does, or stricter only where certflow's policy says so`, async () => {
    const result = await differential(dir);
    const disagreements: string[] = [];
    let valid = 0;
    for (const [index, one] of result.cases.entries()) {
      const expected = one.openssl.ok && one.stricter.length === 0;
      if (one.certflow.valid) valid += 1;
      if (one.certflow.valid !== expected) {
        disagreements.push(
          [
            `case ${index}: certflow ${one.certflow.reason} (${one.certflow.detail}), openssl ${one.openssl.ok ? 'OK' : 'refused'}${one.stricter.length ? `, certflow stricter by policy: ${one.stricter.join('; ')}` : ''}`,
            `  openssl: ${one.openssl.output.split('\n').slice(-3).join(' | ')}`,
            `  spec: ${JSON.stringify(one.spec)}`,
          ].join('\n'),
        );
      }
    }
    const { building, openssl, certflow } = result.seconds;
    console.info(
      `differential: ${SIZE} chains (seed ${SEED}), ${valid} valid, ${SIZE - valid} refused, ${disagreements.length} disagreements; ` +
        `building ${building.toFixed(1)} s, openssl ${openssl.toFixed(1)} s, certflow ${certflow.toFixed(1)} s`,
    );
    expect(result.cases).toHaveLength(SIZE);
    expect(disagreements.slice(0, 10).join('\n\n')).toBe('');
    // A corpus of only refusals would prove little: both verdicts must be well represented.
    expect(valid).toBeGreaterThan(SIZE * 0.1);
    expect(SIZE - valid).toBeGreaterThan(SIZE * 0.3);
  }, 180_000);
});
