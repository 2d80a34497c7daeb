import { loadConfig } from '../../../lib/config';
import { startSandbox } from '../../../sandbox/compose/sandbox';
import { createLocalCloud } from '../../../sandbox/compose/local-cloud';
import { synthesizeTemplate } from '../../../sandbox/compose/synthesize';
import { removeSandboxState, writeSandboxState, DEFAULT_STATE_PATH } from '../sandbox-state';
import { readyVault } from '../../../sandbox/compose/ready-vault';
import { ExitCodes } from '../cli-error';
import type { Output } from '../output';

/**
 * `certflow sandbox`: starts every emulator, provisions the synthesized template's resources,
 * prints the endpoints and the environment a client needs, and runs until Ctrl-C, when it closes
 * every server and removes its state file.
 */
export async function runSandbox(options: { configPath: string; uninitialized: boolean }, out: Output): Promise<number> {
  const config = loadConfig(options.configPath);
  out.progress('synthesizing the CDK app');
  const { template, templatePath } = synthesizeTemplate(options.configPath);
  out.progress('starting the emulators');
  const sandbox = await startSandbox({ config });
  const cloud = await createLocalCloud(sandbox, template);
  if (!options.uninitialized) {
    out.progress('vault-init, unseal workflow, PKI set-up');
    await readyVault(cloud);
  }
  const functionEnvOverlay = Object.fromEntries(Object.entries(sandbox.functionEnvOverlay()).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  const awsEnv = Object.fromEntries(Object.entries(sandbox.awsEnv).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  writeSandboxState({
    pid: process.pid,
    startedAt: new Date().toISOString(),
    configPath: options.configPath,
    templatePath,
    awsEnv,
    functionEnvOverlay,
    vaultNodes: sandbox.vault.nodes.map((node) => ({ id: node.id, url: node.url, seal: node.seal })),
    refs: cloud.provisioned.refs,
    attributes: cloud.provisioned.attributes,
  });

  out.result({ state: DEFAULT_STATE_PATH, vaultNodes: sandbox.vault.nodes, kms: sandbox.kms.endpoint, dynamodb: sandbox.dynamo.endpoint, eventbridge: sandbox.eventBridge.endpoint, env: awsEnv });
  out.line('certflow sandbox is running (Ctrl-C stops it)');
  out.line();
  out.table([
    ['component', 'endpoint'],
    ...sandbox.vault.nodes.map((node) => [`Vault ${node.id}`, `${node.url} (${node.seal} seal, ${options.uninitialized ? 'uninitialized' : 'unsealed, PKI ready'})`]),
    ['KMS', sandbox.kms.endpoint],
    ['DynamoDB (dynalite)', sandbox.dynamo.endpoint],
    ['EventBridge', sandbox.eventBridge.endpoint],
  ]);
  out.line();
  out.line('Environment for SDK clients and the CLI (fake credentials, loopback only):');
  for (const [key, value] of Object.entries(awsEnv)) out.line(`  export ${key}=${value}`);
  out.line();
  out.line(
    options.uninitialized
      ? 'Next: `certflow vault-init --local`, then `certflow unseal --local`.'
      : 'Vault is initialized (shares KMS-wrapped in DynamoDB), unsealed, and carries the root, intermediate and role. Try `certflow plan --local`.',
  );

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  out.line('stopping the sandbox');
  removeSandboxState();
  await sandbox.close();
  return ExitCodes.Ok;
}
