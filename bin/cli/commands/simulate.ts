import { declaredServices } from '../../../sandbox/compose/declared-services';
import { loadConfig, type CertflowConfig } from '../../../lib/config';
import { startSandbox } from '../../../sandbox/compose/sandbox';
import { createLocalCloud, type LocalCloud } from '../../../sandbox/compose/local-cloud';
import { cliAssembly } from '../assembly';
import { readyFleet } from '../../../sandbox/compose/fleet';
import { withSyntheticServices } from '../../../sandbox/compose/synthetic-fleet';
import { checkFaultTarget, FaultSyntaxError, injectFault, parseFault } from '../../../sandbox/compose/fault-injection';
import { declaredServiceNames } from '../../../functions/domain/target-policy';
import { countByState, failureOf, laterFailureOf } from '../../../sandbox/runner/history-facts';
import { scanForSecrets, secretNeedlesOfTheRun } from '../../../sandbox/compose/secret-scan';
import { estimateCost } from '../../../sandbox/compose/cost-estimate';
import type { LocalExecution } from '../../../sandbox/runner/local-runner';
import { listTaskStates } from '../../../sandbox/runner/task-walker';
import { countLocalLogEvents } from '../../../lib/constructs/history-budget';
import type { RotationEventDetail } from '../../../functions/contracts/rotation-payloads';
import { CliError, ExitCodes } from '../cli-error';
import type { Output } from '../output';
import { sandboxVaultClient } from '../../../sandbox/compose/sandbox-vault-client';

export interface SimulateOptions {
  configPath: string;
  services?: number;
  fault?: string;
}

/** The history events AWS would hold for the run: the Rotation's, each wave's, and the most of any one. */
function awsHistoryEventsOf(cloud: LocalCloud, execution: LocalExecution): { rotation: number; waves: number[]; maxPerExecution: number } {
  const runJobTasks = (stateMachine: string) => new Set(listTaskStates(cloud.runner.definition(stateMachine)).filter((task) => /\.sync(:2)?$/.test(task.resource)).map((task) => task.name));
  const rotation = countLocalLogEvents(execution.history, runJobTasks(execution.stateMachine));
  const waves = execution.children.map((child) => countLocalLogEvents(child.history, runJobTasks(child.stateMachine)));
  return { rotation, waves, maxPerExecution: Math.max(rotation, ...waves) };
}

/** Groups of Rotation states, for the timing per phase. */
const PHASES: Array<[string, string[]]> = [
  ['lock and preflight', ['Init', 'AcquireLock', 'EmitStarted', 'Preflight']],
  ['plan', ['Plan']],
  ['new intermediate (prepare, publish trust, activate)', ['PrepareIntermediate', 'PublishTrust', 'ActivateIssuer']],
  ['canary (renew, rollout, verify)', ['RenewCanary', 'WaitCanary', 'CheckCanary', 'CanaryDone?', 'VerifyCanary']],
  ['fan-out (renew, rollout)', ['FanOut']],
  ['verify all (chains, mTLS handshakes)', ['VerifyAll']],
  ['finalize (retire old issuer, ledger, event, unlock)', ['Finalize', 'EmitSucceeded', 'ReleaseLock']],
  ['rollback (issuer, Secrets, trust, verify, event)', ['Rotated?', 'RestoreIssuer', 'RestoreTargets', 'RestoreTrust', 'RecordRollback', 'EmitRolledBack', 'ReleaseLockAfterRollback']],
];

/**
 * `certflow simulate` (what `npm start` runs): the seed topology on the sandbox, three sealed
 * Vault nodes unsealed by the Unseal state machine, then the synthesized Rotation state machine
 * run locally with a new intermediate. Prints what happened and what it would cost on AWS.
 */
export async function simulate(options: SimulateOptions, out: Output): Promise<number> {
  const fault = options.fault ? parseFaultOrThrow(options.fault) : undefined;
  const walls: Array<{ name: string; ms: number }> = [];
  const timed = async <T>(name: string, run: () => Promise<T> | T): Promise<T> => {
    out.progress(`${name}…`);
    const started = performance.now();
    const result = await run();
    walls.push({ name, ms: Math.round(performance.now() - started) });
    return result;
  };

  const config: CertflowConfig = withSyntheticServices(loadConfig(options.configPath), options.services ?? 0);
  // A fault that names a service this fleet does not have is refused before anything starts.
  if (fault) {
    try {
      checkFaultTarget(fault, [...declaredServiceNames(config.kubernetes.targets)]);
    } catch (error) {
      throw new CliError((error as Error).message, ExitCodes.Usage);
    }
  }
  const assembly = await cliAssembly(options.configPath, out);
  const sandbox = await timed('start the sandbox (Vault x3, KMS, DynamoDB, EventBridge, Kubernetes)', () => startSandbox({ config }));
  try {
    const cloud = await timed('provision the template resources', () => createLocalCloud(sandbox, assembly));
    const fleet = await timed(`vault-init, seal, Unseal state machine, PKI, ${declaredServices(config).length} services seeded`, () => readyFleet(cloud, { sealFirst: true }));
    const issuerNames = await issuerNamesOf(cloud);
    // A from= naming no task state of the template is refused here, before the run starts.
    const armed = fault ? await injectFault(cloud, fault).catch((error: unknown) => { throw error instanceof FaultSyntaxError ? new CliError(error.message, ExitCodes.Usage) : error; }) : undefined;
    const rotationMachine = cloud.runner.find('RotationWorkflow');
    const started = performance.now();
    const execution: LocalExecution = await timed('run the Rotation state machine (new intermediate)', () =>
      cloud.runner.run(rotationMachine, { trigger: 'sandbox', forceIntermediate: true }),
    );
    const rotationWallMs = performance.now() - started;
    armed?.heal();
    const after = await issuerNamesOf(cloud);
    const scan = await timed('scan history, events and logs for secrets', async () => {
      // Every secret that existed during the run, collected after it: shares, the root token, and each
      // private key and Vault token the sandbox saw (the run replaced every service key).
      const needles = await secretNeedlesOfTheRun(cloud);
      return scanForSecrets([JSON.stringify([fleet.unseal.history, execution.history, execution.output, execution.children.map((child) => [child.history, child.output])]), JSON.stringify(sandbox.eventBridge.events()), ...cloud.logLines()], needles);
    });

    const events = sandbox.eventBridge.events().map((event) => ({ detailType: event.detailType, runId: String(event.detail.runId ?? '') }));
    const rotationEvent = sandbox.eventBridge.events().find((event) => event.detail.runId === execution.name && ['Rotation Succeeded', 'Rotation Rolled Back', 'Rotation Failed'].includes(event.detailType));
    const detail = rotationEvent?.detail as RotationEventDetail | undefined;
    const phases = phaseTimings(execution);
    const cost = estimateCost({
      // The waves' transitions and invocations are the run's too.
      history: [...execution.history, ...execution.children.flatMap((child) => child.history)],
      definition: [rotationMachine, ...new Set(execution.children.map((child) => child.stateMachine))].map((id) => cloud.runner.definition(id)),
      memoryMb: 256,
      events: events.filter((event) => event.runId === execution.name).length,
      dynamoDbWrites: 2 + (detail?.counts?.renewed ?? 0) * 3 + (cloud.logLines().length > 0 ? 10 : 0),
      kmsRequests: fleet.unseal.history.length > 0 ? 9 : 0,
    });
    const names = { ...issuerNames, ...after };
    const services = (detail?.services ?? []).map((service) => ({
      ...service,
      oldIssuer: names[detail?.intermediate?.previousIssuer ?? ''] ?? detail?.intermediate?.previousIssuer,
      newIssuer: execution.status === 'SUCCEEDED' ? (names[detail?.intermediate?.newIssuer ?? ''] ?? detail?.intermediate?.newIssuer) : undefined,
    }));
    const rolledBack = detail?.outcome === 'RolledBack';
    const outcome = detail?.outcome ?? (execution.output as { outcome?: string } | undefined)?.outcome;
    const ok = execution.status === 'SUCCEEDED' && outcome === 'Succeeded' && scan.found === 0;
    const failure = execution.status === 'SUCCEEDED' ? undefined : failureOf(execution.history);
    const rollbackFailure = execution.error === 'RotationRollbackFailed' ? laterFailureOf(execution.history, failure) : undefined;
    // The run's states in time order, its waves' included: a fault that fires in RenewBatch is named so, not RenewWave.
    const runHistory = [...execution.history, ...execution.children.flatMap((child) => child.history)].sort((a, b) => a.timestamp - b.timestamp);
    const firings = armed ? [...armed.firings(runHistory)] : [];
    const faultReport = armed && fault ? { kind: fault.kind, description: armed.description, fired: firings.length, firedIn: countByState(runHistory, firings) } : undefined;

    out.result({
      ok,
      execution: { name: execution.name, status: execution.status, error: execution.error },
      fault: faultReport,
      outcome,
      ...(failure ? { failure } : {}),
      ...(rollbackFailure ? { rollbackFailure } : {}),
      intermediate: detail?.intermediate,
      services,
      counts: detail?.counts,
      ...(detail?.waves ? { waves: detail.waves } : {}),
      events,
      transitions: cost.transitions,
      historyEvents: execution.history.length,
      // By AWS's rules (lib/constructs/history-budget.ts), per execution: what the 25,000 limit applies to.
      awsHistoryEvents: awsHistoryEventsOf(cloud, execution),
      rotationMs: Math.round(rotationWallMs),
      phases,
      wallClock: walls,
      cost,
      secretScan: scan,
      // Every AWS call the sandbox served was decided by IAM (identity + resource policies).
      iam: sandbox.iam.decisions(),
      // Which cloud assembly ran: its cache key, and whether this run had to synthesize it.
      assembly: { key: assembly.key, cached: assembly.cached, bundles: 'synthesized' },
      ...(rolledBack
        ? {
            rollback: {
              error: detail?.error,
              cause: detail?.cause,
              issuerRestored: detail?.intermediate?.previousIssuer,
              restored: detail?.counts?.restored ?? 0,
              restoredWithoutClientAuth: detail?.counts?.restoredWithoutClientAuth ?? 0,
            },
          }
        : {}),
    });
    out.line('certflow simulate: a full rotation on the embedded sandbox');
    out.line();
    out.line(`Vault ${config.vault.clusterId}: 3 nodes sealed, then unsealed by the Unseal state machine (${fleet.unseal.status}); shares KMS-wrapped in DynamoDB`);
    if (faultReport) {
      const where = faultReport.firedIn.map((entry) => `${entry.state} x${entry.times}`).join(', ');
      out.line(`Fault injected: ${faultReport.description}; ${faultReport.fired === 0 ? out.paint.warn('it never fired') : `fired ${faultReport.fired} time${faultReport.fired === 1 ? '' : 's'} (${where})`}`);
    }
    out.line(`Rotation ${execution.name}: ${execution.status}${execution.error ? ` (${execution.error})` : ''}, outcome ${outcome ?? 'none'}, ${cost.transitions} state transitions`);
    if (failure) out.line(`Failed in ${failure.state}: ${failure.error}: ${failure.cause}`);
    if (detail?.intermediate) {
      const { intermediate } = detail;
      out.line(`Intermediate: ${intermediate.rotated ? `rotated ${names[intermediate.previousIssuer ?? ''] ?? intermediate.previousIssuer} -> ${names[intermediate.newIssuer ?? ''] ?? intermediate.newIssuer}` : `kept ${names[intermediate.previousIssuer ?? ''] ?? intermediate.previousIssuer}`}`);
    }
    out.line();
    const shown = services.length > 20 ? [...services.slice(0, 20)] : services;
    // Whole serials, so one can be pasted into `certflow compromise --serial`; old under new keeps
    // the table within 100 columns (the issuers are named in the Intermediate line above).
    out.table([
      ['service', 'verdict', 'serial'],
      ...shown.flatMap((service) => [
        [service.service, service.verdict ?? '', `new ${short(service.newSerial) || '-'}`],
        ['', '', `old ${short(service.oldSerial) || '-'}`],
      ]),
    ]);
    const servicesTotal = detail?.servicesTotal ?? services.length;
    if (servicesTotal > shown.length) out.line(`  ... and ${servicesTotal - shown.length} more services (${servicesTotal > services.length ? `the event lists ${services.length}, the ledger's batch records every one` : 'see --json'})`);
    out.line();
    if (detail?.waves?.length) {
      // The rollout budget at work: the restarts went out in waves, never more than the budget at once.
      const largest = Math.max(...detail.waves.map((wave) => wave.workloads));
      out.line(`Restart waves (rollout budget): ${detail.waves.length}, at most ${largest} workloads started in one wave`);
      out.line();
    }
    out.line('Rotation phases (state machine time):');
    out.table(phases.filter((phase) => phase.ms !== undefined).map((phase) => [phase.name, `${phase.ms} ms`]));
    out.line();
    out.line(`Events: ${events.map((event) => event.detailType).join(', ')}`);
    const iam = sandbox.iam.decisions();
    out.line(`IAM: ${iam.authorized} AWS calls authorized, ${iam.denied} denied (each function with its own role, policies from the template)`);
    out.line(`Secret scan: ${scan.found} of ${scan.secretsLookedFor} secret forms found in the execution histories, ${events.length} events and ${cloud.logLines().length} log lines`);
    out.line(
      `AWS cost of this rotation at published prices: $${cost.usd.total.toFixed(5)} (Step Functions $${cost.usd.stepFunctions.toFixed(5)}, Lambda $${cost.usd.lambda.toFixed(5)} for ${cost.lambdaInvocations} invocations, EventBridge $${cost.usd.eventBridge.toFixed(6)}, DynamoDB $${cost.usd.dynamoDb.toFixed(6)})`,
    );
    out.line();
    out.line('Wall clock:');
    out.table(walls.map((wall) => [wall.name, `${wall.ms} ms`]));
    out.line(`  rotation per service: ${(rotationWallMs / Math.max(1, detail?.servicesTotal ?? services.length)).toFixed(1)} ms`);
    out.line();
    if (ok) {
      out.line(`Result: ${out.paint.ok('every service renewed under the new intermediate and verified by mTLS handshake.')}`);
      if (faultReport?.fired === 0) {
        out.line(out.paint.warn(`The fault ${faultReport.kind} never fired, so this run tested nothing about it: choose after=/times= that this fleet reaches.`));
        return ExitCodes.FaultNotFired;
      }
      return ExitCodes.Ok;
    }
    if (outcome === 'AlreadyRunning') {
      out.line(`Result: ${out.paint.warn('ALREADY RUNNING')}: another execution holds the rotation lock, so this run changed nothing and ended.`);
      return ExitCodes.Refused;
    }
    if (rolledBack) {
      out.line(`Result: ${out.paint.bad('ROLLED BACK')} after ${detail?.error}: ${detail?.cause ?? ''}`);
      const withoutClientAuth = detail?.counts?.restoredWithoutClientAuth ?? 0;
      out.line(`The rollback restored the previous issuer and every touched Secret byte for byte; ${detail?.counts?.restored ?? 0} services verified as restored.`);
      if (withoutClientAuth > 0) {
        out.line(`${withoutClientAuth} of them were verified by the chain their endpoint serves, without application data: Vault could not issue certflow's client certificate.`);
      }
    } else {
      out.line(`Result: ${out.paint.bad('FAILED')} (${failure?.error ?? execution.error ?? outcome ?? 'unknown'})${failure ? ` in ${failure.state}: ${failure.cause}` : ''}`);
      if (execution.error === 'RotationAborted') out.line('Nothing was changed: the run stopped before its plan, and the RotationExecutionsFailed alarm fires.');
      if (rollbackFailure) {
        out.line(`The rollback could not finish either: ${rollbackFailure.state} failed with ${rollbackFailure.error}: ${rollbackFailure.cause}`);
        out.line('Every Secret the run touched still has its backup in its namespace (backups are never overwritten), the alarm fires,');
        out.line('and the ledger records each batch that was restored. Once the component that failed answers again, start a rotation;');
        out.line('the backups are deleted only when a run succeeds.');
      }
    }
    return ExitCodes.WorkflowFailed;
  } finally {
    await sandbox.close();
  }
}

function parseFaultOrThrow(text: string) {
  try {
    return parseFault(text);
  } catch (error) {
    throw new CliError((error as Error).message, ExitCodes.Usage);
  }
}

function short(serial: string | undefined): string {
  return serial ?? '';
}

async function issuerNamesOf(cloud: LocalCloud): Promise<Record<string, string>> {
  const vault = sandboxVaultClient(cloud.sandbox, { token: cloud.sandbox.vault.rootToken() ?? '' });
  const listed = (await vault.list(`${cloud.sandbox.config.vault.intermediateMount}/issuers`)) as { data: { key_info: Record<string, { issuer_name?: string }> } };
  return Object.fromEntries(Object.entries(listed.data.key_info).map(([id, info]) => [id, info.issuer_name || id.slice(0, 8)]));
}

function phaseTimings(execution: LocalExecution): Array<{ name: string; ms?: number }> {
  return PHASES.map(([name, states]) => {
    const events = execution.history.filter((event) => event.state && states.includes(event.state.name));
    if (events.length === 0) return { name };
    const start = Math.min(...events.map((event) => event.timestamp));
    const end = Math.max(...events.map((event) => event.timestamp));
    return { name, ms: end - start };
  });
}
