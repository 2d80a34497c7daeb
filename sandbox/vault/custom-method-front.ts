import { METHODS, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';

/**
 * Vault clients send the HTTP method `LIST` (VAULT_API.md 0; node-vault's `list()`), which Node's
 * HTTP parser does not know: it answers 400 before any handler runs. This front accepts the
 * connection itself (TCP, or TLS when certificates are given) and puts a {@link RequestLineRewriter}
 * between the socket and the HTTP server: it rewrites an unknown method in each request line to
 * `GET`, with the original in a header.
 *
 * Every request line, not only a connection's first: Vault keeps connections alive (its listener's
 * `http_idle_timeout`, 5 minutes by default), and so do certflow's clients, so a sandbox that closed
 * each connection after one answer would cost a TLS handshake per Vault call that AWS never pays.
 */

export interface TlsMaterial {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface NodeServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
  /** Connections accepted so far (TLS handshakes completed, with TLS). */
  connections(): number;
}

export const ORIGINAL_METHOD_HEADER = 'x-vault-emulator-method';
/** Request lines longer than this are handed over untouched (Node will reject them anyway). */
const MAX_REQUEST_LINE = 16 * 1024;
/** Vault's listener default `http_idle_timeout`. */
export const IDLE_TIMEOUT_MS = 5 * 60_000;
const KNOWN_METHODS = new Set(METHODS);

/** `LIST /v1/x HTTP/1.1` → `GET /v1/x HTTP/1.1` + `X-Vault-Emulator-Method: LIST`. */
export function rewriteRequestLine(head: Buffer): Buffer {
  const lineEnd = head.indexOf('\r\n');
  if (lineEnd === -1) return head;
  const line = head.subarray(0, lineEnd).toString('latin1');
  const space = line.indexOf(' ');
  const method = space > 0 ? line.slice(0, space) : '';
  if (!/^[A-Z]+$/.test(method) || KNOWN_METHODS.has(method)) return head;
  return Buffer.concat([
    Buffer.from(`GET${line.slice(space)}\r\n${ORIGINAL_METHOD_HEADER}: ${method}`, 'latin1'),
    head.subarray(lineEnd),
  ]);
}

/**
 * One connection's plaintext as the HTTP server sees it (Node's server takes any Duplex as a
 * connection). Bytes pass through untouched, except that while a request line is expected they are
 * held until it is whole and then rewritten. The server says when the next request line is due:
 * once the request before it has been read to its end. A client that pipelines (sends a request
 * before the answer to the one before) would have its later request lines passed on unrewritten;
 * no Vault client pipelines.
 */
export class RequestLineRewriter extends Duplex {
  /** Defined while a request line is awaited: the bytes of it received so far. */
  private head: Buffer | undefined = Buffer.alloc(0);

  constructor(private readonly socket: Socket) {
    super();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.once('end', () => this.push(null));
    socket.once('close', () => this.destroy());
    socket.on('timeout', () => this.emit('timeout'));
  }

  /** The request before has been read to its end: the next bytes begin a request line. */
  expectRequestLine(): void {
    this.head ??= Buffer.alloc(0);
  }

  /** Node's HTTP server sets the idle (keep-alive) timeout through this. */
  setTimeout(ms: number, callback?: () => void): this {
    this.socket.setTimeout(ms);
    if (callback) this.once('timeout', callback);
    return this;
  }

  private receive(chunk: Buffer): void {
    let bytes = chunk;
    if (this.head) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.indexOf('\r\n') === -1 && this.head.length < MAX_REQUEST_LINE) return;
      bytes = rewriteRequestLine(this.head);
      this.head = undefined;
    }
    if (!this.push(bytes)) this.socket.pause();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}

export function createCustomMethodFront(http: HttpServer, tls: TlsMaterial | undefined): NodeServer {
  http.keepAliveTimeout = IDLE_TIMEOUT_MS;
  // Re-arm the rewriter when a request has been read whole (the handler reads every body before it
  // answers, so the client's next request can only come after this).
  http.on('request', (req: { socket: unknown; once(event: 'end', listener: () => void): unknown }) => {
    const connection = req.socket;
    if (connection instanceof RequestLineRewriter) req.once('end', () => connection.expectRequestLine());
  });
  const sockets = new Set<Socket>();
  let accepted = 0;
  const accept = (socket: Socket): void => {
    accepted += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A client resetting the connection must not crash the process.
    socket.on('error', () => socket.destroy());
    // Node's HTTP server turns Nagle's algorithm off on the sockets it is given, but it is given the
    // rewriter, which has no such switch: without this, each answer on a kept-alive connection
    // waited for the client's delayed ACK (about 40 ms), and a fault matrix took twice as long.
    socket.setNoDelay(true);
    http.emit('connection', new RequestLineRewriter(socket));
  };
  const front: NetServer = tls
    ? createTlsServer({ cert: tls.cert, key: tls.key }).on('secureConnection', accept)
    : createNetServer(accept);

  return {
    connections: () => accepted,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        front.once('error', reject);
        front.listen(port, host, () => {
          front.off('error', reject);
          resolve(front.address() as AddressInfo);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!front.listening) {
          sockets.forEach((socket) => socket.destroy());
          return resolve();
        }
        front.close(() => resolve());
        sockets.forEach((socket) => socket.destroy());
      }),
  };
}
