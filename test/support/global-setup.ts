import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizedAssembly } from '../../sandbox/compose/synthesize';
import { RUN_SCRATCH_ENV, RUN_SCRATCH_PREFIX, runScratchDir } from './run-scratch';
import { ASSEMBLY_DIR_ENV, TEMPLATE_PATH_ENV } from './template';
import { ensureJestPrebundles } from './jest-prebundles';

/**
 * Runs once per jest run: takes the synthesized cloud assembly (cdk-nag included) from the cache
 * shared with the CLI and the benchmarks, synthesizing only when the sources, the config or the
 * lockfile changed. Every workflow, infra and CLI test reads this one template and runs its bundles.
 * Offline: no AWS credentials, no telemetry, no version check. A cdk-nag finding nobody
 * acknowledged fails the synthesis, and with it the run.
 */
export default async function globalSetup(): Promise<void> {
  process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
  process.env.CDK_DISABLE_VERSION_CHECK = 'true';
  removeAbandonedScratch();
  const scratch = runScratchDir();
  mkdirSync(scratch, { recursive: true });
  process.env[RUN_SCRATCH_ENV] = scratch;
  process.env.TMPDIR = scratch;
  // The workers name bundle frames as test/support/polyfills.ts says: a synthesis here seeds the
  // code caches for that naming.
  process.env.CERTFLOW_BUNDLE_STACKS = 'generated';
  // jest.config.js maps @kubernetes/client-node to this bundle (jest-prebundles.ts says why);
  // `npm test` has built it during the synthesis already.
  ensureJestPrebundles();
  const assembly = await synthesizedAssembly();
  process.env[TEMPLATE_PATH_ENV] = assembly.templatePath;
  process.env[ASSEMBLY_DIR_ENV] = assembly.assemblyDir;
}

/** Scratch of an earlier run that was killed before its teardown. */
function removeAbandonedScratch(): void {
  for (const name of safeList(tmpdir())) {
    if (!name.startsWith(RUN_SCRATCH_PREFIX)) continue;
    const pid = Number(name.slice(RUN_SCRATCH_PREFIX.length));
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
