import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, type KeySchemaElement, type AttributeDefinition } from '@aws-sdk/client-dynamodb';

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
  endpoint: string;
  /** Creates a table with the key schema the template declares for it. */
  createTable(name: string, keySchema: KeySchemaElement[], attributes: AttributeDefinition[]): Promise<void>;
  close(): Promise<void>;
}

export async function startDynamoDb(options: { host?: string; port?: number; region: string; credentials: { accessKeyId: string; secretAccessKey: string } }): Promise<DynamoDbSandbox> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const endpoint = `http://${address}:${port}`;
  const admin = new DynamoDBClient({ region: options.region, endpoint, credentials: options.credentials });
  return {
    endpoint,
    async createTable(name, keySchema, attributes) {
      await admin.send(
        new CreateTableCommand({ TableName: name, KeySchema: keySchema, AttributeDefinitions: attributes, BillingMode: 'PAY_PER_REQUEST' }),
      );
    },
    async close() {
      admin.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
