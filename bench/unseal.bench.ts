import '../sandbox/runner/polyfills';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../lib/config';
import { startSandbox } from '../sandbox/compose/sandbox';
import { createLocalCloud } from '../sandbox/compose/local-cloud';
import { synthesizedAssembly } from '../sandbox/compose/synthesize';
import { initSandboxVault } from '../sandbox/compose/vault-bootstrap';
import { lambdaFunctions } from '../sandbox/runner/template-resolver';
import { machine, round, stats, writeResult } from './bench-kit';

/**
 * Issue 2's benchmark: the time to unseal the 3-node sandbox cluster (the whole Unseal state
 * machine, and each UnsealNode handler inside it), and each Lambda bundle's minified size and
 * cold module-load time in a fresh Node process. Targets: bundle <= 1 MB, load <= 150 ms.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const LOADS = Number(process.env.BENCH_LOADS ?? 10);

async function main(): Promise<void> {
  const config = loadConfig('config/econgraph.json');
  const synthStarted = performance.now();
  const assembly = await synthesizedAssembly();
  const { template, templatePath } = assembly;
  const synthMs = performance.now() - synthStarted;

  // Bundles: the asset directories next to the template hold each function's index.js.
  const assemblyDir = join(templatePath, '..');
  const bundles = lambdaFunctions(template)
    .filter((fn) => fn.functionId)
    .map((fn) => {
      const code = (template.Resources[fn.logicalId]?.Properties as { Code?: { S3Key?: string } }).Code?.S3Key ?? '';
      const assetDir = readdirSync(assemblyDir).find((entry) => entry.startsWith('asset.') && code.startsWith(entry.slice('asset.'.length)));
      if (!assetDir) throw new Error(`no asset directory for ${fn.functionId}`);
      const file = join(assemblyDir, assetDir, 'index.js');
      const loads: number[] = [];
      for (let i = 0; i < LOADS; i += 1) {
        const out = execFileSync(process.execPath, ['-e', `const t=process.hrtime.bigint();require(${JSON.stringify(file)});console.log(Number(process.hrtime.bigint()-t)/1e6)`], {
          encoding: 'utf8',
          env: { ...process.env, AWS_REGION: 'us-east-1' },
        });
        loads.push(Number(out.trim()));
      }
      return { function: fn.functionId!, bytes: statSync(file).size, kib: round(statSync(file).size / 1024), loadMs: stats(loads) };
    });

  const sandbox = await startSandbox({ config });
  const unsealRuns: number[] = [];
  const handlerRuns: number[] = [];
  try {
    const cloud = await createLocalCloud(sandbox, assembly);
    await initSandboxVault(cloud);
    const unsealMachine = cloud.runner.find('UnsealWorkflow');
    for (let run = 0; run < RUNS + 2; run += 1) {
      for (const node of sandbox.vault.nodes) sandbox.vault.node(node.id).seal();
      const started = performance.now();
      const execution = await cloud.runner.run(unsealMachine, { trigger: 'sandbox' });
      const elapsed = performance.now() - started;
      if (execution.status !== 'SUCCEEDED') throw new Error(`unseal run ${run} ended ${execution.status} ${execution.error ?? ''}`);
      if (run < 2) continue; // warm-up: the first runs pay module loading and client set-up
      unsealRuns.push(elapsed);
      const entered = new Map<number, number>();
      for (const event of execution.history) {
        if (event.state?.name !== 'UnsealNode') continue;
        const index = Number(event.index ?? 0);
        if (event.type === 'StateEntered') entered.set(index, event.timestamp);
        if (event.type === 'StateExited' && entered.has(index)) handlerRuns.push(event.timestamp - entered.get(index)!);
      }
    }
  } finally {
    await sandbox.close();
  }

  const result = {
    benchmark: 'unseal',
    machine: machine(),
    synthMs: round(synthMs),
    unsealStateMachineMs: stats(unsealRuns),
    unsealNodeHandlerMs: stats(handlerRuns),
    bundles,
    targets: { bundleBytesMax: 1_000_000, loadMsMax: 150 },
    withinTargets: bundles.every((bundle) => bundle.bytes <= 1_000_000 && bundle.loadMs.median <= 150),
  };
  const path = writeResult('unseal', result);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${path}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
