import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createCustomMethodFront, type NodeServer, ORIGINAL_METHOD_HEADER, type TlsMaterial } from './custom-method-front';
import type { JsonObject, VaultResponse } from './envelope';
import { errorResponse, PERMISSION_DENIED_MESSAGE, SEALED_MESSAGE, VaultApiError } from './envelope';
import { defaultFaultMessage, type FaultRegistry } from './faults';
import { parseGoBool } from './request-values';
import { tokenCapabilities } from './acl-policies';
import type { ClusterContext, Operation, RouteTable, VaultRequest } from './router';
import type { VaultNode } from './vault-node';

/**
 * One node's HTTP(S) listener and the request pipeline every route goes through:
 * faults → body limit → method to operation → sealed check → route → token check → handler.
 */


/** Vault's default `max_request_size` (VAULT_API.md 0). */
export const DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024;
const MERGE_PATCH = 'application/merge-patch+json';

export type { NodeServer, TlsMaterial };

export interface NodeServerOptions {
  readonly node: VaultNode;
  readonly cluster: ClusterContext;
  readonly routes: RouteTable;
  readonly faults: FaultRegistry;
  readonly maxRequestBytes: number;
  readonly tls?: TlsMaterial;
  /** Aborted by close(): cuts injected latency short so nothing outlives the cluster. */
  readonly closing: AbortSignal;
}

interface ReceivedBody {
  readonly bytes: Buffer;
  readonly tooLarge: boolean;
}

/** Reads the whole body; past the limit it keeps draining (so the client can read the 413) but keeps nothing. */
function readBody(req: IncomingMessage, limit: number): Promise<ReceivedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve({ bytes: size <= limit ? Buffer.concat(chunks) : Buffer.alloc(0), tooLarge: size > limit }));
    req.on('error', reject);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function clientTokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers['x-vault-token'];
  const token = Array.isArray(header) ? header[0] : header;
  if (token) return token;
  const authorization = req.headers.authorization;
  const match = authorization ? /^Bearer\s+(.+)$/i.exec(authorization) : null;
  return match?.[1]?.trim() || undefined;
}

/** GET/LIST/... to Vault's logical operation; `?list=` must be a Go bool (http/logical.go). */
function operationOf(method: string, query: URLSearchParams): Operation {
  switch (method) {
    case 'GET': {
      const list = query.get('list');
      if (list === null || list === '') return 'read';
      const parsed = parseGoBool(list);
      if (parsed === undefined) throw new VaultApiError(400);
      return parsed ? 'list' : 'read';
    }
    case 'HEAD':
      return 'head';
    case 'PUT':
    case 'POST':
      return 'update';
    case 'DELETE':
      return 'delete';
    case 'LIST':
      return 'list';
    case 'PATCH':
      return 'patch';
    default:
      throw new VaultApiError(405);
  }
}

/** PATCH needs merge-patch (VAULT_API.md 0): no media type is 400, another one is 415. */
function checkPatchContentType(req: IncomingMessage): void {
  const header = req.headers['content-type'] ?? '';
  const mediaType = header.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === '') throw new VaultApiError(400, 'mime: no media type');
  if (mediaType !== MERGE_PATCH) {
    throw new VaultApiError(415, `PATCH requires Content-Type of ${MERGE_PATCH}, provided ${mediaType}`);
  }
}

function parseJsonBody(bytes: Buffer): JsonObject {
  const text = bytes.toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new VaultApiError(400, `failed to parse JSON input: ${err instanceof Error ? err.message : 'invalid JSON'}`);
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new VaultApiError(400, 'failed to parse JSON input: json: cannot unmarshal into Go value of type map[string]interface {}');
  }
  return parsed as JsonObject;
}

/** The request's method, including the ones the front rewrote so Node could parse them. */
function methodOf(req: IncomingMessage): string {
  const original = req.headers[ORIGINAL_METHOD_HEADER];
  return (typeof original === 'string' ? original : (req.method ?? 'GET')).toUpperCase();
}

async function dispatch(
  options: NodeServerOptions,
  req: IncomingMessage,
  method: string,
  url: URL,
  path: string,
  bytes: Buffer,
): Promise<VaultResponse> {
  const { node, cluster, routes } = options;
  const operation = operationOf(method, url.searchParams);
  const match = routes.match(path);

  // A sealed node answers only the raw sys handlers; everything else, known or not, is 503 (1.3).
  if (!match?.route.availableWhenSealed && node.sealed) throw new VaultApiError(503, SEALED_MESSAGE);
  if (!match) throw new VaultApiError(404);
  const handler = match.route.operations[operation];
  // Vault appends `/` to a LIST's path, which matches no pattern without a trailing slash: an
  // unsupported path, 404, not 405 (VAULT_API.md 1.2). Other missing operations are 405.
  if (!handler && operation === 'list') throw new VaultApiError(404);
  if (!handler) throw new VaultApiError(405);

  if (operation === 'patch') checkPatchContentType(req);
  const body = operation === 'update' || operation === 'patch' ? parseJsonBody(bytes) : {};

  // A standby forwards to the active node; storage is shared here, so it answers itself, unless
  // the client refuses forwarding: then 307 to the active node's address (VAULT_API.md 1.3).
  if (!match.route.availableWhenSealed && node.isStandby() && req.headers['x-vault-no-request-forwarding'] !== undefined) {
    const activeId = cluster.storage.ha.activeNodeId;
    const activeUrl = activeId === undefined ? undefined : cluster.storage.addresses.get(activeId);
    if (activeUrl) return { status: 307, headers: { Location: `${activeUrl}${url.pathname}${url.search}` } };
  }

  const clientToken = clientTokenOf(req);
  const auth = match.route.auth ?? 'token';
  const token = cluster.storage.tokens.lookup(clientToken);
  if (auth !== 'none' && (!token || (auth === 'root' && !cluster.storage.tokens.isRoot(token)))) {
    throw new VaultApiError(403, PERMISSION_DENIED_MESSAGE);
  }
  if (auth === 'token' && token && !cluster.storage.tokens.isRoot(token) && !aclAllows(cluster, token.policies, operation, path, match.route.sudo ?? false)) {
    throw new VaultApiError(403, ACL_DENIED_MESSAGE);
  }

  const request: VaultRequest = {
    method,
    operation,
    path,
    params: match.params,
    query: url.searchParams,
    headers: req.headers,
    body,
    rawBody: bytes,
    clientToken,
    token,
  };
  return handler({ node, cluster }, request);
}

/** Vault's ACL denial, as its multierror prints it (clients match on `permission denied`). */
const ACL_DENIED_MESSAGE = `1 error occurred:\n\t* ${PERMISSION_DENIED_MESSAGE}\n\n`;

/**
 * Whether the token's policies grant the operation on the path. A write needs `create` or
 * `update` (Vault picks one by whether the object exists; the sandbox accepts either), HEAD reads.
 */
function aclAllows(cluster: ClusterContext, policies: readonly string[], operation: Operation, path: string, sudo: boolean): boolean {
  const documents = new Map([...cluster.storage.aclPolicies].map(([name, stored]) => [name, stored.document]));
  const granted = tokenCapabilities(documents, policies, path);
  if (sudo && !granted.has('sudo')) return false;
  if (operation === 'update') return granted.has('create') || granted.has('update');
  if (operation === 'head') return granted.has('read');
  return granted.has(operation);
}

function write(res: ServerResponse, method: string | undefined, response: VaultResponse): void {
  if (res.destroyed || res.headersSent) return;
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...(response.headers ?? {}) };
  let payload: Buffer | string | undefined;
  if (response.raw) {
    headers['Content-Type'] = response.raw.contentType;
    payload = response.raw.body;
  } else if (response.json !== undefined && response.status !== 204) {
    headers['Content-Type'] = 'application/json';
    payload = `${JSON.stringify(response.json)}\n`;
  }
  res.writeHead(response.status, headers);
  res.end(method === 'HEAD' ? undefined : payload);
}

function toResponse(err: unknown): VaultResponse {
  if (err instanceof VaultApiError) return errorResponse(err.status, err.errors);
  return errorResponse(500, [err instanceof Error ? err.message : 'internal error']);
}

async function serve(options: NodeServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const received = await readBody(req, options.maxRequestBytes);
  const url = new URL(req.url ?? '/', 'http://vault.emulator');
  const method = methodOf(req);
  delete req.headers[ORIGINAL_METHOD_HEADER];
  if (!url.pathname.startsWith('/v1/')) return write(res, method, errorResponse(404));
  let path: string;
  try {
    path = decodeURIComponent(url.pathname.slice('/v1/'.length)).replace(/\/+$/, '');
  } catch {
    return write(res, method, errorResponse(400));
  }

  const fault = options.faults.take(options.node.id, method, path);
  if (fault?.latencyMs) await sleep(fault.latencyMs, options.closing);
  if (options.closing.aborted) return void req.socket.destroy();
  if (fault?.dropConnection) return void req.socket.destroy();
  if (fault?.status !== undefined) {
    return write(res, method, errorResponse(fault.status, [fault.message ?? defaultFaultMessage(fault.status)]));
  }

  if (received.tooLarge) {
    return write(res, method, errorResponse(413, ['failed to parse JSON input: http: request body too large']));
  }
  let response: VaultResponse;
  try {
    response = await dispatch(options, req, method, url, path, received.bytes);
  } catch (err) {
    response = toResponse(err);
  }
  write(res, method, response);
}

export function createNodeServer(options: NodeServerOptions): NodeServer {
  const http = createHttpServer((req: IncomingMessage, res: ServerResponse): void => {
    serve(options, req, res).catch((err: unknown) => write(res, req.method, toResponse(err)));
  });
  return createCustomMethodFront(http, options.tls);
}
