import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { openApiDocument, openApiRoot, openApiV2Document } from './openapi';
import { KubernetesApiError, notAcceptable, unauthorized } from './api-status';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery';
import type { KubernetesFaultPlan } from './fault-plan';
import type { ObjectStore } from './object-store';
import { isPublicPath, resolveTarget, type ApiTarget, type ResourceTarget } from './request-path';
import { handleResourceRequest } from './resource-handlers';
import type { KubernetesUser, RbacAuthorizer } from './rbac-authorizer';
import { includeObjectOf, toTable, wantsTable } from './table-output';

/**
 * The API server's HTTP front: body limit → public paths → bearer token (who the caller is) →
 * route → RBAC → faults → handler → JSON (or Table) answer. Every error is a `Status` with the
 * matching code.
 */

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** The users the bearer tokens authenticate (a token unknown here is 401). */
  readonly users: ReadonlyMap<string, KubernetesUser>;
  /** Decides every resource request of an authenticated user (403 Forbidden when no rule allows it). */
  readonly rbac: RbacAuthorizer;
  readonly store: ObjectStore;
  readonly faults: KubernetesFaultPlan;
  readonly clock: () => Date;
  /** Serve HTTPS with this certificate and key (PEM) instead of plain HTTP. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
  /** Told of every authenticated resource request, before faults: what a test reads to prove where a client looked. */
  readonly onRequest?: (target: ResourceTarget) => void;
}

export interface ApiServer {
  readonly url: string;
  /** Connections accepted so far (TLS sessions, with `tls`): what proves a client keeps its connections alive. */
  connections(): number;
  close(): Promise<void>;
}

/** The API server's default limit on request bodies (3 MiB). */
const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (size > MAX_REQUEST_BYTES ? reject(new BodyTooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/** The user of a request's bearer token, compared in constant time with each known token. */
function userOf(header: string | undefined, users: ReadonlyMap<string, KubernetesUser>): KubernetesUser | undefined {
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  if (!match) return undefined;
  const given = Buffer.from(match[1]!.trim());
  let found: KubernetesUser | undefined;
  for (const [token, user] of users) {
    const wanted = Buffer.from(token);
    if (given.length === wanted.length && timingSafeEqual(given, wanted)) found = user;
  }
  return found;
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

function mediaTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function discoveryAnswer(target: Exclude<ApiTarget, { type: 'resource' }>, serverAddress: string, accept: string | undefined): Answer {
  switch (target.type) {
    case 'version':
      return { status: 200, body: versionInfo() };
    case 'health':
      return { status: 200, body: 'ok' };
    case 'api-versions':
      return { status: 200, body: apiVersions(serverAddress) };
    case 'group-list':
      return { status: 200, body: apiGroupList() };
    case 'group':
      return { status: 200, body: apiGroup(target.group) };
    case 'resource-list':
      return { status: 200, body: apiResourceList(target.groupVersion) };
    case 'openapi-v3': {
      const document = target.path === undefined ? openApiRoot() : openApiDocument(target.path);
      if (!document) throw new KubernetesApiError(404, 'NotFound', 'the server could not find the requested resource');
      return { status: 200, body: document };
    }
    case 'openapi-v2':
      // Served as JSON only. kubectl asks for it as protobuf alone (and only where the v3 document
      // leaves a patch type open); a 406 sends it to its fallback, as an absent document does.
      if (!acceptsJson(accept)) throw notAcceptable(['application/json']);
      return { status: 200, body: openApiV2Document() };
  }
}

/** An Accept header that admits JSON (absent means anything). */
function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((range) => ['application/json', 'application/*', '*/*'].includes(range.split(';')[0]!.trim().toLowerCase()));
}

function write(res: ServerResponse, answer: Answer): void {
  if (res.destroyed || res.headersSent) return;
  const text = typeof answer.body === 'string';
  const payload = text ? (answer.body as string) : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'Content-Type': text ? 'text/plain; charset=utf-8' : 'application/json',
    'Cache-Control': 'no-cache, private',
    ...(answer.headers ?? {}),
  });
  res.end(payload);
}

function errorAnswer(error: unknown): Answer {
  const apiError = error instanceof KubernetesApiError ? error : new KubernetesApiError(500, 'InternalError', `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`);
  const headers: Record<string, string> = apiError.code === 429 ? { 'Retry-After': '1' } : {};
  return { status: apiError.code, body: apiError.toStatus(), headers };
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const closing = new AbortController();
  let serverAddress = '';

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<Answer | 'dropped'> => {
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        return { status: 413, body: new KubernetesApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_REQUEST_BYTES}`).toStatus() };
      }
      throw error;
    }
    const url = new URL(req.url ?? '/', 'http://kubernetes.emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const user = userOf(req.headers.authorization, options.users);
    if (!isPublicPath(url.pathname) && !user) throw unauthorized();

    const target = resolveTarget(method, url.pathname);
    if (target.type !== 'resource') return discoveryAnswer(target, serverAddress, req.headers.accept);
    options.onRequest?.(target);
    // Discovery is open to every authenticated user (system:discovery); resources go through RBAC.
    options.rbac.authorize(user!, target);

    const decision = options.faults.take(target);
    if (decision.latencyMs > 0) await sleep(decision.latencyMs, closing.signal);
    if (closing.signal.aborted || decision.failure?.kind === 'drop') {
      res.socket?.destroy();
      return 'dropped';
    }
    if (decision.failure?.kind === 'error') throw decision.failure.error;

    const response = handleResourceRequest(options.store, { target, query: url.searchParams, contentType: mediaTypeOf(req), body });
    if (response.objects && wantsTable(req.headers.accept)) {
      return { status: response.status, body: toTable(target.kind, response.objects, response.listMetadata ?? {}, options.clock(), includeObjectOf(url.searchParams)) };
    }
    return { status: response.status, body: response.body };
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    answer(req, res)
      .then((result) => {
        if (result !== 'dropped') write(res, result);
      })
      .catch((error: unknown) => write(res, errorAnswer(error)));
  };
  const server = options.tls ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, handler) : createServer(handler);
  let connections = 0;
  server.on(options.tls ? 'secureConnection' : 'connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  serverAddress = `${host}:${port}`;

  return {
    url: `${options.tls ? 'https' : 'http'}://${serverAddress}`,
    connections: () => connections,
    async close() {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets of the client (undici) would otherwise hold close() open.
      server.closeAllConnections();
      await closed;
    },
  };
}
