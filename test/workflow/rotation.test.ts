import { readFileSync } from 'node:fs';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { ReadyFleet } from '../../sandbox/compose/fleet';
import { resolveDefinition } from '../../sandbox/runner/template-resolver';
import { SANDBOX_ACCOUNT, SANDBOX_REGION } from '../../sandbox/compose/sandbox';
import { leaks, secretNeedlesOfTheRun } from '../../sandbox/compose/secret-scan';
import { startFaultFleet } from '../support/fault-matrix';
import { snapshot, trustBreaks } from '../support/invariants';
import { loadTemplate, TEMPLATE_PATH_ENV } from '../support/template';
import { batchesPerWave, countLocalLogEvents } from '../../lib/constructs/history-budget';
import { rotationHistory } from '../../lib/constructs/rotation-history';
import { seedConfig } from '../support/local-cloud-fixture';
import { emfOf, type Emf } from '../support/expiry-oracles';
import { Metrics } from '../../functions/contracts/functions';
import { DASHBOARD, metricsOf, type CertflowMetric } from '../../lib/dashboards/definition';
import { sandboxVaultClient } from '../../sandbox/compose/sandbox-vault-client';

const config = seedConfig();

/** The Rotation state machine, synthesized from the CDK app, run locally on the seed fleet. */
jest.setTimeout(120_000);

describe('the Rotation workflow', () => {
  let cloud: LocalCloud;
  let fleet: ReadyFleet;
  beforeAll(async () => {
    ({ cloud, fleet } = await startFaultFleet());
  });
  afterAll(async () => cloud?.sandbox.close());

  it('runs the definition that deploys: the runner executes exactly the template’s DefinitionString', () => {
    const id = cloud.runner.find('RotationWorkflow');
    const fromDisk = JSON.parse(readFileSync(process.env[TEMPLATE_PATH_ENV]!, 'utf8'));
    const expected = resolveDefinition(fromDisk, id, { region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT, refs: cloud.provisioned.refs, attributes: cloud.provisioned.attributes });
    expect(cloud.runner.definition(id)).toEqual(expected);
    expect(Object.keys(cloud.runner.definition(id).States)).toContain('FanOut');
  });

  it('rotates the intermediate and renews every service, verified, with events and a released lock', async () => {
    const before = await snapshot(cloud, fleet.seed);
    const linesBefore = cloud.logLines().length;
    const handshakes = () => fleet.seed.services.reduce((total, service) => total + cloud.sandbox.services.handshakes(service.name), 0);
    const handshakesBefore = handshakes();

    const execution = await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'cli', forceIntermediate: true });
    // Only VerifyBatch dials the services during a run: each Valid verdict is one handshake they saw.
    const handshakesOfTheRun = handshakes() - handshakesBefore;

    // With the error and its cause, so that a failure says why.
    expect({ status: execution.status, error: execution.error, cause: execution.cause?.slice(0, 500) }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });
    const after = await snapshot(cloud, fleet.seed);
    expect(after.defaultIssuer).not.toBe(before.defaultIssuer);
    expect(Object.keys(after.secrets).filter((name) => after.secrets[name] === before.secrets[name])).toEqual([]);
    expect(await trustBreaks(cloud, fleet.seed)).toEqual([]);
    const events = cloud.sandbox.eventBridge.events().filter((event) => event.detail.runId === execution.name);
    expect(events.map((event) => event.detailType)).toEqual(['Rotation Started', 'Rotation Succeeded']);
    const detail = events[1]!.detail as { counts: { renewed: number; verified: number }; intermediate: { rotated: boolean; newIssuer: string } };
    expect(detail.counts).toEqual(expect.objectContaining({ renewed: 5, verified: 5 }));
    expect(detail.intermediate).toEqual(expect.objectContaining({ rotated: true, newIssuer: after.defaultIssuer }));
    // The old issuer is retired: it signs CRLs but issues nothing.
    const vault = sandboxVaultClient(cloud.sandbox, { token: cloud.sandbox.vault.rootToken()! });
    const old = (await vault.read(`pki_int/issuer/${before.defaultIssuer}`)) as { data: { usage: string } };
    expect(old.data.usage.split(',').sort()).toEqual(['crl-signing', 'ocsp-signing', 'read-only']);

    // The batches ran in RotationWave child executions, started by the runner as the Rotation's role.
    const waveMachine = cloud.runner.find('RotationWave');
    expect(execution.children.map((child) => [child.stateMachine, child.status, (child.input as { step: string }).step])).toEqual([
      [waveMachine, 'SUCCEEDED', 'renew'],
      [waveMachine, 'SUCCEEDED', 'verify'],
    ]);
    // Two ways to count by AWS's rules agree: the states the local log shows, and the walk of the
    // definitions for this run's shape (the canary's looks read from the log; the verify wave has no loop).
    const canaryLooks = execution.history.filter((event) => event.type === 'StateEntered' && event.state?.name === 'CheckCanary').length;
    const computed = rotationHistory(
      { rotation: cloud.runner.definition(execution.stateMachine) as never, wave: cloud.runner.definition(waveMachine) as never },
      { services: 5, batchSize: config.policy.batchSize, batchesPerWave: batchesPerWave(config.policy.maxRolloutChecks), canaryServices: 1, intermediate: true, looks: canaryLooks },
    );
    expect(countLocalLogEvents(execution.history, new Set(['RenewWave', 'VerifyWave']))).toBe(computed.rotation);
    expect(countLocalLogEvents(execution.children[1]!.history)).toBe(computed.waves.find((wave) => wave.step === 'verify')!.events);

    // The bundles' EMF lines, read as CloudWatch reads them: the renewals and verdicts the dashboard
    // shows, each under exactly the dimensions its panel asks for (else the panel shows nothing).
    const emf = emfOf(cloud.logLines().slice(linesBefore));
    const sum = (name: string, where: Record<string, string> = {}) =>
      emf.filter((document) => name in document.metrics && Object.entries(where).every(([key, value]) => document.dimensions[key] === value)).reduce((total, document) => total + document.metrics[name]!, 0);
    const shown = metricsOf(DASHBOARD).filter((metric): metric is CertflowMetric => metric.source === 'certflow');
    for (const name of [Metrics.RenewalsSucceeded, Metrics.RenewalsFailed, Metrics.VerificationVerdicts, Metrics.VerificationsRefused]) {
      const panel = shown.find((metric) => metric.metricName === name)!;
      const documents: Emf[] = emf.filter((document) => name in document.metrics);
      expect(documents.length).toBeGreaterThan(0);
      for (const document of documents) {
        expect(Object.keys(document.dimensions).sort()).toEqual([Metrics.ServiceDimension, ...Object.keys(panel.dimensions)].sort());
        expect(document.dimensions[Metrics.ClusterDimension]).toBe(config.vault.clusterId);
      }
    }
    expect(sum(Metrics.RenewalsSucceeded)).toBe(5);
    expect(sum(Metrics.RenewalsFailed)).toBe(0);
    expect(sum(Metrics.VerificationsRefused)).toBe(0);
    const verdicts = new Set(emf.filter((document) => Metrics.VerificationVerdicts in document.metrics).map((document) => document.dimensions[Metrics.VerdictDimension]));
    expect([...verdicts]).toEqual(['Valid']);
    expect(sum(Metrics.VerificationVerdicts, { [Metrics.VerdictDimension]: 'Valid' })).toBe(handshakesOfTheRun);
    expect(handshakesOfTheRun).toBeGreaterThanOrEqual(5);
  });

  it('renews nothing when nothing is due, and still verifies and releases the lock', async () => {
    const before = await snapshot(cloud, fleet.seed);

    const execution = await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'schedule' });

    expect(execution.status).toBe('SUCCEEDED');
    expect(await snapshot(cloud, fleet.seed)).toEqual(before);
    const again = await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'schedule' });
    expect(again.status).toBe('SUCCEEDED');
  });

  it('lets one of two rotations started together run; the other ends AlreadyRunning', async () => {
    const machine = cloud.runner.find('RotationWorkflow');
    const [first, second] = await Promise.all([
      cloud.runner.run(machine, { trigger: 'cli', forceIntermediate: true }),
      cloud.runner.run(machine, { trigger: 'cli', forceIntermediate: true }),
    ]);

    const outcomes = [first, second].map((execution) => (execution.output as { outcome?: string } | undefined)?.outcome ?? (execution.status === 'SUCCEEDED' ? 'Succeeded' : execution.status));
    expect(outcomes.sort()).toEqual(['AlreadyRunning', 'Succeeded'].sort());
    expect([first, second].every((execution) => execution.status === 'SUCCEEDED')).toBe(true);
    expect(await trustBreaks(cloud, fleet.seed)).toEqual([]);
  });

  it('refuses a malformed request before taking the lock or changing anything', async () => {
    const before = await snapshot(cloud, fleet.seed);
    const execution = await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'cli', services: 'backend' });
    expect(execution.status).toBe('FAILED');
    expect(await snapshot(cloud, fleet.seed)).toEqual(before);
    const next = await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'schedule' });
    expect(next.status).toBe('SUCCEEDED');
  });

  it('keeps shares, tokens and private keys out of every payload, event and log line', async () => {
    const keysOf = () => fleet.seed.services.map((service) => Buffer.from((cloud.sandbox.kubernetes.store.get('secrets', { namespace: service.namespace, name: service.secretName }) as { data: Record<string, string> }).data['tls.key']!, 'base64').toString('utf8'));
    // Only to check the ledger below: the needles themselves are collected after the run.
    const keysBefore = keysOf();
    const execution = await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'cli', forceIntermediate: true });
    // Collected after the run: the keys it issued and the ones it replaced, the tokens it logged in with.
    const needles = await secretNeedlesOfTheRun(cloud);
    const kinds = new Set(cloud.sandbox.secretLedger.secrets().map((secret) => secret.kind));
    expect([...kinds].sort()).toEqual(['cluster-token', 'private-key', 'vault-token']);
    const keysNow = keysOf();
    const ledgerKeys = cloud.sandbox.secretLedger.secrets().filter((secret) => secret.kind === 'private-key').map((secret) => secret.value);
    // The run replaced every key; the ledger holds both the keys it left and the ones it replaced.
    expect(keysNow.filter((key) => keysBefore.includes(key))).toEqual([]);
    for (const key of [...keysBefore, ...keysNow]) expect(ledgerKeys).toContain(key);
    expect(needles).toContain(fleet.pki.rootToken);
    const haystack = [JSON.stringify(execution.history), JSON.stringify(execution.children.map((child) => [child.history, child.output])), JSON.stringify(cloud.sandbox.eventBridge.events()), cloud.logLines().join('\n')].join('\n');
    expect(execution.status).toBe('SUCCEEDED');
    expect(leaks(haystack, needles)).toEqual([]);
    expect(haystack).not.toMatch(/BEGIN (EC |RSA )?PRIVATE KEY/);
  });
});

it('loads the synthesized template once per run', () => {
  expect(loadTemplate().Resources).toBeDefined();
});
