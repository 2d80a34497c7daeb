import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { ShareStore, WrappedShare } from '../../ports/share-store';
import { AwsUnavailableError, ShareStoreError, SharesAlreadyExistError } from '../../contracts/errors';

/**
 * The KMS-wrapped unseal shares in DynamoDB. Items: a manifest `{pk: vault#<cluster>, sk: manifest}`
 * recording how many shares were stored, and one `{pk, sk: share#<index>}` per share holding the
 * KMS ciphertext (binary) and the encryption context it was wrapped with. The table itself is
 * encrypted with a customer-managed key and only the unseal function may read it (lib/).
 *
 * The manifest is written first with a condition, so two `vault-init`s can never both store
 * shares: the second loses the conditional write and nothing of it is kept.
 */
const MANIFEST = 'manifest';
const pkOf = (clusterId: string) => `vault#${clusterId}`;
const skOf = (index: number) => `share#${String(index).padStart(3, '0')}`;

export class DynamoDbShareStore implements ShareStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async list(clusterId: string): Promise<WrappedShare[]> {
    const items: Record<string, AttributeValue>[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.send('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: pkOf(clusterId) } },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);

    const manifest = items.find((item) => item.sk?.S === MANIFEST);
    const shares = items.filter((item) => item.sk?.S?.startsWith('share#')).map((item) => this.parseShare(clusterId, item));
    if (!manifest) {
      if (shares.length > 0) throw new ShareStoreError(`cluster ${clusterId}: shares are stored without a manifest`);
      return [];
    }
    const expected = Number(manifest.count?.N);
    if (shares.length !== expected) {
      // A vault-init that died between the manifest and the last share: refuse to guess.
      throw new ShareStoreError(`cluster ${clusterId}: the manifest lists ${expected} shares but ${shares.length} are stored`, {
        details: { clusterId, expected, stored: shares.length },
      });
    }
    return shares;
  }

  async putAllIfAbsent(shares: WrappedShare[]): Promise<void> {
    const clusterId = shares[0]?.clusterId;
    if (!clusterId || shares.some((share) => share.clusterId !== clusterId)) {
      throw new ShareStoreError('putAllIfAbsent needs a non-empty set of shares of one cluster');
    }
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { pk: { S: pkOf(clusterId) }, sk: { S: MANIFEST }, count: { N: String(shares.length) } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
        throw new SharesAlreadyExistError(`shares for cluster ${clusterId} already exist; they are never overwritten`, {
          details: { clusterId },
        });
      }
      throw new AwsUnavailableError(`storing the share manifest failed: ${(error as Error).name}`, { cause: error });
    }
    const written: number[] = [];
    try {
      for (const share of shares) {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              pk: { S: pkOf(clusterId) },
              sk: { S: skOf(share.index) },
              index: { N: String(share.index) },
              ciphertext: { B: share.ciphertext },
              context: { M: Object.fromEntries(Object.entries(share.context).map(([k, v]) => [k, { S: v }])) },
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        written.push(share.index);
      }
    } catch (error) {
      // Leave nothing half-written: remove what this call stored, manifest last.
      for (const index of written) await this.deleteQuietly(clusterId, skOf(index));
      await this.deleteQuietly(clusterId, MANIFEST);
      throw new AwsUnavailableError(`storing the shares failed; nothing was kept: ${(error as Error).name}`, { cause: error });
    }
  }

  private parseShare(clusterId: string, item: Record<string, AttributeValue>): WrappedShare {
    const index = Number(item.index?.N);
    const ciphertext = item.ciphertext?.B;
    const contextMap = item.context?.M;
    if (!Number.isInteger(index) || !ciphertext || !contextMap) {
      throw new ShareStoreError(`cluster ${clusterId}: item ${item.sk?.S ?? '?'} is not a well-formed wrapped share`);
    }
    const context = Object.fromEntries(Object.entries(contextMap).map(([key, value]) => [key, value.S ?? '']));
    return { clusterId, index, ciphertext, context };
  }

  private async deleteQuietly(clusterId: string, sk: string): Promise<void> {
    await this.client
      .send(new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: pkOf(clusterId) }, sk: { S: sk } } }))
      .catch(() => undefined);
  }

  private async send<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new AwsUnavailableError(`DynamoDB ${operation} on ${this.tableName} failed: ${(error as Error).name}`, { cause: error });
    }
  }
}
