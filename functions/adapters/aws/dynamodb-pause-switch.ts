import { DeleteItemCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PauseKey, PauseRecordSchema, type PausableWorkflow, type PauseRecord, type PauseTarget } from '../../contracts/pause';
import { AwsUnavailableError } from '../../contracts/errors';
import type { PauseSwitch } from '../../ports/pause-switch';

/**
 * The kill switch in the ledger table (contracts/pause.ts). Reads are consistent: a pause written
 * a second ago must hold. An item that does not parse counts as a pause (fail closed): whoever
 * can write the table can already stop the workflows, and a garbled switch must not unseal.
 */
export class DynamoDbPauseSwitch implements PauseSwitch {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async pauseOf(workflow: PausableWorkflow): Promise<PauseRecord | undefined> {
    for (const target of [workflow, 'all'] as const) {
      const record = await this.read(target);
      if (record) return record;
    }
    return undefined;
  }

  async read(target: PauseTarget): Promise<PauseRecord | undefined> {
    let item;
    try {
      item = (await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key(target), ConsistentRead: true }))).Item;
    } catch (error) {
      throw new AwsUnavailableError(`reading the kill switch failed: ${(error as Error).name}`, { cause: error });
    }
    if (!item) return undefined;
    const parsed = PauseRecordSchema.safeParse({ pausedBy: item['pausedBy']?.S, pausedAt: item['pausedAt']?.S, ...(item['reason']?.S ? { reason: item['reason'].S } : {}) });
    return parsed.success ? parsed.data : { pausedBy: 'unknown (unreadable kill-switch item)', pausedAt: 'unknown' };
  }

  /** The operator's side (`certflow pause`). */
  async pause(target: PauseTarget, record: PauseRecord): Promise<void> {
    const item = { ...key(target), pausedBy: { S: record.pausedBy }, pausedAt: { S: record.pausedAt }, ...(record.reason ? { reason: { S: record.reason } } : {}) };
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item })).catch((error: Error) => {
      throw new AwsUnavailableError(`writing the kill switch failed: ${error.name}`, { cause: error });
    });
  }

  /** The operator's side (`certflow resume`). */
  async resume(target: PauseTarget): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(target) })).catch((error: Error) => {
      throw new AwsUnavailableError(`clearing the kill switch failed: ${error.name}`, { cause: error });
    });
  }
}

const key = (target: PauseTarget) => ({ pk: { S: PauseKey.pk }, sk: { S: target } });
