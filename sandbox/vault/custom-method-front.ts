import { METHODS, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

/**
 * Vault clients send the HTTP method `LIST` (VAULT_API.md 0; node-vault's `list()`), which Node's
 * HTTP parser does not know: it answers 400 before any handler runs. This front accepts the
 * connection itself (TCP, or TLS when certificates are given), rewrites an unknown method in the
 * connection's first request line to `GET` with the original in a header, and only then hands the
 * socket to the HTTP server. The server answers `Connection: close`, so every request is the first
 * one on its connection.
 */

export interface TlsMaterial {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface NodeServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

export const ORIGINAL_METHOD_HEADER = 'x-vault-emulator-method';
/** Request lines longer than this are handed over untouched (Node will reject them anyway). */
const MAX_REQUEST_LINE = 16 * 1024;
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

/** Buffers the first request line, rewrites it, and gives the socket to the HTTP server. */
function handOver(socket: Socket, http: HttpServer): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    if (head.indexOf('\r\n') === -1 && head.length < MAX_REQUEST_LINE) return;
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
    socket.unshift(rewriteRequestLine(head));
    http.emit('connection', socket);
    process.nextTick(() => socket.resume());
  };
  const onEnd = (): void => {
    socket.destroy();
  };
  socket.on('data', onData);
  socket.once('end', onEnd);
}

export function createCustomMethodFront(http: HttpServer, tls: TlsMaterial | undefined): NodeServer {
  const sockets = new Set<Socket>();
  const accept = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A client resetting the connection before the handover must not crash the process.
    socket.on('error', () => socket.destroy());
    handOver(socket, http);
  };
  const front: NetServer = tls
    ? createTlsServer({ cert: tls.cert, key: tls.key }).on('secureConnection', accept)
    : createNetServer(accept);

  return {
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
