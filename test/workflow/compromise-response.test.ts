import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { PendingScopeClaim } from '../../functions/contracts/rotation-payloads';
import { compromiseEnvelope } from '../support/local-cloud-fixture';
import { spawnSync } from 'node:child_process';
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type NodeVault = require('node-vault');
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CompromiseDetailTypes, CompromiseSource, type CompromiseReport } from '../../functions/contracts/compromise';
import { CompromiseLedgerEntries, type CompromiseContainedDetail } from '../../functions/contracts/compromise-payloads';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger';
import { PreemptEnvNames } from '../../functions/contracts/functions';
import { makeHandler as makePreempt } from '../../functions/handlers/preempt-rotation.handler';
import { checkTrust, TrustReasons } from '../../functions/domain/trust-checker';
import { CompromiseApprovalEntry, CompromiseApprovalErrors, CompromiseErrors, CompromiseOutcomes, CompromiseStates } from '../../lib/constructs/compromise-states';
import type { LocalExecution } from '../../sandbox/runner/local-runner';
import type { PendingTask } from '../../sandbox/runner/task-tokens';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { ReadyFleet } from '../../sandbox/compose/fleet';
import { SANDBOX_ACCOUNT, SANDBOX_CREDENTIALS, SANDBOX_REGION } from '../../sandbox/compose/sandbox';
import { startFaultFleet } from '../support/fault-matrix';
import { snapshot, trustBreaks } from '../support/invariants';
import { quietOutput } from '../support/local-cloud-fixture';
import { emfOf } from '../support/expiry-oracles';
import { Metrics } from '../../functions/contracts/functions';
import { sandboxVaultClient } from '../../sandbox/compose/sandbox-vault-client';

const openssl = spawnSync('openssl', ['version']).status === 0;
if (!openssl) console.warn('openssl is not on PATH: the minted-leaf check runs with certflow\'s checker only');

/** The CompromiseResponse state machine, synthesized from the CDK app, run locally on the seed fleet. */
jest.setTimeout(180_000);

/** A full EventBridge envelope, as the rule delivers it to the state machine. */
const envelope = compromiseEnvelope;
const report = (scope: CompromiseReport['scope']): CompromiseReport => ({ scope, reason: 'keyCompromise', reportedBy: 'test' });
const toPem = (crl: string) => (crl.includes('BEGIN') ? crl : `-----BEGIN X509 CRL-----\n${crl.match(/.{1,64}/g)!.join('\n')}\n-----END X509 CRL-----\n`);

describe('the CompromiseResponse workflow', () => {
  let cloud: LocalCloud;
  let fleet: ReadyFleet;
  let vault: NodeVault.client;
  const machine = () => cloud.runner.find('CompromiseWorkflow');
  const mounts = () => cloud.sandbox.config.vault;
  const defaultIssuer = async () => ((await vault.read(`${mounts().intermediateMount}/config/issuers`)).data as { default: string }).default;
  const crl = async (mount: string, issuerId: string) => toPem(((await vault.read(`${mount}/issuer/${issuerId}/crl`)).data as { crl: string }).crl);
  const eventsOf = (runId: string) => cloud.sandbox.eventBridge.events().filter((event) => event.detail['runId'] === runId);
  const backendSecret = () => {
    const service = fleet.seed.services.find((candidate) => candidate.name === 'backend')!;
    const secret = cloud.sandbox.kubernetes.store.get('secrets', { namespace: service.namespace, name: service.secretName }) as { data: Record<string, string> };
    return Buffer.from(secret.data['tls.crt']!, 'base64').toString('utf8');
  };
  const trustBundle = () => {
    const service = fleet.seed.services.find((candidate) => candidate.name === 'backend')!;
    return (cloud.sandbox.kubernetes.store.get('configmaps', { namespace: service.namespace, name: fleet.seed.trustBundle.name }) as { data: Record<string, string> }).data[fleet.seed.trustBundle.key]!;
  };

  // Dual control: an intermediate report waits for SendTaskSuccess, sent here as the operator would
  // (certflow approve) through the sandbox's Step Functions API, which checks IAM.
  const sfnAs = (credentials: { accessKeyId: string; secretAccessKey: string }) => new SFNClient({ region: SANDBOX_REGION, credentials, endpoint: cloud.stepFunctions.endpoint, maxAttempts: 1 });
  /** Starts a run and resolves with its first waiting task (undefined if the run ended without one). */
  /** The scope claims of reports waiting for approval (PendingScopeClaim), as the ledger table holds them. */
  const pendingClaims = async () =>
    (
      await cloud.sandbox.dynamoDbClient.send(
        new QueryCommand({ TableName: cloud.runner.functionEnv('CompromisePlan').CERTFLOW_LEDGER_TABLE!, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: PendingScopeClaim.pk } } }),
      )
    ).Items ?? [];
  const startUntilApproval = async (input: unknown) => {
    let stopListening = () => {};
    const asked = new Promise<PendingTask>((resolve) => {
      stopListening = cloud.runner.taskTokens.onWaiting((task) => resolve(task));
    });
    const running = cloud.runner.run(machine(), input);
    const task = await Promise.race([asked, running.then(() => undefined)]);
    stopListening();
    return { task, running };
  };
  const runApproved = async (input: unknown): Promise<LocalExecution> => {
    const { task, running } = await startUntilApproval(input);
    expect(task?.stateName).toBe(CompromiseStates.AwaitApproval);
    const sfn = sfnAs(SANDBOX_CREDENTIALS);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task!.token, output: JSON.stringify({ approvedBy: 'test' }) }));
    sfn.destroy();
    return running;
  };

  /** The sum of one metric over the EMF documents the bundles wrote since `from` (a count of log lines). */
  const emitted = (from: number, name: string) =>
    emfOf(cloud.logLines().slice(from))
      .filter((document) => name in document.metrics)
      .reduce((total, document) => total + document.metrics[name]!, 0);

  beforeAll(async () => {
    ({ cloud, fleet } = await startFaultFleet());
    vault = sandboxVaultClient(cloud.sandbox, { token: fleet.pki.rootToken });
  });
  afterAll(async () => cloud?.sandbox.close());

  it('rejects an invalid report: Succeeded with outcome Rejected, a Compromise Rejected event, and nothing changed', async () => {
    const before = await snapshot(cloud, fleet.seed);

    const execution = await cloud.runner.run(machine(), envelope({ scope: { kind: 'services', services: ['backend'] }, reason: 'keyStolen', reportedBy: 'mallory' }));

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toEqual(expect.objectContaining({ outcome: CompromiseOutcomes.Rejected, reason: expect.stringContaining('reason') }));
    const rejected = cloud.sandbox.eventBridge.events({ detailType: CompromiseDetailTypes.Rejected });
    expect(rejected.at(-1)?.detail).toEqual(expect.objectContaining({ reportedBy: 'mallory', reason: expect.stringContaining('reason') }));
    expect(await snapshot(cloud, fleet.seed)).toEqual(before);
    expect(execution.history.some((event) => event.state?.name === 'TakeLock')).toBe(false);
  });

  it('contains a compromised service certificate: reissued, the old serial on the intermediate CRL, Compromise Contained', async () => {
    const oldSerial = cloud.sandbox.services.served('backend')!.serial;
    const oldChain = backendSecret();
    const issuer = await defaultIssuer();
    const linesBefore = cloud.logLines().length;

    const execution = await cloud.runner.run(machine(), envelope(report({ kind: 'services', services: ['backend'] })));

    expect({ status: execution.status, error: execution.error, cause: execution.cause }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });
    const newSerial = cloud.sandbox.services.served('backend')!.serial;
    expect(newSerial).not.toBe(oldSerial);
    const verdict = await checkTrust({ servedChain: oldChain, trustBundle: trustBundle(), now: new Date(), crls: [await crl(mounts().intermediateMount, issuer)], purpose: 'any' });
    expect(verdict.reason).toBe(TrustReasons.Revoked);
    const contained = eventsOf(execution.name).filter((event) => event.detailType === CompromiseDetailTypes.Contained);
    expect(contained).toHaveLength(1);
    const detail = contained[0]!.detail as unknown as CompromiseContainedDetail;
    expect(detail.blastRadius.services).toEqual(['backend']);
    expect(detail.blastRadius.serialsRevoked).toEqual([oldSerial]);
    expect(detail.timings.reportedAt).toBeDefined();
    expect(await trustBreaks(cloud, fleet.seed)).toEqual([]);
    // The reissue runs RenewBatch and VerifyBatch: its renewal and verdict are on the dashboard's counts.
    expect([Metrics.RenewalsSucceeded, Metrics.RenewalsFailed, Metrics.VerificationsRefused].map((name) => emitted(linesBefore, name))).toEqual([1, 0, 0]);
    expect(emitted(linesBefore, Metrics.VerificationVerdicts)).toBeGreaterThanOrEqual(1);
    // The lock is released: a rotation runs afterwards.
    expect((await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'schedule' })).status).toBe('SUCCEEDED');
  });

  it('holds an intermediate report for an approval that names the blast radius, and a denial changes nothing', async () => {
    const before = await snapshot(cloud, fleet.seed);
    const compromised = await defaultIssuer();

    const { task, running } = await startUntilApproval(envelope(report({ kind: 'intermediate', issuerId: compromised })));

    expect(task?.stateName).toBe(CompromiseStates.AwaitApproval);
    const runId = task!.executionArn.split(':').at(-1)!;
    const requested = eventsOf(runId).filter((event) => event.detailType === CompromiseDetailTypes.ApprovalRequested);
    expect(requested).toHaveLength(1);
    expect(requested[0]!.detail['request']).toEqual(
      expect.objectContaining({ scope: 'intermediate', issuerId: compromised, services: expect.arrayContaining(fleet.seed.services.map((service) => service.name)), targets: expect.any(Number), approveWith: `certflow approve ${runId}` }),
    );
    const ledger = new DynamoDbLedger(cloud.sandbox.dynamoDbClient, cloud.runner.functionEnv('CompromisePlan').CERTFLOW_LEDGER_TABLE!);
    const pending = (await ledger.records(runId)).find((record) => record.entry === CompromiseApprovalEntry);
    expect(pending?.fields).toEqual(expect.objectContaining({ scope: 'intermediate', issuerId: compromised }));
    // A function's role may not answer the approval: SendTaskFailure is the operator's IAM action.
    const plan = cloud.runner.functionEnv('CompromisePlan');
    const asFunction = sfnAs({ accessKeyId: plan.AWS_ACCESS_KEY_ID!, secretAccessKey: plan.AWS_SECRET_ACCESS_KEY! });
    await expect(asFunction.send(new SendTaskFailureCommand({ taskToken: task!.token, error: CompromiseApprovalErrors.Denied }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    asFunction.destroy();
    // A second report for the same scope while the first waits: refused at once (it never waits
    // itself), and named in the waiting run's ledger.
    expect(await pendingClaims()).toHaveLength(1);
    const second = await cloud.runner.run(machine(), envelope({ ...report({ kind: 'intermediate', issuerId: compromised }), reportedBy: 'second-reporter' }));
    expect(second.status).toBe('SUCCEEDED');
    expect(second.output).toEqual(expect.objectContaining({ outcome: CompromiseOutcomes.Rejected, reason: `a compromise report for the same scope is already waiting for approval (${runId}); this report changed nothing` }));
    expect(new Set(second.history.map((event) => event.state?.name)).has(CompromiseStates.AwaitApproval)).toBe(false);
    const named = (await ledger.records(runId)).find((record) => record.entry === `compromise#duplicate#${second.name}`);
    expect(named?.fields).toEqual(expect.objectContaining({ refusedRunId: second.name, reportedBy: 'second-reporter' }));
    const operator = sfnAs(SANDBOX_CREDENTIALS);
    await operator.send(new SendTaskFailureCommand({ taskToken: task!.token, error: CompromiseApprovalErrors.Denied, cause: 'denied by test' }));
    // A token answers once.
    await expect(operator.send(new SendTaskSuccessCommand({ taskToken: task!.token, output: '{}' }))).rejects.toMatchObject({ name: 'InvalidToken' });
    operator.destroy();
    const execution = await running;

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toEqual(expect.objectContaining({ outcome: CompromiseOutcomes.Rejected, reason: expect.stringContaining('denied') }));
    expect(eventsOf(runId).map((event) => event.detailType)).toEqual([CompromiseDetailTypes.ApprovalRequested]);
    expect(cloud.sandbox.eventBridge.events({ detailType: CompromiseDetailTypes.Rejected }).at(-1)?.detail).toEqual(expect.objectContaining({ reason: expect.stringContaining('denied') }));
    const visited = new Set(execution.history.map((event) => event.state?.name));
    for (const state of [CompromiseStates.TakeLock, CompromiseStates.PreemptRotation, CompromiseStates.PrepareNewIntermediate]) expect(visited.has(state)).toBe(false);
    expect(await defaultIssuer()).toBe(compromised);
    expect(await snapshot(cloud, fleet.seed)).toEqual(before);
    // The claim on the scope ended with the wait: the scope can be reported again.
    expect(await pendingClaims()).toEqual([]);
  });

  it('fails an intermediate report nobody approves in time with CompromiseApprovalTimedOut (alarmed), changing nothing', async () => {
    const before = await snapshot(cloud, fleet.seed);
    const compromised = await defaultIssuer();
    // The definition waits 30 minutes; locally the callback times out at once, as Wait states wait waitMs.
    cloud.runner.callbackTimeoutMs = 50;
    let execution: LocalExecution;
    try {
      execution = await cloud.runner.run(machine(), envelope(report({ kind: 'intermediate', issuerId: compromised })));
    } finally {
      cloud.runner.callbackTimeoutMs = undefined;
    }

    expect({ status: execution.status, error: execution.error }).toEqual({ status: 'FAILED', error: CompromiseErrors.ApprovalTimedOut });
    expect(await pendingClaims()).toEqual([]);
    expect(eventsOf(execution.name).filter((event) => event.detailType === CompromiseDetailTypes.ResponseFailed).map((event) => event.detail['error'])).toEqual([CompromiseErrors.ApprovalTimedOut]);
    const visited = new Set(execution.history.map((event) => event.state?.name));
    for (const state of [CompromiseStates.TakeLock, CompromiseStates.PreemptRotation, CompromiseStates.PrepareNewIntermediate]) expect(visited.has(state)).toBe(false);
    expect(await defaultIssuer()).toBe(compromised);
    expect(await snapshot(cloud, fleet.seed)).toEqual(before);
  });

  it('contains a compromised intermediate once approved: a new default, the old issuer revoked and on the root CRL, every service valid', async () => {
    const compromised = await defaultIssuer();
    const compromisedSerial = ((await vault.read(`${mounts().intermediateMount}/issuer/${compromised}`)).data as { serial_number?: string }).serial_number;

    // What a thief with the intermediate's key mints: a leaf signed by it (issued before the
    // report, while Vault still let that issuer sign; the key is the same one).
    const minted = (await vault.write(`${mounts().intermediateMount}/issuer/${compromised}/issue/${mounts().role}`, { common_name: 'backend.econ-graph.svc', ttl: '24h', key_type: 'ec', key_bits: 256 })).data as { certificate: string; issuing_ca: string };

    const execution = await runApproved(envelope(report({ kind: 'intermediate', issuerId: compromised })));

    expect({ status: execution.status, error: execution.error }).toEqual({ status: 'SUCCEEDED', error: undefined });
    const current = await defaultIssuer();
    expect(current).not.toBe(compromised);
    expect(((await vault.read(`${mounts().intermediateMount}/issuer/${compromised}`)).data as { revoked: boolean }).revoked).toBe(true);
    const roots = ((await vault.list(`${mounts().rootMount}/issuers`)).data as { keys: string[] }).keys;
    const rootCrls = await Promise.all(roots.map((root) => crl(mounts().rootMount, root)));
    const detail = eventsOf(execution.name).find((event) => event.detailType === CompromiseDetailTypes.Contained)!.detail as unknown as CompromiseContainedDetail;
    expect(detail.blastRadius.issuerIds).toEqual({ revoked: compromised, new: current });
    const rootSerial = detail.blastRadius.serialsRevoked.at(-1)!;
    if (compromisedSerial) expect(rootSerial).toBe(compromisedSerial);
    // The old intermediate's certificate is revoked on the root: checkTrust with a root CRL says so.
    const oldIssuerPem = ((await vault.read(`${mounts().intermediateMount}/issuer/${compromised}`)).data as { certificate: string }).certificate;
    const onRootCrl = await checkTrust({ servedChain: oldIssuerPem, trustBundle: trustBundle(), now: new Date(), crls: rootCrls, purpose: 'ca' });
    expect(onRootCrl.reason).toBe(TrustReasons.Revoked);
    for (const service of fleet.seed.services) expect(detail.blastRadius.services).toContain(service.name);
    expect(await trustBreaks(cloud, fleet.seed)).toEqual([]);

    // Trust followed the revocation: no namespace bundle holds the compromised intermediate ...
    const compromisedFingerprint = new X509Certificate(oldIssuerPem).fingerprint256;
    for (const namespace of fleet.seed.namespaces) {
      const bundle = (cloud.sandbox.kubernetes.store.get('configmaps', { namespace, name: fleet.seed.trustBundle.name }) as { data: Record<string, string> }).data[fleet.seed.trustBundle.key]!;
      const fingerprints = bundle.split(/(?=-----BEGIN CERTIFICATE-----)/).filter((block) => block.includes('BEGIN')).map((block) => new X509Certificate(block).fingerprint256);
      expect(fingerprints).not.toContain(compromisedFingerprint);
      // ... so the minted leaf fails: served alone nothing anchors it; served with the stolen
      // intermediate, the root's CRL revokes that intermediate. Judged by openssl where present.
      const alone = await checkTrust({ servedChain: minted.certificate, trustBundle: bundle, now: new Date(), purpose: 'any' });
      expect(['UnknownIssuer', 'MissingIntermediate']).toContain(alone.reason);
      const withIssuer = await checkTrust({ servedChain: [minted.certificate, minted.issuing_ca].join('\n'), trustBundle: bundle, now: new Date(), crls: [...rootCrls, await crl(mounts().intermediateMount, compromised)], purpose: 'any' });
      expect(withIssuer.reason).toBe(TrustReasons.Revoked);
      if (openssl) {
        const dir = mkdtempSync(join(tmpdir(), 'certflow-minted-'));
        const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
        const verify = (extra: string[]) =>
          spawnSync('openssl', ['verify', '-partial_chain', '-CAfile', file('bundle.pem', bundle), ...extra, file('leaf.pem', minted.certificate)], { encoding: 'utf8' });
        expect(verify([]).status).not.toBe(0);
        const crlArgs = rootCrls.flatMap((entry, index) => ['-CRLfile', file(`root-${index}.crl`, entry)]);
        const revokedAnswer = verify(['-untrusted', file('int.pem', minted.issuing_ca), '-crl_check_all', ...crlArgs, '-CRLfile', file('int.crl', await crl(mounts().intermediateMount, compromised))]);
        expect(revokedAnswer.stdout + revokedAnswer.stderr).toContain('certificate revoked');
        rmSync(dir, { recursive: true, force: true });
      }
    }
    // CompromiseRevoke republished every namespace bundle (and verified against them) before Contained.
    const ledger = new DynamoDbLedger(cloud.sandbox.dynamoDbClient, cloud.runner.functionEnv('CompromiseRevoke').CERTFLOW_LEDGER_TABLE!);
    const revokeRecord = (await ledger.records(detail.runId)).find((record) => record.entry === CompromiseLedgerEntries.Revoke);
    const republished = (revokeRecord?.fields['bundles'] ?? []) as Array<{ namespace: string; changed: boolean }>;
    expect(republished.map((entry) => [entry.namespace, entry.changed]).sort()).toEqual(fleet.seed.namespaces.map((namespace) => [namespace, true]).sort());
  }, 420_000);

  it('fails a response that cannot reissue with CompromiseResponseFailed, keeping the new issuer (no rollback to the compromised one)', async () => {
    const compromised = await defaultIssuer();
    const fault = cloud.sandbox.vault.faults.inject({ operation: `${mounts().intermediateMount}/issue`, status: 500 });
    const faultSign = cloud.sandbox.vault.faults.inject({ operation: `${mounts().intermediateMount}/sign`, status: 500 });
    let execution;
    const linesBefore = cloud.logLines().length;
    try {
      execution = await runApproved(envelope(report({ kind: 'intermediate', issuerId: compromised })));
    } finally {
      cloud.sandbox.vault.faults.clear(fault);
      cloud.sandbox.vault.faults.clear(faultSign);
    }

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe(CompromiseErrors.ResponseFailed);
    const current = await defaultIssuer();
    expect(current).not.toBe(compromised);
    const visited = new Set(execution.history.map((event) => event.state?.name));
    expect(visited.has('ActivateNewIntermediate')).toBe(true);
    expect(visited.has('RevokeCompromisedIssuerBySerial') || visited.has('RevokeCompromisedIssuer')).toBe(false);
    expect([...visited].filter((name) => /Restore|Rollback/.test(name ?? ''))).toEqual([]);
    const failed = eventsOf(execution.name).filter((event) => event.detailType === CompromiseDetailTypes.ResponseFailed);
    expect(failed).toHaveLength(1);
    // Vault refused every issuance: the reissue's failed renewals are counted, by the bundle that failed.
    expect(emitted(linesBefore, Metrics.RenewalsFailed)).toBeGreaterThanOrEqual(1);
    // The lock is released: a later rotation is not AlreadyRunning.
    const next = await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'schedule' });
    expect((next.output as { outcome?: string } | undefined)?.outcome).not.toBe('AlreadyRunning');
  });

  describe('PreemptRotation', () => {
    const preempt = (overlay: Record<string, string | undefined>) =>
      makePreempt({ ...cloud.runner.functionEnv('PreemptRotation'), ...overlay }, { output: quietOutput() })({ runId: `preempt-${randomUUID()}` });
    const rotationArn = `arn:aws:states:${SANDBOX_REGION}:${SANDBOX_ACCOUNT}:stateMachine:certflow-rotation`;

    it('asks the sandbox’s Step Functions API, as it would AWS, and stops nothing when no rotation runs', async () => {
      const before = cloud.stepFunctions.calls().filter((call) => call.operation === 'ListExecutions').length;

      await expect(preempt({})).resolves.toEqual({ stopped: [] });

      expect(cloud.runner.functionEnv('PreemptRotation')[PreemptEnvNames.RotationStateMachineArn]).toBe(cloud.stepFunctions.arnOf(cloud.runner.find('RotationWorkflow')));
      expect(cloud.stepFunctions.calls().filter((call) => call.operation === 'ListExecutions' && !call.error)).toHaveLength(before + 1);
    });

    it('never reads a missing Step Functions endpoint as a sandbox with nothing to stop (fails rather than skips)', async () => {
      // KMS still has its sandbox endpoint: the environment the old code took for "no rotation to stop".
      const withoutSfn = preempt({ AWS_ENDPOINT_URL_SFN: undefined, [PreemptEnvNames.RotationStateMachineArn]: rotationArn });
      await expect(withoutSfn).rejects.toMatchObject({ retryable: true });
    });

    it('fails with a retryable AwsUnavailableError when Step Functions is disabled, never skipping silently', async () => {
      await expect(preempt({ [PreemptEnvNames.SfnDisabled]: 'true' })).rejects.toMatchObject({ name: 'AwsUnavailableError', retryable: true });
    });

    it('fails with a retryable AwsUnavailableError when the Step Functions endpoint cannot be reached', async () => {
      const unreachable = preempt({ AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:9', [PreemptEnvNames.RotationStateMachineArn]: rotationArn });
      await expect(unreachable).rejects.toMatchObject({ name: 'AwsUnavailableError', retryable: true });
    });
  });
});
