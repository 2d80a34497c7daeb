import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, type KeySchemaElement, type AttributeDefinition } from '@aws-sdk/client-dynamodb';
import type { CallAuthorizer } from '../aws-json/aws-json-server';
import { startDynamoDbIamProxy } from './dynamodb-iam-proxy';

/**
 * DynamoDB for the sandbox: dynalite, an existing, widely used emulator of the DynamoDB JSON
 * protocol (in memory, LevelDB-backed). Writing our own would prove nothing about DynamoDB's
 * conditional writes that the lock relies on; dynalite implements them as DynamoDB documents.
 * It lacks transactions, so certflow uses none.
 */
// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;

export interface DynamoDbSandbox {
  /** The IAM gate in front of dynalite: what every client uses. */
  endpoint: string;
  /** Enforces IAM on every later call through `endpoint`. */
  setAuthorizer(authorizer: CallAuthorizer | undefined): void;
  /** Creates a table with the key schema the template declares for it. */
  createTable(name: string, keySchema: KeySchemaElement[], attributes: AttributeDefinition[]): Promise<void>;
  /**
   * The table is encrypted with this customer managed key: every later call on it also needs the
   * caller's kms:Decrypt through DynamoDB (dynamodb-iam-proxy.ts).
   */
  setTableKey(table: string, keyArn: string): void;
  close(): Promise<void>;
}

export async function startDynamoDb(options: {
  host?: string;
  port?: number;
  region: string;
  /** @default '000000000000' */
  accountId?: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}): Promise<DynamoDbSandbox> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const upstream = `http://${address}:${port}`;
  const proxy = await startDynamoDbIamProxy({ upstream, host: options.host ?? '127.0.0.1', port: options.port ?? 0, region: options.region, accountId: options.accountId ?? '000000000000' });
  // Tables are created as CloudFormation would, not by a caller: straight to dynalite.
  const admin = new DynamoDBClient({ region: options.region, endpoint: upstream, credentials: options.credentials });
  return {
    endpoint: proxy.endpoint,
    setAuthorizer: proxy.setAuthorizer,
    setTableKey: proxy.setTableKey,
    async createTable(name, keySchema, attributes) {
      await admin.send(
        new CreateTableCommand({ TableName: name, KeySchema: keySchema, AttributeDefinitions: attributes, BillingMode: 'PAY_PER_REQUEST' }),
      );
    },
    async close() {
      admin.destroy();
      await proxy.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
