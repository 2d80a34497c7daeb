// `npm test`: the type check, the layer rules, the synthesis, and jest, on 2 cores in as little
// time as they can share. Jest needs only the cloud assembly (its global setup would otherwise
// synthesize it), so it starts the moment synthesis ends, while the type check and the layer
// rules still run: they fill the cores jest leaves idle (its tests wait on timers, sockets and
// child processes) instead of running before it. The suite fails if any of the four fails.
// Arguments go to jest (`npm test -- test/unit`). Plain JavaScript, and every child but jest
// gets a scratch TMPDIR that is removed at the end: nothing of the checks (tsx's cache included)
// is left in the temp directory; jest's own tests make and remove theirs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scratch = mkdtempSync(join(tmpdir(), 'certflow-checks-'));
const checkEnv = { ...process.env, TMPDIR: scratch };
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);

/** Runs a check with its output kept, to print after jest's. */
function check(name, command, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...checkEnv, ...env } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => resolve({ name, ok: code === 0, output, at: seconds() }));
  });
}

function jest(args) {
  return new Promise((resolve) => {
    const child = spawn('npx', ['jest', ...args], { stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('exit', (code) => resolve({ name: 'jest', ok: code === 0, output: '', at: seconds() }));
  });
}

// TypeScript 7, the native compiler: the same checks as 6.0 in under a third of the CPU (alone,
// 2026-12-03: 4.0 s and 7.6 s of CPU, against 17.2 s and 25.8 s). TypeScript 6 stays installed
// for dependency-cruiser, which reads imports through TypeScript's JavaScript API; 7.0 has none yet.
const typecheck = check('typecheck', process.execPath, ['node_modules/typescript7/bin/tsc', '--noEmit', '-p', 'tsconfig.json']);
const layerRules = check('layer rules', 'npx', ['depcruise', '--config', '.dependency-cruiser.cjs', 'bin', 'lib', 'functions', 'sandbox']);
// The synthesis seeds the bundles' code caches for the stack naming jest's workers use
// (CERTFLOW_BUNDLE_STACKS, test/support/polyfills.ts; sandbox/runner/bundle-loader.ts says why).
const synthesis = await check('synthesis', 'npx', ['tsx', 'test/support/warm-assembly.ts'], { CERTFLOW_BUNDLE_STACKS: 'generated' });
const tests = synthesis.ok ? await jest(process.argv.slice(2)) : { name: 'jest', ok: false, output: 'not run: the synthesis failed\n', at: seconds() };
const results = [synthesis, await typecheck, await layerRules, tests];
rmSync(scratch, { recursive: true, force: true });
for (const result of results) {
  const output = result.output.trim();
  process.stdout.write(`${result.ok ? 'ok' : 'FAILED'}: ${result.name} (done at ${result.at} s)\n${output ? `${output}\n` : ''}`);
}
process.stdout.write(`npm test: ${seconds()} s\n`);
process.exit(results.every((result) => result.ok) ? 0 : 1);
