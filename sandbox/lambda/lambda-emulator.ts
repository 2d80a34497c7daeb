import { closeServer, listenOn, readBoundedBody } from '../http/loopback-server';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { CallAuthorizer, CallRecord } from '../aws-json/aws-json-server';
import { AwsJsonError } from '../aws-json/aws-json-error';
import { accessKeyIdFromAuthorization } from '../aws-json/sigv4-credential';
import type { LocalRunner } from '../runner/local-runner';

export interface LambdaEmulatorOptions {
  /** Runs the invocations: the template's functions, their bundles, each under its own role. */
  runner: Pick<LocalRunner, 'functionArns' | 'invokeArn'>;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (OS-assigned) */
  port?: number;
}

export interface LambdaEmulatorHandle {
  /** `http://127.0.0.1:<port>`: the LambdaClient `endpoint` (or AWS_ENDPOINT_URL_LAMBDA). */
  endpoint: string;
  calls(): CallRecord[];
  /** Enforces IAM on every later call (lambda:InvokeFunction on the function's ARN). */
  setAuthorizer(authorizer: CallAuthorizer | undefined): void;
  /** Resolves when every `Event` invocation started so far has ended. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

// Lambda's limit for a synchronous invocation's payload.
const maxPayloadBytes = 6 * 1024 * 1024;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** A Lambda API error: rest-json, `x-amzn-ErrorType` and `{"Type", "Message"}`. */
class LambdaApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * Starts the AWS Lambda Invoke API on loopback (rest-json: `POST
 * /2015-03-31/functions/{FunctionName}/invocations`, the payload as the body) over the runner's
 * functions, so @aws-sdk/client-lambda invokes the synthesized bundles here as it would the
 * deployed functions (`certflow plan --stack`). The caller needs lambda:InvokeFunction on the
 * function's ARN. As Lambda: a function's own error is a 200 with `X-Amz-Function-Error:
 * Unhandled` and `{errorType, errorMessage, trace}` as the payload; an unknown function 404
 * ResourceNotFoundException; `Event` answers 202 and runs on, `DryRun` 204 after the IAM check.
 */
export async function startLambdaEmulator(options: LambdaEmulatorOptions): Promise<LambdaEmulatorHandle> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const host = options.host ?? '127.0.0.1';
  const records: CallRecord[] = [];
  const running = new Set<Promise<unknown>>();
  let authorizer: CallAuthorizer | undefined;

  /** A function name, partial ARN (`<account>:function:<name>`) or ARN, as Lambda accepts them; an alias or version qualifier is not served. */
  const arnOf = (functionName: string): string => {
    if (/^arn:aws[a-z-]*:lambda:/.test(functionName)) return functionName;
    if (/^\d{12}:function:/.test(functionName)) return `arn:aws:lambda:${region}:${functionName}`;
    return `arn:aws:lambda:${region}:${accountId}:function:${functionName}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const accessKeyId = accessKeyIdFromAuthorization(req.headers.authorization);
    const record: CallRecord = { operation: 'Invoke', ...(accessKeyId === undefined ? {} : { accessKeyId }) };
    records.push(record);
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://lambda');
      const route = INVOKE_PATH.exec(url.pathname);
      if (req.method !== 'POST' || !route) throw new LambdaApiError('UnknownOperationException', `Unknown operation ${req.method} ${url.pathname}`, 404);
      const functionArn = arnOf(decodeURIComponent(route[1]!));
      const qualifier = url.searchParams.get('Qualifier') ?? (functionArn.split(':')[7] || undefined);
      const unqualified = functionArn.split(':').slice(0, 7).join(':');
      if (authorizer) await authorizer(accessKeyId, { action: 'lambda:InvokeFunction', resource: functionArn });
      if (!options.runner.functionArns().includes(unqualified) || (qualifier !== undefined && qualifier !== '$LATEST')) {
        throw new LambdaApiError('ResourceNotFoundException', `Function not found: ${functionArn}`, 404);
      }
      let payload: unknown = {};
      if (body.length) {
        try {
          payload = JSON.parse(body.toString('utf8'));
        } catch (error) {
          throw new LambdaApiError('InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`, 400);
        }
      }
      const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      if (invocationType === 'DryRun') return send(res, 204, undefined, {});
      if (invocationType === 'Event') {
        const invocation = options.runner.invokeArn(unqualified, payload).catch(() => undefined);
        running.add(invocation);
        void invocation.finally(() => running.delete(invocation));
        return send(res, 202, undefined, {});
      }
      if (invocationType !== 'RequestResponse') throw new LambdaApiError('InvalidParameterValueException', `Invalid invocation type: ${invocationType}`, 400);
      try {
        const result = await options.runner.invokeArn(unqualified, payload);
        send(res, 200, JSON.stringify(result ?? null), { 'x-amz-executed-version': '$LATEST' });
      } catch (error) {
        // The function failed, not the call: Lambda answers 200 and names the error in the payload.
        const failure = error instanceof Error ? error : new Error(String(error));
        record.error = failure.name;
        send(res, 200, JSON.stringify({ errorType: failure.name, errorMessage: failure.message, trace: [] }), { 'x-amz-executed-version': '$LATEST', 'x-amz-function-error': 'Unhandled' });
      }
    } catch (caught) {
      const error =
        caught instanceof LambdaApiError
          ? caught
          : caught instanceof AwsJsonError
            ? new LambdaApiError(caught.type, caught.message, caught.type === 'AccessDeniedException' || caught.type.endsWith('TokenException') ? 403 : caught.status)
            : new LambdaApiError('ServiceException', `Emulator error: ${caught instanceof Error ? caught.message : String(caught)}`, 500);
      record.error = error.code;
      send(res, error.status, JSON.stringify({ Type: error.status >= 500 ? 'Service' : 'User', Message: error.message }), { 'x-amzn-errortype': error.code });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  const port = await listenOn(server, host, options.port);
  return {
    endpoint: `http://${host}:${port}`,
    calls: () => records.map((record) => ({ ...record })),
    setAuthorizer(next) {
      authorizer = next;
    },
    async settled() {
      while (running.size) await Promise.allSettled([...running]);
    },
    close: () => closeServer(server),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return readBoundedBody(req, maxPayloadBytes, () => new LambdaApiError('RequestTooLargeException', `Request must be smaller than ${maxPayloadBytes} bytes for the InvokeFunction operation`, 413));
}

function send(res: ServerResponse, status: number, body: string | undefined, headers: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body === undefined ? 0 : Buffer.byteLength(body), 'x-amzn-requestid': randomUUID(), ...headers });
  res.end(body);
}
