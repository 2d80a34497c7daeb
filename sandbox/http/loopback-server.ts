import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the sandbox's AWS-protocol servers (the JSON-protocol ones, CloudFormation's query API,
 * Lambda's Invoke) share: a bounded request body, a listen that answers the endpoint, and a close
 * that does not wait for SDK clients' keep-alive sockets.
 */

/** The request body, refused with `tooLarge()` as soon as it passes `maxBytes`. */
export async function readBoundedBody(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Listens on `host:port` (0: any free port) and answers the port it got. */
export async function listenOn(server: Server, host: string, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Stops listening and ends every open connection: SDK clients' keep-alive sockets would otherwise hold close() open for seconds. */
export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
