import { loadConfig, type CertflowConfig } from '../../lib/config';
import { startSandbox, type SandboxOptions } from '../../sandbox/compose/sandbox';
import { createLocalCloud, type LocalCloud } from '../../sandbox/compose/local-cloud';
import { loadTemplate } from './template';

/** The seed config, for tests that start a sandbox. */
export function seedConfig(): CertflowConfig {
  return loadConfig('config/econgraph.json');
}

/** A sandbox provisioned from the run's synthesized template, with a runner over it. */
export async function startLocalCloud(options: Partial<SandboxOptions> = {}): Promise<LocalCloud> {
  const sandbox = await startSandbox({ config: seedConfig(), ...options });
  try {
    return await createLocalCloud(sandbox, loadTemplate(), { retryIntervalMs: 5 });
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

export { leaks, secretNeedles, storedSharePlaintexts } from '../../sandbox/compose/secret-scan';
