import { PutItemCommand, GetItemCommand, QueryCommand, type DynamoDBClient, type AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import type { Ledger, LedgerRecord } from '../../ports/ledger';
import { TargetSchema, type Target } from '../../contracts/targets';
import { AwsUnavailableError, InvalidInputError } from '../../contracts/errors';

/**
 * The ledger in the lock/ledger table: `pk = run#<runId>`, `sk = batch#<id>` for the manifest
 * (targets as JSON: names only, no certificate bodies) and `sk = log#<entry>` for the records.
 * Records are immutable: a retried step writes the same key again with the same content.
 */
const pkOf = (runId: string) => `run#${runId}`;

export class DynamoDbLedger implements Ledger {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async putBatch(runId: string, batchId: string, targets: Target[]): Promise<void> {
    await this.send('PutItem', () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { pk: { S: pkOf(runId) }, sk: { S: `batch#${batchId}` }, targets: { S: JSON.stringify(targets) }, count: { N: String(targets.length) } },
        }),
      ),
    );
  }

  async getBatch(runId: string, batchId: string): Promise<Target[]> {
    const result = await this.send('GetItem', () =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: pkOf(runId) }, sk: { S: `batch#${batchId}` } }, ConsistentRead: true })),
    );
    const text = result.Item?.targets?.S;
    if (!text) throw new InvalidInputError(`run ${runId} has no batch ${batchId} in the ledger`);
    return z.array(TargetSchema).parse(JSON.parse(text));
  }

  async record(record: LedgerRecord): Promise<void> {
    await this.send('PutItem', () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { pk: { S: pkOf(record.runId) }, sk: { S: `log#${record.entry}` }, at: { S: record.at }, fields: { S: JSON.stringify(record.fields) } },
        }),
      ),
    );
  }

  async records(runId: string): Promise<LedgerRecord[]> {
    const items: Record<string, AttributeValue>[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.send('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :log)',
            ExpressionAttributeValues: { ':pk': { S: pkOf(runId) }, ':log': { S: 'log#' } },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items.map((item) => ({
      runId,
      entry: (item.sk?.S ?? '').slice('log#'.length),
      at: item.at?.S ?? '',
      fields: JSON.parse(item.fields?.S ?? '{}') as Record<string, unknown>,
    }));
  }

  private async send<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      throw new AwsUnavailableError(`DynamoDB ${operation} on ${this.tableName} failed: ${(error as Error).name}`, { cause: error });
    }
  }
}
