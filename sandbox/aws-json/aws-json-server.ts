import { closeServer, listenOn, readBoundedBody } from '../http/loopback-server';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsJsonError } from './aws-json-error';
import { FaultPlan } from './fault-plan';
import { accessKeyIdFromAuthorization } from './sigv4-credential';

/** One call as the emulator saw it: for test assertions, so it never holds request payloads. */
export interface CallRecord {
  operation: string;
  accessKeyId?: string;
  /** The key the call resolved to (KMS), when the operation names one. */
  keyId?: string;
  /** The exception the call was answered with, or `ConnectionDropped`. */
  error?: string;
}

/** One IAM decision a call needs: the action, the resource ARN, the service's condition keys. */
export interface CallAuthorization {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

/**
 * Decides whether the caller (by access key id) may make one call; throws the AwsJsonError AWS
 * would answer (AccessDeniedException) when not. Set by the sandbox once it knows the template.
 */
export type CallAuthorizer = (accessKeyId: string | undefined, request: CallAuthorization) => Promise<void>;

export interface OperationContext {
  accessKeyId?: string;
  /** Adds safe-to-record fields (never plaintext) to this call's record. */
  annotate(fields: Pick<CallRecord, 'keyId'>): void;
  /**
   * Authorizes one action on one resource for this call's caller (a no-op until the sandbox sets
   * an authorizer). For operations whose resource is known only inside them (a KMS key named by
   * alias or by its ciphertext).
   */
  authorize(request: CallAuthorization): Promise<void>;
}

/** An operation handler: parsed JSON input in, JSON output out; throws AwsJsonError to fail. */
export type Operation = (input: unknown, context: OperationContext) => unknown;

export interface AwsJsonServiceDefinition {
  /** The `X-Amz-Target` prefix: `TrentService` (KMS), `AWSEvents` (EventBridge). */
  targetPrefix: string;
  /** The service's exception for a 500 answer. */
  internalException: string;
  operations: Readonly<Record<string, Operation>>;
  /**
   * The IAM decisions a call needs, read from its input before the operation runs (every one must
   * allow). Absent for services whose operations authorize themselves (KMS).
   */
  authorizations?: (operation: string, input: unknown) => CallAuthorization[];
}

export interface AwsJsonServerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (an OS-assigned port, so parallel test files never collide) */
  port?: number;
}

/** How an unavailable service fails: a reset connection (the endpoint is gone) or 503. */
export type UnavailableMode = 'reset' | 503;

export interface AwsJsonServer {
  endpoint: string;
  faults: FaultPlan;
  setAvailable(available: boolean, mode?: UnavailableMode): void;
  calls(): CallRecord[];
  /** Enforces IAM on every later call (undefined: none, as before the template is provisioned). */
  setAuthorizer(authorizer: CallAuthorizer | undefined): void;
  close(): Promise<void>;
}

// Real services cap requests far below this; it only stops a runaway test from eating memory.
const maxBodyBytes = 2 * 1024 * 1024;

/**
 * A small HTTP server speaking the AWS JSON 1.1 protocol (`POST /`, `X-Amz-Target:
 * <prefix>.<Operation>`, JSON bodies, errors as `{"__type", "message"}` plus `x-amzn-ErrorType`),
 * shared by the KMS and EventBridge emulators so that routing, error encoding and faults behave
 * the same in both.
 */
export async function startAwsJsonServer(service: AwsJsonServiceDefinition, options: AwsJsonServerOptions = {}): Promise<AwsJsonServer> {
  const host = options.host ?? '127.0.0.1';
  const faults = new FaultPlan(service.internalException);
  const records: CallRecord[] = [];
  const closing = new AbortController();
  let unavailable: UnavailableMode | undefined;
  let authorizer: CallAuthorizer | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operationName = target.startsWith(`${service.targetPrefix}.`) ? target.slice(service.targetPrefix.length + 1) : target;
    const record: CallRecord = { operation: operationName };
    const accessKeyId = accessKeyIdFromAuthorization(req.headers.authorization);
    if (accessKeyId !== undefined) record.accessKeyId = accessKeyId;
    records.push(record);

    const fail = (error: AwsJsonError): void => {
      record.error = error.type;
      sendError(res, error);
    };
    const drop = (): void => {
      record.error = 'ConnectionDropped';
      req.socket.destroy();
    };

    if (unavailable === 'reset') return drop();
    if (unavailable === 503) return fail(new AwsJsonError('ServiceUnavailableException', 'Service is unavailable.', 503));

    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      if (error instanceof AwsJsonError) return fail(error);
      throw error;
    }
    if (req.method !== 'POST' || !/x-amz-json-1\.[01]/.test(String(req.headers['content-type'] ?? ''))) {
      return fail(new AwsJsonError('UnknownOperationException', 'Requests must be POST with Content-Type application/x-amz-json-1.1.'));
    }
    const operation = service.operations[operationName];
    if (!target.startsWith(`${service.targetPrefix}.`) || operation === undefined) {
      return fail(new AwsJsonError('UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}.`));
    }
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      return fail(new AwsJsonError('SerializationException', 'Request body is not valid JSON.'));
    }

    const decision = faults.take(operationName);
    if (decision.latencyMs > 0) await sleep(decision.latencyMs, undefined, { signal: closing.signal });
    if (decision.failure?.kind === 'drop') return drop();
    if (decision.failure?.kind === 'error') {
      return fail(new AwsJsonError(decision.failure.exception, `Injected fault: ${decision.failure.exception}.`, decision.failure.status));
    }

    try {
      const authorize = (request: CallAuthorization) => (authorizer ? authorizer(accessKeyId, request) : Promise.resolve());
      for (const request of authorizer && service.authorizations ? service.authorizations(operationName, input) : []) await authorize(request);
      const output = await operation(input, { accessKeyId, annotate: (fields) => Object.assign(record, fields), authorize });
      sendJson(res, 200, output ?? {});
    } catch (error) {
      if (error instanceof AwsJsonError) return fail(error);
      // An emulator bug: answer as the service's internal error rather than hang the client.
      fail(new AwsJsonError(service.internalException, `Emulator error: ${error instanceof Error ? error.message : String(error)}`, 500));
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // Only reached when closing aborts a latency fault or the client went away: nobody to answer.
      req.socket.destroy();
    });
  });
  const port = await listenOn(server, host, options.port);

  return {
    endpoint: `http://${endpointHost(host)}:${port}`,
    faults,
    setAvailable(available, mode = 'reset') {
      unavailable = available ? undefined : mode;
    },
    calls: () => records.map((record) => ({ ...record })),
    setAuthorizer(next) {
      authorizer = next;
    },
    async close() {
      closing.abort();
      await closeServer(server);
    },
  };
}

function endpointHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return readBoundedBody(req, maxBodyBytes, () => new AwsJsonError('ValidationException', 'Request body too large.', 413));
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

function sendError(res: ServerResponse, error: AwsJsonError): void {
  if (res.headersSent || res.destroyed) return;
  res.setHeader('x-amzn-errortype', error.type);
  sendJson(res, error.status, { __type: error.type, message: error.message });
}
