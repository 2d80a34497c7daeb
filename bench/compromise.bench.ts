import '../sandbox/runner/polyfills';
import { sandboxVaultClient } from '../sandbox/compose/sandbox-vault-client';
import { loadConfig } from '../lib/config';
import { startSandbox, SANDBOX_ACCOUNT, SANDBOX_REGION } from '../sandbox/compose/sandbox';
import { createLocalCloud } from '../sandbox/compose/local-cloud';
import { synthesizedAssembly, type SynthesizedAssembly } from '../sandbox/compose/synthesize';
import { readyFleet } from '../sandbox/compose/fleet';
import { withSyntheticServices } from '../sandbox/compose/synthetic-fleet';
import { machine, round, writeResult } from './bench-kit';

/**
 * Issue 6's benchmark: an intermediate compromise with N services in the sandbox, timed from the
 * `Compromise Reported` event to the `Compromise Contained` event: a new intermediate, every
 * service reissued and verified by handshake, the old issuer revoked on both mounts, CRLs rebuilt.
 */
const SIZES = (process.env.BENCH_SIZES ?? '5,1000').split(',').map(Number);

async function runSize(size: number, assembly: SynthesizedAssembly) {
  const config = withSyntheticServices(loadConfig('config/econgraph.json'), size);
  const sandbox = await startSandbox({ config });
  try {
    const cloud = await createLocalCloud(sandbox, assembly);
    const fleet = await readyFleet(cloud);
    const vault = sandboxVaultClient(sandbox, { token: fleet.pki.rootToken });
    const compromised = ((await vault.read(`${config.vault.intermediateMount}/config/issuers`)) as { data: { default: string } }).data.default;
    const reportedAt = new Date();
    const started = performance.now();
    // Dual control: the bench approves at once (the operator's certflow approve), so the time is the response's own.
    const stopApproving = cloud.runner.taskTokens.onWaiting((task) => cloud.runner.taskTokens.succeed(task.token, { approvedBy: 'bench' }));
    const execution = await cloud.runner.run(cloud.runner.find('CompromiseWorkflow'), {
      version: '0',
      id: `bench-${size}`,
      'detail-type': 'Compromise Reported',
      source: 'certflow.security',
      account: SANDBOX_ACCOUNT,
      time: reportedAt.toISOString(),
      region: SANDBOX_REGION,
      resources: [],
      detail: { scope: { kind: 'intermediate', issuerId: compromised }, reason: 'cACompromise', reportedBy: 'bench' },
    });
    stopApproving();
    const containedMs = performance.now() - started;
    const contained = sandbox.eventBridge.events().find((event) => event.detailType === 'Compromise Contained');
    const revoked = ((await vault.read(`${config.vault.intermediateMount}/issuer/${compromised}`)) as { data: { revoked: boolean } }).data.revoked;
    return {
      services: size,
      status: execution.status,
      ...(execution.error ? { error: execution.error, cause: execution.cause?.slice(0, 500) } : {}),
      failedStates: execution.history
        .filter((event) => event.type === 'StateFailed')
        .slice(0, 3)
        .map((event) => ({ state: event.state?.name, error: (event as { Error?: string }).Error, cause: String((event as { Cause?: string }).Cause ?? '').slice(0, 400) })),
      contained: Boolean(contained),
      oldIssuerRevoked: revoked,
      eventToContainedMs: round(containedMs),
      perServiceMs: round(containedMs / size, 1),
      transitions: execution.history.filter((event) => event.type === 'StateEntered').length,
    };
  } finally {
    await sandbox.close();
  }
}

async function main(): Promise<void> {
  const assembly = await synthesizedAssembly();
  const runs = [];
  for (const size of SIZES) {
    const run = await runSize(size, assembly);
    console.log(JSON.stringify(run));
    runs.push(run);
  }
  const path = writeResult('compromise', { benchmark: 'compromise', machine: machine(), runs });
  console.log(`written to ${path}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
