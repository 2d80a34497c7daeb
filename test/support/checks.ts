import { spawn } from 'node:child_process';
import { synthesizedAssembly } from '../../sandbox/compose/synthesize';

/**
 * What `npm test` does before jest, at once instead of one after another: the type check, the
 * layer rules, and the synthesis that jest's global setup would otherwise wait for (it then finds
 * the assembly in the cache). On 2 cores this takes the longest of the three, not their sum.
 * Each check's output is printed as a block when it ends; any failure fails the test run.
 */
function run(name: string, command: string, args: string[]): Promise<{ name: string; ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => resolve({ name, ok: code === 0, output }));
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const synthesis = synthesizedAssembly().then(
    (assembly) => ({ name: 'synthesis', ok: true, output: `cloud assembly ${assembly.cached ? 'from the cache' : 'synthesized'}: ${assembly.assemblyDir}\n` }),
    (error: unknown) => ({ name: 'synthesis', ok: false, output: `${error instanceof Error ? error.message : String(error)}\n` }),
  );
  const results = await Promise.all([
    run('typecheck', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']),
    run('layer rules', 'npx', ['depcruise', '--config', '.dependency-cruiser.cjs', 'bin', 'lib', 'functions', 'sandbox']),
    synthesis,
  ]);
  for (const result of results) process.stdout.write(`${result.ok ? 'ok' : 'FAILED'}: ${result.name}\n${result.output.trim() ? `${result.output.trim()}\n` : ''}`);
  process.stdout.write(`checks: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (results.some((result) => !result.ok)) process.exit(1);
}

void main();
