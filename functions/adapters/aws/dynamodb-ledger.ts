import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod';
import type { Ledger, LedgerRecord } from '../../ports/ledger';
import { TargetSchema, type Target } from '../../contracts/targets';
import { WaveManifest, waveManifestKey, type WaveGroup } from '../../contracts/rotation-payloads';
import { InvalidInputError, LedgerConflictError } from '../../contracts/errors';
import { awsCallError } from './aws-call-error';

/**
 * The ledger in the lock/ledger table: `pk = run#<runId>`, `sk = batch#<id>` for the manifest
 * (targets as JSON: names only, no certificate bodies), `sk = wave#<group>#<index>` for each wave's
 * batch ids, and `sk = log#<entry>` for the records.
 *
 * Records are immutable: the put is conditional on the key being new. A retried step that writes
 * the same fields again finds its own record and goes on (the first `at` stands); different
 * fields under the same entry are a LedgerConflictError. The manifest is the plan's, rewritten
 * by a retried plan, so its put is not conditional.
 *
 * Errors are typed as the SDK classifies them (awsCallError): throttling, 5xx and no answer are
 * retryable AwsUnavailableErrors; AccessDenied, ValidationException or a missing table are
 * ConfigErrors that a retry cannot fix. Items are read as untrusted input.
 */
const pkOf = (runId: string) => `run#${runId}`;
const RECORD_PREFIX = 'log#';

const RecordItemSchema = z.object({ sk: z.string().startsWith(RECORD_PREFIX), at: z.string(), fields: z.string() });

export interface DynamoDbLedgerOptions {
  /** Items per Query page. @default DynamoDB's (1 MB of items) */
  queryPageSize?: number;
}

export class DynamoDbLedger implements Ledger {
  private readonly documents: DynamoDBDocumentClient;

  /**
   * @param client built once per cold start (dynamoDbClientFromEnv) and injected; the document
   *   client over it does the marshalling.
   */
  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly options: DynamoDbLedgerOptions = {},
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async putBatch(runId: string, batchId: string, targets: Target[]): Promise<void> {
    await this.documents
      .send(new PutCommand({ TableName: this.tableName, Item: { pk: pkOf(runId), sk: `batch#${batchId}`, targets: JSON.stringify(targets), count: targets.length } }))
      .catch((error: unknown) => this.fail('PutItem', error));
  }

  async getBatch(runId: string, batchId: string): Promise<Target[]> {
    const result = await this.documents
      .send(new GetCommand({ TableName: this.tableName, Key: { pk: pkOf(runId), sk: `batch#${batchId}` }, ConsistentRead: true }))
      .catch((error: unknown) => this.fail('GetItem', error));
    const text: unknown = result.Item?.targets;
    if (typeof text !== 'string' || text === '') throw new InvalidInputError(`run ${runId} has no batch ${batchId} in the ledger`, { details: { runId, batchId } });
    const parsed = z.array(TargetSchema).safeParse(parseJson(text));
    if (!parsed.success) throw new InvalidInputError(`the ledger's batch ${batchId} of run ${runId} is not a list of targets`, { details: { runId, batchId } });
    return parsed.data;
  }

  /**
   * The wave's ids as a list of strings (`L` of `S`), in order, the shape the RotationWave's GetItem
   * reads; rewritten by a retried plan, as the batches are.
   */
  async putWave(runId: string, group: WaveGroup, index: number, batchIds: readonly string[]): Promise<void> {
    await this.documents
      .send(new PutCommand({ TableName: this.tableName, Item: { pk: pkOf(runId), sk: waveManifestKey(group, index), [WaveManifest.attribute]: [...batchIds] } }))
      .catch((error: unknown) => this.fail('PutItem', error));
  }

  async record(record: LedgerRecord): Promise<void> {
    const fields = JSON.stringify(record.fields);
    const key = { pk: pkOf(record.runId), sk: `${RECORD_PREFIX}${record.entry}` };
    try {
      await this.documents.send(
        new PutCommand({ TableName: this.tableName, Item: { ...key, at: record.at, fields }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException')) this.fail('PutItem', error);
      const existing = await this.documents
        .send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))
        .catch((readError: unknown) => this.fail('GetItem', readError));
      const stored: unknown = existing.Item?.fields;
      if (typeof stored === 'string' && isDeepStrictEqual(parseJson(stored), parseJson(fields))) return;
      throw new LedgerConflictError(`run ${record.runId} already has a different ledger record ${record.entry}; records are never rewritten`, {
        details: { runId: record.runId, entry: record.entry },
      });
    }
  }

  async records(runId: string): Promise<LedgerRecord[]> {
    const records: LedgerRecord[] = [];
    const pages = paginateQuery(
      { client: this.documents, ...(this.options.queryPageSize !== undefined && { pageSize: this.options.queryPageSize }) },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :log)',
        ExpressionAttributeValues: { ':pk': pkOf(runId), ':log': RECORD_PREFIX },
        ConsistentRead: true,
      },
    );
    try {
      for await (const page of pages) {
        for (const item of page.Items ?? []) records.push(this.toRecord(runId, item));
      }
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      this.fail('Query', error);
    }
    return records;
  }

  private toRecord(runId: string, item: Record<string, unknown>): LedgerRecord {
    const parsed = RecordItemSchema.safeParse(item);
    const fields = parsed.success ? parseJson(parsed.data.fields) : undefined;
    if (!parsed.success || typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new InvalidInputError(`run ${runId} has a malformed ledger record`, { details: { runId, sk: typeof item.sk === 'string' ? item.sk : undefined } });
    }
    return { runId, entry: parsed.data.sk.slice(RECORD_PREFIX.length), at: parsed.data.at, fields: fields as Record<string, unknown> };
  }

  private fail(operation: string, error: unknown): never {
    throw awsCallError(`DynamoDB ${operation} on ${this.tableName}`, error, { table: this.tableName });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
