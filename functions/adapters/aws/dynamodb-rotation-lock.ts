import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PendingScopeClaim, RotationLock as LockKey } from '../../contracts/rotation-payloads';
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

  /**
   * Releases the scope claims (PendingScopeClaim) an execution still holds: an aborted or timed-out
   * report that was waiting for approval never reaches its release. Returns the scope keys released.
   */
  async releasePendingClaimsOf(owner: string): Promise<string[]> {
    try {
      const claims = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':pk': { S: PendingScopeClaim.pk }, ':owner': { S: owner } },
          ConsistentRead: true,
        }),
      );
      const released: string[] = [];
      for (const item of claims.Items ?? []) {
        const sk = item.sk?.S;
        if (sk === undefined) continue;
        try {
          await this.client.send(
            new DeleteItemCommand({
              TableName: this.tableName,
              Key: { pk: { S: PendingScopeClaim.pk }, sk: { S: sk } },
              ConditionExpression: '#owner = :owner',
              ExpressionAttributeNames: { '#owner': 'owner' },
              ExpressionAttributeValues: { ':owner': { S: owner } },
            }),
          );
          released.push(sk);
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException')) throw error;
        }
      }
      return released;
    } catch (error) {
      throw new AwsUnavailableError(`releasing the pending scope claims failed: ${(error as Error).name}`, { cause: error });
    }
  }

  async holder(): Promise<{ owner: string; runId: string; acquiredAt?: string } | undefined> {
    const result = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: LockKey.pk }, sk: { S: LockKey.sk } }, ConsistentRead: true }));
    if (!result.Item?.owner?.S) return undefined;
    return { owner: result.Item.owner.S, runId: result.Item.runId?.S ?? '', ...(result.Item.acquiredAt?.S ? { acquiredAt: result.Item.acquiredAt.S } : {}) };
  }
}
