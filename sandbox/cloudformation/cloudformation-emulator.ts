import { closeServer, listenOn, readBoundedBody } from '../http/loopback-server';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { XmlNode } from '@aws-sdk/xml-builder';
import type { CallAuthorizer, CallRecord } from '../aws-json/aws-json-server';
import { AwsJsonError } from '../aws-json/aws-json-error';
import { accessKeyIdFromAuthorization } from '../aws-json/sigv4-credential';
import type { StackOutput } from './stack-outputs';

/** One stack the emulator describes. */
export interface EmulatedStack {
  stackName: string;
  outputs: readonly StackOutput[];
  /** @default now */
  creationTime?: Date;
}

export interface CloudFormationEmulatorOptions {
  stacks: readonly EmulatedStack[];
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (OS-assigned) */
  port?: number;
}

export interface CloudFormationEmulatorHandle {
  /** `http://127.0.0.1:<port>`: the CloudFormationClient `endpoint` (or AWS_ENDPOINT_URL_CLOUDFORMATION). */
  endpoint: string;
  /** `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`. */
  stackIdOf(stackName: string): string | undefined;
  calls(): CallRecord[];
  /** Enforces IAM on every later call (cloudformation:DescribeStacks on the stack's ARN). */
  setAuthorizer(authorizer: CallAuthorizer | undefined): void;
  close(): Promise<void>;
}

const XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
const maxBodyBytes = 1024 * 1024;

/** A CloudFormation error: the query protocol's `<Error><Type><Code><Message>`. */
class QueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

/**
 * The sandbox IAM's denials are AWS JSON exceptions; CloudFormation (a query service) names the
 * same refusals by its own codes, with 403.
 */
const QUERY_CODES: Readonly<Record<string, string>> = {
  AccessDeniedException: 'AccessDenied',
  UnrecognizedClientException: 'InvalidClientTokenId',
  MissingAuthenticationTokenException: 'MissingAuthenticationToken',
};

/**
 * Starts an AWS CloudFormation API on loopback that speaks the query protocol (form-encoded
 * `Action=DescribeStacks&Version=2010-05-15&StackName=...` in, XML out) and answers DescribeStacks
 * for the stacks it is given, so `certflow --stack <name>` and @aws-sdk/client-cloudformation
 * read the sandbox's stack exactly as a deployed one. An unknown stack answers as CloudFormation
 * does: 400 ValidationError `Stack with id <name> does not exist`.
 */
export async function startCloudFormationEmulator(options: CloudFormationEmulatorOptions): Promise<CloudFormationEmulatorHandle> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const host = options.host ?? '127.0.0.1';
  const stacks = new Map(options.stacks.map((stack) => [stack.stackName, { ...stack, stackId: `arn:aws:cloudformation:${region}:${accountId}:stack/${stack.stackName}/${randomUUID()}`, creationTime: stack.creationTime ?? new Date() }]));
  const records: CallRecord[] = [];
  let authorizer: CallAuthorizer | undefined;

  const stackNamed = (nameOrId: string) => [...stacks.values()].find((stack) => stack.stackName === nameOrId || stack.stackId === nameOrId);

  const describeStacks = async (params: URLSearchParams, accessKeyId: string | undefined): Promise<XmlNode> => {
    const requested = params.get('StackName') ?? undefined;
    const found = requested === undefined ? [...stacks.values()] : [stackNamed(requested)].filter((stack) => stack !== undefined);
    // IAM decides on the stack's ARN (`stack/<name>/*` for one that does not exist), before the answer.
    const resource = requested === undefined ? '*' : (found[0]?.stackId ?? `arn:aws:cloudformation:${region}:${accountId}:stack/${requested}/*`);
    if (authorizer) await authorizer(accessKeyId, { action: 'cloudformation:DescribeStacks', resource });
    if (requested !== undefined && found.length === 0) throw new QueryError('ValidationError', `Stack with id ${requested} does not exist`);
    const members = found.map((stack) =>
      new XmlNode('member')
        .c(XmlNode.of('StackId', stack.stackId))
        .c(XmlNode.of('StackName', stack.stackName))
        .c(XmlNode.of('CreationTime', stack.creationTime.toISOString()))
        .c(XmlNode.of('StackStatus', 'CREATE_COMPLETE'))
        .c(XmlNode.of('DisableRollback', 'false'))
        .c(XmlNode.of('EnableTerminationProtection', 'false'))
        .c(
          new XmlNode(
            'Outputs',
            stack.outputs.map((output) => {
              const member = new XmlNode('member').c(XmlNode.of('OutputKey', output.OutputKey)).c(XmlNode.of('OutputValue', output.OutputValue));
              return output.Description === undefined ? member : member.c(XmlNode.of('Description', output.Description));
            }),
          ),
        ),
    );
    return new XmlNode('DescribeStacksResult').c(new XmlNode('Stacks', members));
  };

  const operations: Record<string, (params: URLSearchParams, accessKeyId: string | undefined) => Promise<XmlNode>> = { DescribeStacks: describeStacks };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const accessKeyId = accessKeyIdFromAuthorization(req.headers.authorization);
    const record: CallRecord = { operation: '(unknown)', ...(accessKeyId === undefined ? {} : { accessKeyId }) };
    records.push(record);
    try {
      const body = await readBody(req);
      const params = new URLSearchParams(body);
      const action = params.get('Action') ?? '';
      record.operation = action;
      const operation = operations[action];
      if (req.method !== 'POST' || !operation) throw new QueryError('InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`);
      const result = await operation(params, accessKeyId);
      send(res, 200, new XmlNode(`${action}Response`).addAttribute('xmlns', XMLNS).c(result).c(new XmlNode('ResponseMetadata').c(XmlNode.of('RequestId', randomUUID()))));
    } catch (caught) {
      const error =
        caught instanceof QueryError
          ? caught
          : caught instanceof AwsJsonError
            ? new QueryError(QUERY_CODES[caught.type] ?? caught.type, caught.message, QUERY_CODES[caught.type] ? 403 : caught.status)
            : new QueryError('InternalFailure', `Emulator error: ${caught instanceof Error ? caught.message : String(caught)}`, 500, 'Receiver');
      record.error = error.code;
      send(
        res,
        error.status,
        new XmlNode('ErrorResponse')
          .addAttribute('xmlns', XMLNS)
          .c(new XmlNode('Error').c(XmlNode.of('Type', error.type)).c(XmlNode.of('Code', error.code)).c(XmlNode.of('Message', error.message)))
          .c(XmlNode.of('RequestId', randomUUID())),
      );
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  const port = await listenOn(server, host, options.port);
  return {
    endpoint: `http://${host}:${port}`,
    stackIdOf: (stackName) => stacks.get(stackName)?.stackId,
    calls: () => records.map((record) => ({ ...record })),
    setAuthorizer(next) {
      authorizer = next;
    },
    close: () => closeServer(server),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return readBoundedBody(req, maxBodyBytes, () => new QueryError('ValidationError', 'Request body too large.', 413)).then((body) => body.toString('utf8'));
}

function send(res: ServerResponse, status: number, document: XmlNode): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${document.toString()}`;
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': randomUUID() });
  res.end(body);
}
