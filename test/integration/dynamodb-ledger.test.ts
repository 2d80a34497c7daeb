import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger';
import { isRetryable } from '../../functions/contracts/errors';
import { startDynamoDb, type DynamoDbSandbox } from '../../sandbox/dynamodb/dynamodb-sandbox';

/** The ledger adapter against dynalite, the sandbox's DynamoDB, over HTTP. */
const region = 'us-east-1';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const table = 'certflow-ledger';

async function failureOf(call: Promise<unknown>): Promise<Error & { retryable?: boolean; details?: Record<string, unknown> }> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (!outcome) throw new Error('expected the call to fail');
  return outcome;
}

describe('the DynamoDB ledger', () => {
  let dynamo: DynamoDbSandbox;
  let client: DynamoDBClient;
  let runNumber = 0;
  const nextRun = () => `run-${(runNumber += 1)}`;

  beforeAll(async () => {
    dynamo = await startDynamoDb({ region, credentials });
    await dynamo.createTable(
      table,
      [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
    );
    client = new DynamoDBClient({ region, credentials, endpoint: dynamo.endpoint, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('reads back every record of a run across query pages, with its fields', async () => {
    const ledger = new DynamoDbLedger(client, table, { queryPageSize: 2 });
    const runId = nextRun();
    for (const entry of ['plan', 'step#Activate', 'batch#0001#renew', 'run']) await ledger.record({ runId, entry, at: '2030-01-01T00:00:00.000Z', fields: { entry, nested: { list: [1, 2] } } });

    const records = await ledger.records(runId);

    expect(records.map((record) => record.entry).sort()).toEqual(['batch#0001#renew', 'plan', 'run', 'step#Activate']);
    expect(records.find((record) => record.entry === 'plan')?.fields).toEqual({ entry: 'plan', nested: { list: [1, 2] } });
  });

  it('keeps the first record when a retried step writes the same fields again', async () => {
    const ledger = new DynamoDbLedger(client, table);
    const runId = nextRun();
    await ledger.record({ runId, entry: 'plan', at: '2030-01-01T00:00:00.000Z', fields: { due: 3 } });

    await ledger.record({ runId, entry: 'plan', at: '2030-01-01T00:05:00.000Z', fields: { due: 3 } });

    expect(await ledger.records(runId)).toEqual([{ runId, entry: 'plan', at: '2030-01-01T00:00:00.000Z', fields: { due: 3 } }]);
  });

  it('refuses to rewrite a record with different fields, and leaves the first one as it was', async () => {
    const ledger = new DynamoDbLedger(client, table);
    const runId = nextRun();
    await ledger.record({ runId, entry: 'run', at: '2030-01-01T00:00:00.000Z', fields: { outcome: 'Succeeded' } });

    const error = await failureOf(ledger.record({ runId, entry: 'run', at: '2030-01-01T00:05:00.000Z', fields: { outcome: 'RolledBack' } }));

    expect(error.name).toBe('LedgerConflictError');
    expect(isRetryable(error)).toBe(false);
    expect(await ledger.records(runId)).toEqual([{ runId, entry: 'run', at: '2030-01-01T00:00:00.000Z', fields: { outcome: 'Succeeded' } }]);
  });

  it('gives a terminal ConfigError for a table that does not exist, not a retryable one', async () => {
    const ledger = new DynamoDbLedger(client, 'no-such-table');

    const error = await failureOf(ledger.record({ runId: nextRun(), entry: 'plan', at: '2030-01-01T00:00:00.000Z', fields: {} }));

    expect(error.name).toBe('ConfigError');
    expect(isRetryable(error)).toBe(false);
    expect(error.details).toMatchObject({ awsError: 'ResourceNotFoundException', table: 'no-such-table' });
  });

  it('gives a terminal ConfigError for a request DynamoDB rejects as invalid', async () => {
    // Table names are at least three characters: DynamoDB answers ValidationException.
    const ledger = new DynamoDbLedger(client, 'x');

    const error = await failureOf(ledger.records(nextRun()));

    expect(error.name).toBe('ConfigError');
    expect(error.details).toMatchObject({ awsError: 'ValidationException' });
  });

  it('refuses a batch manifest that is not a list of targets with InvalidInputError', async () => {
    const ledger = new DynamoDbLedger(client, table);
    const runId = nextRun();
    await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `run#${runId}` }, sk: { S: 'batch#0001' }, targets: { S: '{"not":"a list"}' } } }));

    const error = await failureOf(ledger.getBatch(runId, '0001'));

    expect(error.name).toBe('InvalidInputError');
  });
});
