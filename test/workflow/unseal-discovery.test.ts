import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { EnvNames } from '../../functions/contracts/env';
import { runTimeParameterName } from '../../functions/contracts/run-time-values';
import { DEFAULT_CONFIG_PATH } from '../../bin/app';
import { parseConfig } from '../../lib/config';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import { createLocalCloud } from '../../sandbox/compose/local-cloud';
import { startSandbox } from '../../sandbox/compose/sandbox';
import { initVaultWithEnv } from '../../sandbox/compose/vault-bootstrap';
import { setupSandboxPki } from '../../sandbox/compose/pki-setup';
import { vaultPod } from '../../sandbox/compose/vault-pods';
import { vaultClientFor } from '../../sandbox/vault/vault-client-for';
import { discoveryTemplate } from '../support/discovery-template';
import { assemblyDir, loadTemplate } from '../support/template';

/**
 * The Unseal workflow of a deployment whose Vault nodes come from the cluster (config
 * vault.discovery): the sandbox's nodes are the pods of the StatefulSet in its Kubernetes
 * emulator, and the functions find them by listing pods as deployed (no vault.nodes anywhere).
 * The template is the run's, derived for discovery (test/support/discovery-template.ts says why).
 */
jest.setTimeout(60_000);

const DISCOVERY = { cluster: 'primary', namespace: 'vault', labelSelector: 'app.kubernetes.io/name=vault', statefulSet: 'vault', portName: 'https', scheme: 'https' } as const;

function discoveryConfig() {
  const raw = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as { vault: Record<string, unknown> };
  delete raw.vault['nodes'];
  raw.vault['discovery'] = { ...DISCOVERY };
  return parseConfig(raw);
}

interface NodeResult {
  nodeId: string;
  outcome: string;
  sealed?: boolean;
}

describe('the Unseal workflow with Vault nodes discovered from the StatefulSet', () => {
  let cloud: LocalCloud;
  /** Where the impostor pod says it listens: counts every connection, so "never contacted" can fail. */
  let impostor: Server;
  let impostorConnections = 0;
  let rootToken: string;

  beforeAll(async () => {
    const config = discoveryConfig();
    const sandbox = await startSandbox({ config });
    try {
      cloud = await createLocalCloud(sandbox, { template: discoveryTemplate(loadTemplate(), config), assemblyDir: assemblyDir() }, { retryIntervalMs: 5 });
    } catch (error) {
      await sandbox.close();
      throw error;
    }
    // vault-init is the operator's act, against the node they name: not what is under test here.
    const env = await cloud.runner.resolvedFunctionEnv('UnsealNode');
    const { [EnvNames.VaultDiscovery]: _discovery, ...initEnv } = env;
    ({ rootTokenForSandbox: rootToken } = await initVaultWithEnv({ ...initEnv, [EnvNames.VaultNodes]: JSON.stringify([{ id: 'vault-0', url: sandbox.vault.nodes[0]!.url }]) }, { shares: config.vault.shares, threshold: config.vault.threshold }));
    impostor = createServer((socket) => {
      impostorConnections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const port = (impostor.address() as { port: number }).port;
    // Matches the selector and names the port, but another StatefulSet controls it.
    sandbox.kubernetes.store.create('pods', vaultPod(config.vault.discovery!, 'vault-impostor-0', `https://127.0.0.1:${port}`, 'vault-impostor') as never);
  });
  afterAll(async () => {
    await cloud?.sandbox.close();
    await new Promise((resolve) => impostor?.close(resolve));
  });

  const runUnseal = async () => {
    const execution = await cloud.runner.run(cloud.runner.find('UnsealWorkflow'), { trigger: 'cli' });
    expect(execution.status).toBe('SUCCEEDED');
    return (execution.output as { nodes: NodeResult[] }).nodes.map((node) => [node.nodeId, node.outcome, node.sealed]);
  };
  const sealed = async (url: string) => ((await vaultClientFor({ url, caCertificate: cloud.sandbox.vaultCaCertificate }).status()) as { sealed: boolean }).sealed;

  it('runs a template with no Vault nodes parameter: the sandbox fills none and its config names none', () => {
    expect(cloud.sandbox.ssm.parameterValue(runTimeParameterName(cloud.sandbox.config.name, EnvNames.VaultNodes))).toBeUndefined();
    expect(cloud.sandbox.config.vault.nodes).toBeUndefined();
    expect(cloud.runner.functionEnv('UnsealNode')[EnvNames.VaultDiscovery]).toBe(JSON.stringify(DISCOVERY));
  });

  it('unseals every sealed node found as a pod of the StatefulSet, and never contacts the pod another owner controls', async () => {
    expect(await runUnseal()).toEqual([
      ['vault-0', 'Unsealed', false],
      ['vault-1', 'Unsealed', false],
      ['vault-2', 'Unsealed', false],
    ]);
    for (const node of cloud.sandbox.vault.nodes) expect(await sealed(node.url)).toBe(false);
    expect(impostorConnections).toBe(0);
    const refusals = cloud.logLines().filter((line) => line.includes('pods matching the Vault selector refused as nodes'));
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((line) => line.includes('vault-impostor-0') && line.includes('NotOwnedByStatefulSet'))).toBe(true);
  });

  it('finds a pod rescheduled to another port at the next run and unseals it there', async () => {
    const before = cloud.sandbox.vault.nodes.find((node) => node.id === 'vault-1')!.url;
    const after = await cloud.sandbox.vaultPods!.reschedule('vault-1');
    expect(after).not.toBe(before);
    expect(await sealed(after)).toBe(true);

    expect(await runUnseal()).toEqual([
      ['vault-0', 'AlreadyUnsealed', false],
      ['vault-1', 'Unsealed', false],
      ['vault-2', 'AlreadyUnsealed', false],
    ]);
    expect(await sealed(after)).toBe(false);
    expect(impostorConnections).toBe(0);
  });

  it("lets the Rotation's Preflight find a sealed node through its pod and unseal it, the impostor still never contacted", async () => {
    // Preflight goes on to check the PKI and the trust bundle: give it both (no fleet is needed).
    await setupSandboxPki(cloud.sandbox, rootToken);
    const namespace = cloud.sandbox.config.kubernetes.namespace;
    const store = cloud.sandbox.kubernetes.store;
    if (!store.get('namespaces', { name: namespace })) store.create('namespaces', { metadata: { name: namespace } } as never);
    store.create('configmaps', { metadata: { name: cloud.sandbox.config.kubernetes.trustBundleConfigMap, namespace }, data: {} } as never);
    cloud.sandbox.vault.node('vault-2').seal();

    const context = (await cloud.runner.invoke('Preflight', { runId: '6d0c7a52-4a1e-4a77-9d0e-1f5c2b7a9e10', startedAt: new Date().toISOString(), request: { trigger: 'sandbox' } })) as { nodesUnsealedByPreflight: string[]; previousDefault: string };

    expect(context.nodesUnsealedByPreflight).toEqual(['vault-2']);
    expect(context.previousDefault).toMatch(/\S/);
    expect(await sealed(cloud.sandbox.vault.node('vault-2').url)).toBe(false);
    expect(impostorConnections).toBe(0);
  });
});
