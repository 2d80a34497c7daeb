import NodeVault = require('node-vault');
import { X509Certificate } from 'node:crypto';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { SandboxPki } from '../../sandbox/compose/pki-setup';
import type { LocalExecution } from '../../sandbox/runner/local-runner';
import { Metrics } from '../../functions/contracts/functions';
import type { ExpiryReportOutput } from '../../functions/contracts/expiry';
import { fanoutDepsOf, startFleetCloud } from '../support/local-cloud-fixture';

/**
 * The ExpirySweep state machine, synthesized, run locally against the seed fleet (one sandbox,
 * two runs). The oracles are independent of the sweep: the certificates' own notAfter as Node
 * reads it, the alarms as the template declares them evaluated on the EMF the functions wrote,
 * the bytes of every Secret and what Vault's API lists before and after.
 */
jest.setTimeout(60_000);

const DAY_MS = 86_400_000;

interface Emf {
  dimensions: Record<string, string>;
  metrics: Record<string, number>;
}

/** The EMF documents among the handlers' log lines (CloudWatch's own reading: `_aws.CloudWatchMetrics`). */
function emfOf(lines: readonly string[]): Emf[] {
  const documents: Emf[] = [];
  for (const line of lines) {
    if (!line.includes('"_aws"')) continue;
    const parsed = JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };
    for (const directive of parsed._aws.CloudWatchMetrics) {
      const dimensions = Object.fromEntries(directive.Dimensions.flat().map((name) => [name, String(parsed[name])]));
      documents.push({ dimensions, metrics: Object.fromEntries(directive.Metrics.map((metric) => [metric.Name, Number(parsed[metric.Name])])) });
    }
  }
  return documents;
}

interface AlarmResource {
  AlarmName: string;
  MetricName: string;
  Dimensions: Array<{ Name: string; Value: string }>;
  Threshold: number;
  ComparisonOperator: string;
}

/** The template's alarm of that name (its metric, dimensions, threshold and operator as CloudFormation gets them). */
function alarmNamed(cloud: LocalCloud, suffix: string): AlarmResource {
  const found = Object.values(cloud.template.Resources as unknown as Record<string, { Type: string; Properties: AlarmResource }>).find(
    (resource) => resource.Type === 'AWS::CloudWatch::Alarm' && String(resource.Properties.AlarmName).endsWith(`-${suffix}`),
  );
  if (!found) throw new Error(`no alarm ${suffix} in the template`);
  return found.Properties;
}

/** Whether the alarm would be in ALARM on the values the functions emitted for its exact metric (name and every dimension). */
function breaches(alarm: AlarmResource, documents: readonly Emf[]): boolean {
  const values = documents
    .filter((document) => alarm.MetricName in document.metrics)
    .filter((document) => Object.keys(document.dimensions).length === alarm.Dimensions.length && alarm.Dimensions.every((dimension) => document.dimensions[dimension.Name] === dimension.Value))
    .map((document) => document.metrics[alarm.MetricName]!);
  if (values.length === 0) throw new Error(`nothing was emitted for ${alarm.AlarmName}'s metric ${alarm.MetricName}`);
  const compare: Record<string, (value: number) => boolean> = {
    LessThanOrEqualToThreshold: (value) => value <= alarm.Threshold,
    GreaterThanOrEqualToThreshold: (value) => value >= alarm.Threshold,
  };
  return values.some(compare[alarm.ComparisonOperator]!);
}

describe('the expiry sweep on the seed fleet', () => {
  let cloud: LocalCloud;
  let pki: SandboxPki;
  let vault: NodeVault.client;
  let clean: { execution: LocalExecution; report: ExpiryReportOutput; emf: Emf[] };
  let swept: { execution: LocalExecution; report: ExpiryReportOutput; emf: Emf[] };
  let before: string;
  let servedBefore: string;
  let sixDayLeaf: X509Certificate;
  let shortIntermediate: X509Certificate;

  async function sweep() {
    const linesBefore = cloud.logLines().length;
    const execution = await cloud.runner.run(cloud.runner.find('ExpiryWorkflow'), { trigger: 'test' });
    return { execution, report: execution.output as ExpiryReportOutput, emf: emfOf(cloud.logLines().slice(linesBefore)) };
  }

  /** Every Secret's bytes and what Vault's API says of its issuers, default and stored certificates. */
  async function state(): Promise<string> {
    const secrets = cloud.sandbox.kubernetes.store.list('secrets').map((secret) => [secret.metadata?.namespace, secret.metadata?.name, secret.metadata?.resourceVersion, secret.data]);
    const deployments = cloud.sandbox.kubernetes.store.list('deployments').map((deployment) => [deployment.metadata?.name, deployment.metadata?.resourceVersion]);
    const mounts: unknown[] = [];
    for (const mount of [cloud.sandbox.config.vault.rootMount, cloud.sandbox.config.vault.intermediateMount]) {
      const ids = ((await vault.list(`${mount}/issuers`)) as { data: { keys: string[] } }).data.keys;
      const issuers = await Promise.all(ids.map(async (id) => ((await vault.read(`${mount}/issuer/${id}`)) as { data: unknown }).data));
      const certs = ((await vault.list(`${mount}/certs`).catch(() => ({ data: { keys: [] } }))) as { data: { keys: string[] } }).data.keys;
      const revoked = ((await vault.list(`${mount}/certs/revoked`).catch(() => ({ data: { keys: [] } }))) as { data: { keys: string[] } }).data.keys;
      mounts.push({ mount, issuers, config: ((await vault.read(`${mount}/config/issuers`)) as { data: unknown }).data, certs, revoked });
    }
    return JSON.stringify({ secrets, deployments, mounts });
  }

  beforeAll(async () => {
    ({ cloud, pki } = await startFleetCloud());
    vault = NodeVault({ endpoint: cloud.sandbox.vault.nodes[0]!.url, token: pki.rootToken });
    clean = await sweep();

    // backend's Secret gets a leaf with 6 days and a quarter left; its workload is not restarted,
    // so its endpoint keeps serving the certificate it loaded: stale.
    const { intermediateMount, rootMount, role } = cloud.sandbox.config.vault;
    const deps = await fanoutDepsOf(cloud);
    const cluster = deps.cluster('primary');
    const secret = (await cluster.readSecret('econ-graph', 'backend-tls'))!;
    servedBefore = new X509Certificate(secret.data['tls.crt']!).serialNumber;
    // Issued three days back-dated (the role's not_before_duration, as Vault offers it), so it
    // crosses its 7-day threshold now rather than being born inside that window.
    const roleBefore = ((await vault.read(`${intermediateMount}/roles/${role}`)) as { data: Record<string, unknown> }).data;
    await vault.write(`${intermediateMount}/roles/${role}`, { ...roleBefore, not_before_duration: '72h' });
    const issued = (await vault.write(`${intermediateMount}/issue/${role}`, { common_name: 'backend.econ-graph.svc', ttl: '150h', key_type: 'ec', key_bits: 256 })) as {
      data: { certificate: string; private_key: string; issuing_ca: string; ca_chain: string[] };
    };
    sixDayLeaf = new X509Certificate(issued.data.certificate);
    await vault.write(`${intermediateMount}/roles/${role}`, roleBefore);
    await cluster.writeSecret({ ...secret, data: { ...secret.data, 'tls.crt': Buffer.from(`${issued.data.certificate}\n${issued.data.issuing_ca}\n`), 'tls.key': Buffer.from(issued.data.private_key) } }, secret);

    // An intermediate with 100 days left, imported beside the active one (not default): it can
    // sign, so the 180-day intermediate threshold applies to it.
    const csr = (await vault.write(`${intermediateMount}/issuers/generate/intermediate/internal`, { common_name: 'EconGraph Short Intermediate', key_type: 'ec', key_bits: 256 })) as { data: { csr: string } };
    const signed = (await vault.write(`${rootMount}/root/sign-intermediate`, { csr: csr.data.csr, common_name: 'EconGraph Short Intermediate', ttl: '2400h' })) as { data: { certificate: string; issuing_ca: string } };
    await vault.write(`${intermediateMount}/issuers/import/bundle`, { pem_bundle: `${signed.data.certificate}\n${signed.data.issuing_ca}` });
    shortIntermediate = new X509Certificate(signed.data.certificate);

    before = await state();
    swept = await sweep();
  });
  afterAll(async () => cloud?.sandbox.close());

  it('finds the freshly seeded fleet healthy, with no alarm threshold met', () => {
    expect(clean.execution.status).toBe('SUCCEEDED');
    expect(clean.report.unhealthy).toEqual([]);
    expect(clean.report.breaches).toEqual([]);
    // 30-day leaves are born inside their 30-day window: no event announces each renewal.
    expect(clean.report.events).toEqual([]);
    expect(breaches(alarmNamed(cloud, 'LeafExpiring'), clean.emf)).toBe(false);
    expect(breaches(alarmNamed(cloud, 'TargetsUnhealthy'), clean.emf)).toBe(false);
  });

  it('publishes days to expiry per target and per issuer, matching each certificate’s notAfter', () => {
    const stored = swept.emf.find((document) => document.dimensions[Metrics.TargetDimension] === 'primary/econ-graph/backend-tls' && document.dimensions[Metrics.CopyDimension] === 'stored')!;
    const expected = (Date.parse(sixDayLeaf.validTo) - swept.execution.startedAt.getTime()) / DAY_MS;
    expect(stored.metrics[Metrics.TargetDaysToExpiry]).toBeCloseTo(expected, 1);
    const issuerDays = swept.emf.filter((document) => Metrics.IssuerDaysToExpiry in document.metrics).map((document) => document.dimensions[Metrics.IssuerRoleDimension]);
    expect(new Set(issuerDays)).toEqual(new Set(['root', 'intermediate']));
  });

  it('raises the leaf alarm for a leaf at 6 days, and emits Certificate Expiring at its 7-day threshold', () => {
    expect(breaches(alarmNamed(cloud, 'LeafExpiring'), swept.emf)).toBe(true);
    expect(swept.report.breaches).toContainEqual(expect.objectContaining({ alarm: 'LeafExpiring', id: 'primary/econ-graph/backend-tls' }));
    const events = cloud.sandbox.eventBridge.events({ detailType: 'Certificate Expiring' }).filter((event) => event.detail.runId === swept.execution.name);
    expect(events.map((event) => [event.detail.id, event.detail.copy, event.detail.thresholdDays])).toEqual([['primary/econ-graph/backend-tls', 'stored', 7]]);
    expect(events[0]!.detail.serial).toBe(sixDayLeaf.serialNumber.toLowerCase().match(/../g)!.join(':'));
  });

  it('raises the intermediate alarm for a signing intermediate within its 180-day threshold', () => {
    expect(breaches(alarmNamed(cloud, 'IntermediateExpiring'), swept.emf)).toBe(true);
    expect(breaches(alarmNamed(cloud, 'IntermediateExpiring'), clean.emf)).toBe(false);
    const serial = shortIntermediate.serialNumber.toLowerCase().match(/../g)!.join(':');
    expect(swept.report.breaches.filter((breach) => breach.alarm === 'IntermediateExpiring').map((breach) => breach.detail)).toEqual([expect.stringContaining(serial)]);
  });

  it('flags the target that serves another certificate than it stores as unhealthy', () => {
    expect(swept.report.unhealthy.map((entry) => [entry.id, entry.health])).toEqual([['primary/econ-graph/backend-tls', 'StaleServedCertificate']]);
    expect(swept.report.unhealthy[0]!.detail).toContain(servedBefore.toLowerCase().match(/../g)!.join(':'));
    expect(breaches(alarmNamed(cloud, 'TargetsUnhealthy'), swept.emf)).toBe(true);
  });

  it('changes nothing: every Secret’s bytes and Vault’s issuers, default and certificates are as before', async () => {
    expect(swept.execution.status).toBe('SUCCEEDED');
    expect(await state()).toBe(before);
  });
});
