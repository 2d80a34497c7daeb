import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RotationLock as LockKey } from '../../contracts/rotation-payloads';
import { AwsUnavailableError } from '../../contracts/errors';
import type { RotationLock } from '../../ports/rotation-lock';

/** The lock item the state machine writes with a conditional PutItem (owner = execution ARN). */
export class DynamoDbRotationLock implements RotationLock {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async releaseIfOwnedBy(owner: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: LockKey.pk }, sk: { S: LockKey.sk } },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') return false;
      throw new AwsUnavailableError(`releasing the rotation lock failed: ${(error as Error).name}`, { cause: error });
    }
  }

  async holder(): Promise<{ owner: string; runId: string; acquiredAt?: string } | undefined> {
    const result = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: LockKey.pk }, sk: { S: LockKey.sk } }, ConsistentRead: true }));
    if (!result.Item?.owner?.S) return undefined;
    return { owner: result.Item.owner.S, runId: result.Item.runId?.S ?? '', ...(result.Item.acquiredAt?.S ? { acquiredAt: result.Item.acquiredAt.S } : {}) };
  }
}
