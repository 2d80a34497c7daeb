import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { NodeVaultPki } from '../../functions/adapters/vault/node-vault-pki';
import { createVaultClient } from '../../functions/adapters/vault/vault-client';
import { staticToken } from '../../functions/adapters/vault/vault-login';
import type { Log } from '../../functions/ports/log';
import { createServingCertificate } from '../../sandbox/x509/serving-certificate';

/**
 * What the node-vault wrapper puts on the wire, seen by a loopback HTTPS server that records each
 * request (the Vault emulator would answer, but these tests are about the request itself), and
 * what it refuses to build at all: an http:// address or no pinned CA (issue 13 item 1).
 */
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

describe('the Vault client', () => {
  let server: Server;
  let endpoint: string;
  let caPem: string;
  const seen: Seen[] = [];
  const saved = { token: process.env.VAULT_TOKEN, prefix: process.env.VAULT_PREFIX, namespace: process.env.VAULT_NAMESPACE };

  beforeAll(async () => {
    const tls = await createServingCertificate('127.0.0.1', 'vault-client-requests');
    caPem = tls.certPem;
    server = createServer({ cert: tls.certPem, key: tls.keyPem }, (request, response) => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ data: { certificate: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', sealed: false } }));
    });
    // Longer than any idle timeout below: a connection that closes here was closed by the client.
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
    // An operator's shell: what node-vault would otherwise pick up on its own.
    process.env.VAULT_TOKEN = 'operator-token';
    process.env.VAULT_PREFIX = '/operator-prefix';
    process.env.VAULT_NAMESPACE = 'operator-namespace';
  });
  afterEach(() => {
    for (const [name, value] of [['VAULT_TOKEN', saved.token], ['VAULT_PREFIX', saved.prefix], ['VAULT_NAMESPACE', saved.namespace]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('sends no token, prefix or namespace from the environment when it was given no token', async () => {
    await createVaultClient({ endpoint, caPem }).read('sys/seal-status');

    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/v1/sys/seal-status');
    expect(seen[0]!.headers['x-vault-token']).toBeUndefined();
    expect(seen[0]!.headers['x-vault-namespace']).toBeUndefined();
  });

  it('sends exactly the token it was given', async () => {
    await createVaultClient({ endpoint, caPem, token: 'given-token' }).read('sys/seal-status');

    expect(seen[0]!.headers['x-vault-token']).toBe('given-token');
  });

  it('reads a certificate with its serial as one URL-encoded path segment', async () => {
    const pki = new NodeVaultPki(createVaultClient({ endpoint, caPem }), staticToken('pki-token'), quiet);

    await pki.readCertificate('pki_int', '1a:2b/../../sys/raw?x=1#y');

    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe(`/v1/pki_int/cert/${encodeURIComponent('1a:2b/../../sys/raw?x=1#y')}`);
  });

  it.each([
    ['an http:// address', () => ({ endpoint: endpoint.replace('https:', 'http:'), caPem })],
    ['an address that is no URL', () => ({ endpoint: 'vault-0:8200', caPem })],
    ['no pinned CA (the public roots would decide)', () => ({ endpoint, caPem: undefined as unknown as string })],
    ['a CA that is no PEM certificate', () => ({ endpoint, caPem: 'not a certificate' })],
  ])('refuses to build a client for %s, with a typed error and nothing sent', (_case, options) => {
    const refusal = (() => {
      try {
        createVaultClient(options());
      } catch (error) {
        return error;
      }
      return undefined;
    })();

    expect(refusal).toMatchObject({ name: 'InsecureVaultEndpointError', retryable: false });
    expect(seen).toHaveLength(0);
  });

  it('closes a connection it kept alive once it sat idle, before the server or a load balancer drops it under a frozen Lambda, and the next call opens a new one', async () => {
    const connections: Array<Promise<{ closedByClient: boolean }>> = [];
    const onConnection = (socket: TLSSocket) =>
      connections.push(
        new Promise((resolve) => {
          let closedByClient = false;
          socket.once('end', () => (closedByClient = true));
          socket.once('close', () => resolve({ closedByClient }));
        }),
      );
    server.on('secureConnection', onConnection);
    const client = createVaultClient({ endpoint, caPem, token: 'runner-token', idleSocketMs: 25 });
    try {
      await client.read('sys/seal-status');
      const idle = await connections[0]!;
      await client.read('sys/seal-status');
      await client.read('sys/seal-status');

      expect(idle.closedByClient).toBe(true);
      // Two connections for three calls: the idle one was closed, the next two calls shared one.
      expect(connections).toHaveLength(2);
      expect(seen.map((request) => request.url)).toEqual(['/v1/sys/seal-status', '/v1/sys/seal-status', '/v1/sys/seal-status']);
      await connections[1];
    } finally {
      server.off('secureConnection', onConnection);
    }
  }, 10_000);
});
