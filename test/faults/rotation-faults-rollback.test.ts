import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { injectFault, parseFault, type ArmedFault } from '../../sandbox/compose/fault-injection';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { ReadyFleet } from '../../sandbox/compose/fleet';
import { SANDBOX_CREDENTIALS, SANDBOX_REGION } from '../../sandbox/compose/sandbox';
import { matchesPattern, type EventPattern } from '../../sandbox/eventbridge/rules-pattern';
import type { LocalExecution } from '../../sandbox/runner/local-runner';
import { RotationLock } from '../../functions/contracts/rotation-payloads';
import { startFaultFleet } from '../support/fault-matrix';
import { snapshot, trustBreaks, type FleetSnapshot } from '../support/invariants';
import { compromiseEnvelope } from '../support/local-cloud-fixture';
import { sandboxVaultClient } from '../../sandbox/compose/sandbox-vault-client';

/**
 * The fault matrix, rollback half (issue 14 items 4 and 5): faults that meet the rollback itself
 * (armed with `from=<state>` when the rollback's first task starts), a compromise report arriving
 * during a rollback, an aborted compromise response, and re-triggered runs. One fleet for the
 * file; each rotation fails fast (the canary's rollout is held, and released when the rollback
 * starts unless the case needs it held). Every case ends Succeeded, RolledBack (verified) or
 * AlreadyRunning, every armed fault must have fired, and the oracle is not certflow's: I1 by
 * Node's TLS (tls-oracle.ts), I5 by the emulators' own stores and Vault over HTTP.
 */
jest.setTimeout(120_000);

type Outcome = 'Succeeded' | 'RolledBack' | 'AlreadyRunning' | 'Stopped' | 'RollbackFailed' | 'Other';

function outcomeOf(execution: Pick<LocalExecution, 'status' | 'output' | 'error'>): Outcome {
  if (execution.status === 'SUCCEEDED') return (execution.output as { outcome?: string } | undefined)?.outcome === 'AlreadyRunning' ? 'AlreadyRunning' : 'Succeeded';
  if (execution.error === 'RotationRolledBack') return 'RolledBack';
  if (execution.error === 'RotationAborted') return 'Stopped';
  if (execution.error === 'RotationRollbackFailed') return 'RollbackFailed';
  return 'Other';
}

describe('the Rotation workflow when the rollback itself meets a fault, a compromise or a retry', () => {
  let cloud: LocalCloud;
  let fleet: ReadyFleet;
  let sfn: SFNClient;
  beforeAll(async () => {
    ({ cloud, fleet } = await startFaultFleet());
    sfn = new SFNClient({ region: SANDBOX_REGION, credentials: SANDBOX_CREDENTIALS, endpoint: cloud.stepFunctions.endpoint });
    // An intermediate report waits for dual control (certflow approve): the operator approves at
    // once here, since these cases are about the lock and the rollback, not the approval.
    cloud.runner.taskTokens.onWaiting((task) => {
      void sfn.send(new SendTaskSuccessCommand({ taskToken: task.token, output: JSON.stringify({ approvedBy: 'fault-matrix' }) }));
    });
  });
  afterAll(async () => {
    sfn?.destroy();
    await cloud?.sandbox.close();
  });

  const mount = () => cloud.sandbox.config.vault.intermediateMount;
  const vault = () => sandboxVaultClient(cloud.sandbox, { token: cloud.sandbox.vault.rootToken() ?? '' });
  const ledgerTable = () => cloud.runner.functionEnv('ReleaseStaleLock').CERTFLOW_LEDGER_TABLE!;

  /** The issuers of the intermediate mount that can still issue, read from Vault over HTTP. */
  async function issuingIssuers(): Promise<string[]> {
    const { data } = (await vault().list(`${mount()}/issuers`)) as { data: { keys: string[] } };
    const issuing: string[] = [];
    for (const id of data.keys) {
      const issuer = ((await vault().read(`${mount()}/issuer/${id}`)) as { data: { usage: string; revoked?: boolean } }).data;
      if (!issuer.revoked && issuer.usage.split(',').includes('issuing-certificates')) issuing.push(id);
    }
    return issuing.sort();
  }

  async function lockItem(): Promise<Record<string, unknown> | undefined> {
    const answer = await cloud.sandbox.dynamoDbClient.send(new GetItemCommand({ TableName: ledgerTable(), Key: { pk: { S: RotationLock.pk }, sk: { S: RotationLock.sk } }, ConsistentRead: true }));
    return answer.Item;
  }

  /** What must hold after every case: I1, no lock left, and exactly one issuer issuing, the default. */
  async function expectConverged(after: FleetSnapshot): Promise<void> {
    expect(await trustBreaks(cloud, fleet.seed)).toEqual([]);
    expect(await lockItem()).toBeUndefined();
    expect(await issuingIssuers()).toEqual([after.defaultIssuer]);
  }

  /** The rollback verified what it restored (the run's Rotation Rolled Back event): the canary, the one service the runs renew. */
  function expectVerifiedRollback(runId: string, verdict = 'Restored'): void {
    const event = cloud.sandbox.eventBridge.events().find((candidate) => candidate.detailType === 'Rotation Rolled Back' && candidate.detail.runId === runId);
    const services = (event?.detail.services ?? []) as Array<{ service: string; verdict?: string }>;
    expect(services.map((service) => [service.service, service.verdict])).toEqual([['frontend', verdict]]);
  }

  /** I5: the default issuer, every Secret and every trust bundle as before the run. */
  function expectRestored(before: FleetSnapshot, after: FleetSnapshot): void {
    expect(after.defaultIssuer).toBe(before.defaultIssuer);
    expect(after.secrets).toEqual(before.secrets);
    expect(after.bundles).toEqual(before.bundles);
  }

  /**
   * Arms the faults and runs a forced rotation through the Step Functions API (so a compromise
   * response could preempt it), then heals. The canary fails fast unless `canary` is `free`: its
   * endpoint drops every handshake, so VerifyCanary fails and the run rolls back, and the endpoint
   * recovers when the rollback's first task starts (so the rollback can be verified).
   */
  async function rotateIntoRollback(
    faults: string[],
    options: { canary?: 'failing' | 'free'; duringRollback?: (state: string) => void; healAfter?: () => Promise<unknown> | undefined } = {},
  ) {
    const canary = options.canary === 'free' ? undefined : await injectFault(cloud, parseFault('endpoint:handshake:service=frontend'));
    const armed: ArmedFault[] = [];
    for (const fault of faults) armed.push(await injectFault(cloud, parseFault(fault)));
    const stopListening = cloud.runner.onTaskStart((state) => {
      if (state === 'RestoreIssuer' || state === 'RestoreBatch') canary?.heal();
      options.duringRollback?.(state);
    });
    const before = await snapshot(cloud, fleet.seed);
    let rotation: Awaited<ReturnType<typeof runThroughApi>>;
    try {
      // A new intermediate (so the rollback restores the issuer and the bundles too), renewing the
      // canary only: the other services' rollback is the same work, and costs time, not coverage.
      rotation = await runThroughApi('RotationWorkflow', { trigger: 'sandbox', forceIntermediate: true, services: ['frontend'] });
    } finally {
      stopListening();
      canary?.heal();
      // A run started during the rollback must meet the faults too: on a loaded machine the
      // rollback can end (and heal them) before that run reaches the faulty call.
      await options.healAfter?.()?.catch(() => undefined);
      for (const fault of armed) fault.heal();
    }
    const after = await snapshot(cloud, fleet.seed);
    const runId = rotation.executionArn.split(':').at(-1)!;
    return { rotation, runId, before, after, fired: armed.map((fault) => fault.firings().length), canaryFired: canary?.firings().length ?? 0 };
  }
  let lastRollback: Awaited<ReturnType<typeof rotateIntoRollback>> | undefined;

  /** Starts an execution through the sandbox's Step Functions API and waits for its end. */
  async function runThroughApi(machine: string, input: unknown) {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: cloud.stepFunctions.arnOf(cloud.runner.find(machine)), input: JSON.stringify(input) }));
    await cloud.stepFunctions.settled();
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const history = (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];
    const output = described.output ? (JSON.parse(described.output) as unknown) : undefined;
    return { executionArn: executionArn!, status: described.status as LocalExecution['status'], error: described.error, cause: described.cause, output, history };
  }

  it('a Secret write fault that starts with the rollback (RestoreBatch) is outlasted by its retries: RolledBack, verified, I1 and I5', async () => {
    const run = await rotateIntoRollback(['kubernetes:secret-write:from=RestoreBatch,times=2']);

    expect({ outcome: outcomeOf(run.rotation), fired: run.fired }).toEqual({ outcome: 'RolledBack', fired: [2] });
    expectVerifiedRollback(run.runId);
    expectRestored(run.before, run.after);
    await expectConverged(run.after);
  });

  it('Vault sealed when the rollback starts (RestoreIssuer), until the unseal schedule would have unsealed it: RolledBack, verified, I1 and I5', async () => {
    const run = await rotateIntoRollback(['vault:sealed:from=RestoreIssuer,times=2']);

    expect({ outcome: outcomeOf(run.rotation), fired: run.fired }).toEqual({ outcome: 'RolledBack', fired: [2] });
    expectVerifiedRollback(run.runId);
    expectRestored(run.before, run.after);
    await expectConverged(run.after);
  });

  it('a Vault node sealed mid-rollback with KMS down: the rollback needs neither and ends RolledBack; the Unseal run fails alarmed and the node stays sealed', async () => {
    const unsealMachine = cloud.runner.find('UnsealWorkflow');
    let unseal: Promise<LocalExecution> | undefined;
    const run = await rotateIntoRollback(['kms:decrypt:from=RestoreIssuer'], {
      // The Unseal schedule's next run comes while the rollback runs.
      duringRollback: (state) => {
        if (state === 'RestoreIssuer') unseal ??= cloud.runner.run(unsealMachine, { trigger: 'schedule' });
      },
      healAfter: () => unseal,
    });
    const unsealRun = await unseal!;

    expect({ outcome: outcomeOf(run.rotation), fired: run.fired[0]! > 0 }).toEqual({ outcome: 'RolledBack', fired: true });
    expectVerifiedRollback(run.runId);
    expect({ status: unsealRun.status, error: unsealRun.error }).toEqual({ status: 'FAILED', error: 'VaultUnsealFailed' });
    expectRestored(run.before, run.after);
    // KMS is back: the next Unseal run unseals the node, and the fleet is whole again.
    expect((await cloud.runner.run(unsealMachine, { trigger: 'schedule' })).status).toBe('SUCCEEDED');
    const sealed = await Promise.all(cloud.sandbox.vault.nodes.map(async (node) => ((await sandboxVaultClient(cloud.sandbox, { nodeId: node.id }).status()) as { sealed: boolean }).sealed));
    expect(sealed).toEqual(cloud.sandbox.vault.nodes.map(() => false));
    await expectConverged(run.after);
  });

  it("the sandbox's cert-manager stalled: the canary never renews, the run rolls back verified, and cert-manager resumed does not overwrite the restored Secret", async () => {
    const run = await rotateIntoRollback(['cert-manager:stall'], { canary: 'free' });
    // cert-manager resumed: whatever it would (wrongly) issue, it has issued once it has settled.
    await cloud.sandbox.certManager.settled();
    const later = await snapshot(cloud, fleet.seed);

    expect({ outcome: outcomeOf(run.rotation), fired: run.fired[0]! > 0 }).toEqual({ outcome: 'RolledBack', fired: true });
    expectVerifiedRollback(run.runId);
    expectRestored(run.before, run.after);
    expect(later.secrets).toEqual(run.before.secrets);
    await expectConverged(later);
  });

  it('a compromise reported during a rollback waits for the rollback to finish, then takes the lock: the rollback is not stopped', async () => {
    let response: Promise<LocalExecution> | undefined;
    const restoreHeld = await injectFault(cloud, parseFault('kubernetes:rollout:service=frontend,from=RestoreBatch'));
    const envelope = compromiseEnvelope({ scope: { kind: 'services', services: ['backend'] }, reason: 'keyCompromise', reportedBy: 'security@econ-graph' });
    // The report arrives when the rollback restores its first batch; that batch's rollout is held
    // until the response has found the lock held (its ReadHeldLock), so it meets a rollback in flight.
    const run = await rotateIntoRollback([], {
      duringRollback: (state) => {
        if (state === 'RestoreBatch') response ??= cloud.runner.run(cloud.runner.find('CompromiseWorkflow'), envelope);
        if (state === 'ReadHeldLock') restoreHeld.heal();
      },
    });
    const contained = await response!;
    restoreHeld.heal();

    expect(outcomeOf(run.rotation)).toBe('RolledBack');
    expect(run.rotation.status).toBe('FAILED'); // not ABORTED: nothing stopped the rollback
    expectVerifiedRollback(run.runId);
    expect(restoreHeld.firings().length).toBeGreaterThan(0);
    expect({ status: contained.status, outcome: (contained.output as { outcome?: string }).outcome }).toEqual({ status: 'SUCCEEDED', outcome: 'Contained' });
    const entered = (name: string) => contained.history.filter((event) => event.type === 'StateEntered' && event.state?.name === name);
    expect(entered('WaitForLock').length).toBeGreaterThan(0);
    const rotationReleasedAt = run.rotation.history.find((event) => event.stateEnteredEventDetails?.name === 'ReleaseLockAfterRollback')!.timestamp!.getTime();
    const responseLockedAt = contained.history.filter((event) => event.type === 'StateExited' && event.state?.name === 'TakeLock').at(-1)!.timestamp;
    expect(responseLockedAt).toBeGreaterThanOrEqual(rotationReleasedAt);
    // The rollback restored everything; then the response reissued backend, and only backend.
    const after = await snapshot(cloud, fleet.seed);
    expect(after.defaultIssuer).toBe(run.before.defaultIssuer);
    expect(Object.keys(after.secrets).filter((service) => after.secrets[service] !== run.before.secrets[service])).toEqual(['backend']);
    await expectConverged(after);
  });

  it('an aborted compromise response: the stale-lock rule releases its lock, and a rollback after it leaves no older intermediate issuing', async () => {
    const compromised = (await snapshot(cloud, fleet.seed)).defaultIssuer;
    const machine = cloud.runner.find('CompromiseWorkflow');
    let stopping: Promise<unknown> | undefined;
    let executionArn: string | undefined;
    // An operator stops the response while it makes its new intermediate the default, before anything is reissued.
    const stopListening = cloud.runner.onTaskStart((state) => {
      if (state === 'ActivateNewIntermediate') stopping ??= sfn.send(new StopExecutionCommand({ executionArn, cause: 'stopped by an operator' }));
    });
    try {
      executionArn = (await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: cloud.stepFunctions.arnOf(machine),
          input: JSON.stringify(compromiseEnvelope({ scope: { kind: 'intermediate', issuerId: compromised }, reason: 'keyCompromise', reportedBy: 'security@econ-graph' })),
        }),
      )).executionArn;
      await cloud.stepFunctions.settled();
      await stopping;
      // The activation it had started runs to its end, as a Lambda invocation would.
      await cloud.runner.tasksSettled();
    } finally {
      stopListening();
    }
    if (!executionArn) throw new Error('the compromise response did not start');
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('ABORTED');
    expect((await lockItem())?.['owner']).toEqual({ S: executionArn });
    // The compromised intermediate is no longer the default, but it can still issue.
    expect((await issuingIssuers()).length).toBe(2);

    // Step Functions' status change, as EventBridge delivers it to the template's stale-lock rule.
    const statusChange = {
      version: '0',
      id: 'status-change-1',
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: '000000000000',
      time: new Date().toISOString(),
      region: SANDBOX_REGION,
      resources: [executionArn],
      detail: { executionArn, stateMachineArn: cloud.stepFunctions.arnOf(machine), name: executionArn.split(':').at(-1), status: 'ABORTED' },
    };
    const rule = Object.values(cloud.template.Resources as Record<string, { Type: string; Properties: { EventPattern: EventPattern; Description?: string } }>).find(
      (resource) => resource.Type === 'AWS::Events::Rule' && JSON.stringify(resource.Properties.EventPattern).includes('Step Functions Execution Status Change'),
    )!;
    const pattern = resolveArns(rule.Properties.EventPattern, cloud);
    expect(matchesPattern(pattern, statusChange)).toBe(true);
    expect(await cloud.runner.invoke('ReleaseStaleLock', statusChange)).toMatchObject({ released: true });
    expect(await lockItem()).toBeUndefined();

    // A rotation right after it fails and rolls back: the intermediate the aborted response left
    // issuing (the compromised one) is retired with the run's own.
    const run = await rotateIntoRollback([]);
    lastRollback = run;

    expect(outcomeOf(run.rotation)).toBe('RolledBack');
    // The response was stopped before it reissued anything: the services still hold leaves of the
    // compromised intermediate. The rollback puts exactly those back (I5) and its verification
    // says so: their issuer is not the default.
    expectVerifiedRollback(run.runId, 'UnknownIssuer');
    expect(run.before.defaultIssuer).not.toBe(compromised);
    expectRestored(run.before, run.after);
    expect(await issuingIssuers()).not.toContain(compromised);
    await expectConverged(run.after);
  });

  it('re-triggered: the rollback steps of that rolled-back run, run again, change nothing and leave its backups as they were', async () => {
    const run = lastRollback!;
    const store = cloud.sandbox.kubernetes.store;
    const backups = () =>
      store
        .list('secrets')
        .filter((secret) => (secret as { metadata: { labels?: Record<string, string> } }).metadata.labels?.['certflow.io/backup-run'] !== undefined)
        .map((secret) => JSON.stringify([(secret as { metadata: { name: string } }).metadata.name, (secret as { data?: unknown }).data]))
        .sort();
    const backupsBefore = backups();
    // RestoreBatch runs in the Rotation's RotationWave child executions, each with its own history.
    const waves = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: cloud.stepFunctions.arnOf(cloud.runner.find('RotationWave')) }))).executions ?? [];
    const waveHistories = await Promise.all(waves.map(async (wave) => (await sfn.send(new GetExecutionHistoryCommand({ executionArn: wave.executionArn, maxResults: 1000 }))).events ?? []));
    const restores = waveHistories.flat().filter((event) => event.stateEnteredEventDetails?.name === 'RestoreBatch').map((event) => JSON.parse(event.stateEnteredEventDetails!.input!) as { runId: string; requestedAt: string; batchId: string }).filter((restore) => restore.runId === run.runId);
    expect(restores.length).toBeGreaterThan(0);
    expect(backupsBefore.length).toBeGreaterThan(0);

    for (const { runId, requestedAt, batchId } of restores) await cloud.runner.invoke('RestoreBatch', { runId, requestedAt, batchId, phase: 'rollback' });
    await cloud.runner.invoke('RestoreIssuer', { runId: run.runId, previousDefault: run.before.defaultIssuer });

    expectRestored(run.before, await snapshot(cloud, fleet.seed));
    expect(backups()).toEqual(backupsBefore);
    await expectConverged(run.after);
  });

  it('a Secret write fault for good from RestoreBatch: the rollback cannot finish and stops alarmed (RotationRollbackFailed), the lock released and trust intact', async () => {
    const run = await rotateIntoRollback(['kubernetes:secret-write:from=RestoreBatch']);

    expect({ outcome: outcomeOf(run.rotation), fired: run.fired[0]! > 0 }).toEqual({ outcome: 'RollbackFailed', fired: true });
    const failed = cloud.sandbox.eventBridge.events().find((event) => event.detailType === 'Rotation Failed' && event.detail.runId === run.runId);
    expect(failed?.detail).toMatchObject({ outcome: 'Failed', cause: expect.stringMatching(/^rollback after \S+ failed with \S+/) });
    // What it could restore, it did: the previous default is back and only it issues.
    expect(run.after.defaultIssuer).toBe(run.before.defaultIssuer);
    // The canary keeps its new certificate, still trusted: the run's bundle was not taken back.
    expect(run.after.secrets['frontend']).not.toBe(run.before.secrets['frontend']);
    await expectConverged(run.after);
  });

  it('re-triggered: two rotations started together, right after rolled-back ones, end one Succeeded and one AlreadyRunning, and converge', async () => {
    const before = await snapshot(cloud, fleet.seed);
    const machine = cloud.runner.find('RotationWorkflow');
    const runs = await Promise.all([0, 1].map(() => cloud.runner.run(machine, { trigger: 'cli', forceIntermediate: true, services: ['frontend'] })));

    expect(runs.map(outcomeOf).sort()).toEqual(['AlreadyRunning', 'Succeeded']);
    const after = await snapshot(cloud, fleet.seed);
    expect(after.defaultIssuer).not.toBe(before.defaultIssuer);
    expect(Object.keys(after.secrets).filter((service) => after.secrets[service] !== before.secrets[service])).toEqual(['frontend']);
    // Only the new default can issue: the old one is retired, and so is every run's issuer before it.
    await expectConverged(after);
  });
});

/** The rule's pattern with each state machine's Ref replaced by its sandbox ARN. */
function resolveArns(pattern: EventPattern, cloud: LocalCloud): EventPattern {
  return JSON.parse(JSON.stringify(pattern), (_key, value: unknown) =>
    value && typeof value === 'object' && 'Ref' in (value as Record<string, unknown>) ? cloud.stepFunctions.arnOf(String((value as { Ref: string }).Ref)) : value,
  ) as EventPattern;
}
