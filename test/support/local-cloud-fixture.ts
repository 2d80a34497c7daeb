import { loadConfig, type CertflowConfig } from '../../lib/config';
import { startSandbox, type SandboxOptions } from '../../sandbox/compose/sandbox';
import { createLocalCloud, type LocalCloud } from '../../sandbox/compose/local-cloud';
import { loadAssembly } from './template';
import { setupSandboxPki, type SandboxPki } from '../../sandbox/compose/pki-setup';

/** The seed config, for tests that start a sandbox. */
export function seedConfig(): CertflowConfig {
  return loadConfig('config/econgraph.json');
}

/** A sandbox provisioned from the run's synthesized template, with a runner over it. */
export async function startLocalCloud(options: Partial<SandboxOptions> = {}): Promise<LocalCloud> {
  const sandbox = await startSandbox({ config: seedConfig(), ...options });
  try {
    return await createLocalCloud(sandbox, loadAssembly(), { retryIntervalMs: 5 });
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

export { leaks, secretNeedles, storedSharePlaintexts } from '../../sandbox/compose/secret-scan';

/** A sandbox whose Vault is initialized, unsealed and carries the seed's PKI (root, intermediate, role, AWS auth). */
export async function startPkiCloud(options: Partial<SandboxOptions> = {}): Promise<{ cloud: LocalCloud; pki: SandboxPki }> {
  const cloud = await startLocalCloud(options);
  try {
    const { rootToken } = await cloud.sandbox.vault.bootstrap();
    const pki = await setupSandboxPki(cloud.sandbox, rootToken);
    return { cloud, pki };
  } catch (error) {
    await cloud.sandbox.close();
    throw error;
  }
}

/** Somewhere for handler log lines to go in tests that do not read them. */
export function quietOutput(): NodeJS.WritableStream {
  const { Writable } = require('node:stream') as typeof import('node:stream');
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

/**
 * The whole seed topology, ready for a rotation: Vault with its PKI, the namespace with five
 * services (cert-manager and tls-secret kinds), their first certificates, endpoints serving them.
 */
export async function startFleetCloud(): Promise<{ cloud: LocalCloud; pki: SandboxPki; seed: Awaited<ReturnType<LocalCloud['sandbox']['seedKubernetes']>> }> {
  const { cloud, pki } = await startPkiCloud();
  try {
    const seed = await cloud.sandbox.seedKubernetes({ rootToken: pki.rootToken, rootCertificate: pki.rootCertificate });
    return { cloud, pki, seed };
  } catch (error) {
    await cloud.sandbox.close();
    throw error;
  }
}
