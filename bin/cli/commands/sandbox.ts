import { loadConfig } from '../../../lib/config';
import { startSandbox, type Sandbox } from '../../../sandbox/compose/sandbox';
import type { CertflowConfig } from '../../../lib/config';
import { createLocalCloud } from '../../../sandbox/compose/local-cloud';
import { cliAssembly } from '../assembly';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { claimStateDir, removeSandboxState, stateDir, statePath, vaultCaCertPath, writeSandboxState } from '../sandbox-state';
import { readyVault } from '../../../sandbox/compose/ready-vault';
import { vaultLoginRoleArnsOf } from '../../../sandbox/compose/pki-setup';
import { VaultIdentityGroups } from '../../../functions/contracts/functions';
import { ExitCodes } from '../cli-error';
import type { Output } from '../output';
import { routeRules } from '../../../sandbox/eventbridge/rules-routing';
import { SANDBOX_ACCOUNT, SANDBOX_REGION } from '../../../sandbox/compose/sandbox';

/**
 * `certflow sandbox`: starts every emulator, provisions the synthesized template's resources,
 * prints the endpoints and the environment a client needs, and runs until Ctrl-C, when it closes
 * every server and removes its state file.
 */
export async function runSandbox(options: { configPath: string; uninitialized: boolean }, out: Output): Promise<number> {
  const config = loadConfig(options.configPath);
  // One sandbox per state directory, claimed before anything starts (exit 5 naming the other's pid).
  const { tookOver } = claimStateDir();
  if (tookOver) {
    out.line(
      tookOver.pid === undefined
        ? `note: ${statePath()} was not a sandbox state file: replaced`
        : `note: the sandbox recorded in ${statePath()} (pid ${tookOver.pid}${tookOver.startedAt ? `, started ${tookOver.startedAt}` : ''}) is no longer running: taking its state directory over`,
    );
  }
  try {
    return await startAndServe(options, config, out);
  } finally {
    // The CA is public, but a stale one beside a new sandbox's state would mislead VAULT_CACERT.
    rmSync(vaultCaCertPath(), { force: true });
    removeSandboxState();
  }
}

async function startAndServe(options: { configPath: string; uninitialized: boolean }, config: CertflowConfig, out: Output): Promise<number> {
  const assembly = await cliAssembly(options.configPath, out);
  const { template, templatePath } = assembly;
  out.progress('starting the emulators');
  const sandbox = await startSandbox({ config });
  const cloud = await createLocalCloud(sandbox, assembly);
  if (!options.uninitialized) {
    out.progress('vault-init, unseal workflow, PKI set-up');
    const vault = await readyVault(cloud);
    // The services' namespace, Certificates and first certificates: what `certflow rotate --local` rotates.
    out.progress('seeding the cluster with the services and their first certificates');
    await sandbox.seedKubernetes({ rootToken: vault.pki.rootToken, rootCertificate: vault.pki.rootCertificate });
  } else {
    seedAfterPkiSetup(sandbox, config, out);
  }
  // StartExecution/DescribeExecution for `certflow rotate|status --local`, and the template's
  // EventBridge rules that target a state machine routed to it (the compromise rule, for one).
  // The local cloud serves the Step Functions API over its runner (PreemptRotation stops rotations
  // through it): `rotate`, `status` and `runs --local` talk to that one.
  const { stepFunctions } = cloud;
  const stopRouting = routeRules(sandbox.eventBridge, template, (logicalId, input) => stepFunctions.startExecution(stepFunctions.arnOf(logicalId), input), {
    refs: cloud.provisioned.refs,
    assumeRole: sandbox.iam.assumeRole.bind(sandbox.iam),
    onError: (error, rule) => out.line(`rule ${rule.ruleLogicalId} could not start its target: ${error instanceof Error ? error.message : String(error)}`),
  });
  const stopEventLog = sandbox.eventBridge.onEvent((event) => out.line(`event ${event.id}: ${event.detailType} (${event.source}) on ${event.bus}`));
  const eventBusName = Object.entries(template.Resources ?? {})
    .filter(([, resource]) => (resource as { Type?: string }).Type === 'AWS::Events::EventBus')
    .map(([logicalId]) => cloud.provisioned.refs[logicalId])
    .find((name): name is string => typeof name === 'string');
  const functionAwsEnv = Object.fromEntries(Object.entries(sandbox.functionAwsEnv()).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  // With Step Functions, CloudFormation and Lambda: `--stack <name>` (no --local) reaches this sandbox as it would AWS.
  const awsEnv = Object.fromEntries(Object.entries(cloud.awsEnv).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  // kubectl and other Kubernetes clients reach the emulator with this (its CA and bearer token).
  const kubeconfigPath = join(stateDir(), 'kubeconfig');
  mkdirSync(stateDir(), { recursive: true });
  // A context per declared cluster (all served by the one emulator), so `kubectl --context <cluster>` works.
  writeFileSync(kubeconfigPath, sandbox.kubernetes.kubeconfig({ namespace: config.kubernetes.namespace, contexts: config.kubernetes.clusters.map((cluster) => cluster.name) }), { mode: 0o600 });
  // The Vault CLI (and curl --cacert) trust the sandbox's Vault through this file, as VAULT_CACERT.
  const caPath = vaultCaCertPath();
  writeFileSync(caPath, sandbox.vaultCaCertificate, { mode: 0o644 });
  writeSandboxState({
    kubeconfigPath,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    configPath: options.configPath,
    templatePath,
    awsEnv,
    functionAwsEnv,
    vaultNodes: sandbox.vault.nodes.map((node) => ({ id: node.id, url: node.url, seal: node.seal })),
    refs: cloud.provisioned.refs,
    attributes: cloud.provisioned.attributes,
    stepFunctionsEndpoint: stepFunctions.endpoint,
    stateMachineArns: stepFunctions.stateMachineArns(),
    vaultLoginRoleArns: vaultLoginRoleArnsOf(sandbox),
    vaultCaCertificate: sandbox.vaultCaCertificate,
    vaultCaCertPath: caPath,
    ...(eventBusName ? { eventBusName } : {}),
  });

  out.result({ state: statePath(), kubeconfig: kubeconfigPath, vaultCaCert: caPath, vaultNodes: sandbox.vault.nodes, kms: sandbox.kms.endpoint, dynamodb: sandbox.dynamo.endpoint, eventbridge: sandbox.eventBridge.endpoint, stepFunctions: stepFunctions.endpoint, cloudFormation: cloud.cloudFormation.endpoint, lambda: cloud.lambda.endpoint, stack: cloud.stackName, env: awsEnv });
  out.line('certflow sandbox is running (Ctrl-C stops it)');
  out.line();
  out.table([
    ['component', 'endpoint'],
    ...sandbox.vault.nodes.map((node) => [`Vault ${node.id}`, `${node.url} (${node.seal} seal, ${options.uninitialized ? 'uninitialized' : 'unsealed, PKI ready'})`]),
    ['KMS', sandbox.kms.endpoint],
    ['DynamoDB (dynalite)', sandbox.dynamo.endpoint],
    ['EventBridge', sandbox.eventBridge.endpoint],
    ['Step Functions', stepFunctions.endpoint],
    ['CloudFormation', `${cloud.cloudFormation.endpoint} (stack ${cloud.stackName})`],
    ['Lambda (Invoke)', cloud.lambda.endpoint],
  ]);
  out.line();
  out.line('Environment for SDK clients and the CLI (fake credentials, loopback only):');
  for (const [key, value] of Object.entries(awsEnv)) out.line(`  export ${key}=${value}`);
  out.line(`  export KUBECONFIG=${kubeconfigPath}     # kubectl get certificate -n ${config.kubernetes.namespace}`);
  // The other commands find this sandbox through the same state directory.
  if (process.env.CERTFLOW_STATE_DIR) out.line(`  export CERTFLOW_STATE_DIR=${stateDir()}`);
  out.line(`  export VAULT_ADDR=${sandbox.vault.nodes[0]!.url}`);
  // The sandbox's Vault serves HTTPS under its own CA, made at this start: VAULT_CACERT pins it
  // exactly as a production Vault's CA is pinned (there is no plain-http Vault here either).
  out.line(`  export VAULT_CACERT=${caPath}     # the CA of this sandbox's Vault (made at start, removed at stop)`);
  out.line();
  out.line(
    options.uninitialized
      ? 'Next: `certflow vault-init --local`, `certflow unseal --local`, then `certflow pki-setup --local` (the cluster is seeded once the PKI exists).'
      : 'Vault is initialized (shares KMS-wrapped in DynamoDB), unsealed, and carries the root, intermediate and role. Try `certflow plan --local`.',
  );

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  out.line('stopping the sandbox');
  rmSync(kubeconfigPath, { force: true });
  rmSync(caPath, { force: true });
  stopEventLog();
  stopRouting();
  await sandbox.close();
  return ExitCodes.Ok;
}

/**
 * An `--uninitialized` sandbox has no workloads until there is a PKI to issue their first
 * certificates: once `certflow pki-setup --local` (another process) writes its last step, the
 * last group's auth role, the sandbox seeds the cluster as the ready mode does, so the walk-through ends where
 * `certflow sandbox` starts: `plan` and `rotate --local` have a fleet to act on.
 */
function seedAfterPkiSetup(sandbox: Sandbox, config: CertflowConfig, out: Output): void {
  const auth = config.vault.auth;
  if (auth.method !== 'aws-iam') return;
  const lastGroup = VaultIdentityGroups[VaultIdentityGroups.length - 1]!;
  const authRole = `auth/${auth.mount}/role/${auth.roles[lastGroup]}`;
  const stop = sandbox.onVaultWrite((path) => {
    const rootToken = sandbox.vault.rootToken();
    if (path !== authRole || !rootToken) return;
    stop();
    out.line('the PKI is set up: seeding the cluster with the services and their first certificates');
    sandbox.seedKubernetes({ rootToken }).then(
      (seed) => out.line(`seeded ${seed.services.length} services in ${seed.namespaces.join(', ')}: \`certflow rotate --local\` has a fleet to rotate`),
      (error: unknown) => out.line(`seeding the cluster failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  });
}
