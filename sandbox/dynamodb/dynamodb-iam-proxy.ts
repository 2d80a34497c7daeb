import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallAuthorization, CallAuthorizer } from '../aws-json/aws-json-server';
import { AwsJsonError } from '../aws-json/aws-json-error';
import { accessKeyIdFromAuthorization } from '../aws-json/sigv4-credential';

/**
 * A thin IAM gate in front of dynalite (which authorizes nothing): it reads the caller's access
 * key and the call's table from each request, asks the sandbox's authorizer, and then forwards
 * the request unchanged, or answers AccessDeniedException in DynamoDB's JSON 1.0 error form.
 */
export interface DynamoDbIamProxy {
  endpoint: string;
  setAuthorizer(authorizer: CallAuthorizer | undefined): void;
  /** The table is encrypted with this customer managed KMS key (its SSESpecification). */
  setTableKey(table: string, keyArn: string): void;
  close(): Promise<void>;
}

// DynamoDB's request limit is 16 MB for batch writes; this only stops a runaway test.
const maxBodyBytes = 16 * 1024 * 1024;

export async function startDynamoDbIamProxy(options: { upstream: string; host: string; port: number; region: string; accountId: string }): Promise<DynamoDbIamProxy> {
  const upstream = new URL(options.upstream);
  let authorizer: CallAuthorizer | undefined;
  const tableArn = (name: string) => `arn:aws:dynamodb:${options.region}:${options.accountId}:table/${name}`;
  const tableKeys = new Map<string, string>();
  /**
   * A table encrypted with a customer managed key is usable only while DynamoDB may decrypt its
   * table key for the caller: DynamoDB calls kms:Decrypt on the caller's behalf, so the caller's
   * IAM policy and the key policy decide, with `kms:ViaService` set to DynamoDB and the table's
   * encryption context (AWS: "How Amazon DynamoDB uses AWS KMS"). Checked on every call here;
   * DynamoDB caches the table key for a few minutes, which changes how often, not whether.
   */
  const keyAuthorizations = (requests: CallAuthorization[]): CallAuthorization[] =>
    requests.flatMap((request) => {
      const table = request.resource.slice(request.resource.indexOf(':table/') + ':table/'.length);
      const keyArn = tableKeys.get(table);
      if (!keyArn || !request.resource.includes(':table/')) return [];
      return [
        {
          action: 'kms:Decrypt',
          resource: keyArn,
          context: {
            'kms:ViaService': `dynamodb.${options.region}.amazonaws.com`,
            'kms:CallerAccount': options.accountId,
            'kms:EncryptionContext:aws:dynamodb:tableName': table,
            'kms:EncryptionContext:aws:dynamodb:subscriberId': options.accountId,
            'kms:EncryptionContextKeys': ['aws:dynamodb:tableName', 'aws:dynamodb:subscriberId'],
          },
        },
      ];
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBodyBytes) return sendError(res, new AwsJsonError('ValidationException', 'Request body too large.', 413));
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    if (authorizer) {
      try {
        const requests = authorizations(String(req.headers['x-amz-target'] ?? ''), body, tableArn);
        for (const request of [...requests, ...keyAuthorizations(requests)]) {
          await authorizer(accessKeyIdFromAuthorization(req.headers.authorization), request);
        }
      } catch (error) {
        if (error instanceof AwsJsonError) return sendError(res, error);
        throw error;
      }
    }
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    forwarded.on('error', () => req.socket.destroy());
    forwarded.end(body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${address}:${port}`,
    setAuthorizer(next) {
      authorizer = next;
    },
    setTableKey(table, keyArn) {
      tableKeys.set(table, keyArn);
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * `DynamoDB_20120810.<Operation>` on the table the body names (`TableName`, or every table of a
 * batch's `RequestItems`); a body that is not JSON goes through for dynalite to refuse.
 */
function authorizations(target: string, body: Buffer, tableArn: (name: string) => string): CallAuthorization[] {
  const operation = target.slice(target.indexOf('.') + 1);
  let input: { TableName?: unknown; RequestItems?: Record<string, unknown> };
  try {
    input = JSON.parse(body.toString('utf8') || '{}') as typeof input;
  } catch {
    return [];
  }
  const tables = typeof input.TableName === 'string' ? [input.TableName] : Object.keys(input.RequestItems ?? {});
  const action = `dynamodb:${operation}`;
  return tables.length === 0 ? [{ action, resource: '*' }] : tables.map((table) => ({ action, resource: tableArn(table) }));
}

function sendError(res: ServerResponse, error: AwsJsonError): void {
  // DynamoDB's JSON 1.0 errors carry the shape's namespace; the SDK names the error after the '#'.
  const payload = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${error.type}`, message: error.message });
  res.writeHead(error.status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(payload), 'x-amzn-errortype': error.type });
  res.end(payload);
}
