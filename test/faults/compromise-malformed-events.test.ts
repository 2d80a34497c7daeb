import * as fc from 'fast-check';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { SANDBOX_ACCOUNT, SANDBOX_REGION } from '../../sandbox/compose/sandbox';
import { startFaultFleet } from '../support/fault-matrix';
import { snapshot } from '../support/invariants';

/**
 * 1,000 generated malformed `Compromise Reported` events on the sandbox: every one through the
 * response's first step (the validate function's bundle, as Lambda runs it), and 50 of them
 * through the whole synthesized CompromiseResponse state machine. Every one is rejected with a
 * reason, and nothing changes: no Secret, no issuer, no lock, no ledger record, no revocation.
 * (2,000 more are checked against the pure gate in test/unit/compromise-gate.test.ts.)
 */
jest.setTimeout(240_000);

const envelope = (detail: unknown, overrides: Record<string, unknown> = {}) => ({
  version: '0',
  id: 'e-malformed',
  'detail-type': 'Compromise Reported',
  source: 'certflow.security',
  account: SANDBOX_ACCOUNT,
  time: new Date().toISOString(),
  region: SANDBOX_REGION,
  resources: [],
  detail,
  ...overrides,
});

const badDetails = fc.oneof(
  fc.anything(),
  fc.record({ scope: fc.anything(), reason: fc.constant('keyCompromise'), reportedBy: fc.constant('x') }),
  fc.record({ scope: fc.constant({ kind: 'services', services: ['backend'] }), reason: fc.string().filter((s) => s !== 'keyCompromise' && s.length > 0 && !/^[a-zA-Z]+$/.test(s)), reportedBy: fc.constant('x') }),
  fc.record({ scope: fc.record({ kind: fc.constant('serials'), serials: fc.array(fc.string({ minLength: 1 }).filter((s) => !/^[0-9a-f:]+$/i.test(s)), { minLength: 1, maxLength: 3 }) }), reason: fc.constant('keyCompromise'), reportedBy: fc.constant('x') }),
  fc.record({ scope: fc.record({ kind: fc.constant('intermediate'), issuerId: fc.string().filter((s) => !/^[0-9a-f-]{36}$/.test(s)) }), reason: fc.constant('cACompromise'), reportedBy: fc.constant('x') }),
  fc.record({ scope: fc.constant({ kind: 'services', services: ['backend'] }), reason: fc.constant('keyCompromise') }),
  fc.record({ scope: fc.constant({ kind: 'services', services: ['backend'] }), reason: fc.constant('keyCompromise'), reportedBy: fc.constant('x'), extra: fc.anything() }),
);
const badEvents = fc.oneof(
  { weight: 6, arbitrary: badDetails.map((detail) => envelope(detail)) },
  { weight: 1, arbitrary: fc.string().map((source) => envelope({ scope: { kind: 'services', services: ['backend'] }, reason: 'keyCompromise', reportedBy: 'x' }, { source: `not-${source}` })) },
  { weight: 1, arbitrary: fc.string().map((text) => envelope(`{${text}`)) },
);

it('rejects 1,000 malformed events and changes nothing in the sandbox', async () => {
  const { cloud, fleet } = await startFaultFleet();
  try {
    const machine = cloud.runner.find('CompromiseWorkflow');
    const table = cloud.runner.functionEnv('ReleaseStaleLock').CERTFLOW_LEDGER_TABLE!;
    const items = async () => (await cloud.sandbox.dynamoDbClient.send(new ScanCommand({ TableName: table }))).Items?.length ?? 0;
    const before = await snapshot(cloud, fleet.seed);
    const itemsBefore = await items();
    const samples = fc.sample(badEvents, { numRuns: 1000, seed: 20261128 });
    const verdicts = await Promise.all(samples.map((event) => cloud.runner.invoke('CompromiseValidate', event) as Promise<{ valid: boolean; reason?: string }>));
    const outcomes: string[] = [];

    for (const event of samples.slice(0, 50)) {
      const execution = await cloud.runner.run(machine, event as never);
      outcomes.push(`${execution.status}:${(execution.output as { outcome?: string } | undefined)?.outcome ?? ''}`);
    }

    expect(samples).toHaveLength(1000);
    expect(verdicts.filter((verdict) => verdict.valid || !verdict.reason)).toEqual([]);
    expect(outcomes.filter((outcome) => outcome !== 'SUCCEEDED:Rejected')).toEqual([]);
    const rejected = cloud.sandbox.eventBridge.events().filter((event) => event.detailType === 'Compromise Rejected');
    expect(rejected).toHaveLength(50);
    expect(rejected.every((event) => typeof event.detail.reason === 'string' && (event.detail.reason as string).length > 0)).toBe(true);
    expect(await snapshot(cloud, fleet.seed)).toEqual(before);
    expect(await items()).toBe(itemsBefore);
  } finally {
    await cloud.sandbox.close();
  }
});
