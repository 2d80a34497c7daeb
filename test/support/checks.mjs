// What `npm test` does before jest, at once instead of one after another: the type check, the
// layer rules, and the synthesis that jest's global setup would otherwise wait for (it then finds
// the assembly in the cache). On 2 cores this takes the longest of the three, not their sum.
// Plain JavaScript, and every child gets a scratch TMPDIR that is removed at the end: nothing of
// the checks (tsx's cache included) is left in the temp directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scratch = mkdtempSync(join(tmpdir(), 'certflow-checks-'));
const env = { ...process.env, TMPDIR: scratch };

function run(name, command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => resolve({ name, ok: code === 0, output }));
  });
}

const started = Date.now();
const results = await Promise.all([
  run('typecheck', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']),
  run('layer rules', 'npx', ['depcruise', '--config', '.dependency-cruiser.cjs', 'bin', 'lib', 'functions', 'sandbox']),
  run('synthesis', 'npx', ['tsx', 'test/support/warm-assembly.ts']),
]);
rmSync(scratch, { recursive: true, force: true });
for (const result of results) process.stdout.write(`${result.ok ? 'ok' : 'FAILED'}: ${result.name}\n${result.output.trim() ? `${result.output.trim()}\n` : ''}`);
process.stdout.write(`checks: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
if (results.some((result) => !result.ok)) process.exit(1);
