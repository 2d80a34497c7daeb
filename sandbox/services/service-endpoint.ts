import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { firstCertificateOf, pemBlocksOf, toPem } from '../x509/pem-certificates';
import type { KubernetesStore } from '../kubernetes/kubernetes-emulator';

/**
 * One managed service of the sandbox (DESIGN.md, The sandbox: Services): a real TLS server on
 * loopback that behaves like the service's pod. It reads its Secret (tls.crt, tls.key) and the
 * namespace's trust bundle (a ConfigMap's ca.crt, one or more CA certificates) when it "starts",
 * and again only when its Deployment rolls out a new pod template, never when the Secret changes:
 * a pod reads its mounted certificate at start. Until the Secret exists (a pod stuck in
 * ContainerCreating) it accepts TCP and closes at once, and it starts serving as soon as the
 * Secret appears.
 *
 * Clients must present a certificate that chains to the trust bundle. The TLS layer runs with
 * `rejectUnauthorized: false` so that the refusal is ours and observable: an unauthorized peer is
 * recorded with its `authorizationError` and disconnected without a byte of application data
 * (under TLS 1.3 such a client still sees `secureConnect`, TOOLCHAIN.md). An authorized peer gets
 * the application protocol:
 *
 *   server, on connect:       `hello <service> <serial>\n`
 *   client `GET /health\n`:   `200 <service> <serial>\n`
 *   client `QUIT\n`:          the server closes
 *
 * where `<serial>` is the served leaf's serial as Vault writes it (colon-separated lower-case hex).
 */

export interface ManagedService {
  readonly name: string;
  readonly namespace: string;
  readonly secretName: string;
  readonly deployment: string;
  readonly trustBundleConfigMap: string;
  /** @default 'ca.crt' */
  readonly trustBundleKey?: string;
}

export interface ServedCertificate {
  /** Colon-separated lower-case hex, as Vault writes it. */
  readonly serial: string;
  /** ISO 8601. */
  readonly notAfter: string;
  readonly fingerprint256: string;
}

export interface Refusal {
  /** OpenSSL's verify code from `socket.authorizationError`, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. */
  readonly authorizationError: string;
  /** The peer's certificate subject, when it sent one. */
  readonly peerSubject?: string;
  readonly at: Date;
}

interface Material {
  readonly served: ServedCertificate;
  readonly cert: string;
  readonly key: string;
  readonly ca: string[];
}

const MAX_REFUSALS = 100;

function decoded(data: Record<string, string> | undefined, key: string): string | undefined {
  const value = data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

export class ServiceEndpoint {
  private readonly net: NetServer;
  private tls: TlsServer | undefined;
  private material: Material | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly refusalLog: Refusal[] = [];
  private reloadCount = 0;
  private lastLoadError: string | undefined;
  private readonly unsubscribeStore: () => void;
  private address: { host: string; port: number } | undefined;

  constructor(
    readonly service: ManagedService,
    private readonly store: KubernetesStore,
  ) {
    this.net = createNetServer((socket) => this.accept(socket));
    // A pod waiting for its Secret volume starts once the Secret exists; after that, only a rollout reloads.
    this.unsubscribeStore = store.onChange(
      (change) => {
        if (this.material || change.type === 'DELETED') return;
        this.load();
      },
      // Only its own Secret: N endpoints must not each hear every write.
      { resource: 'secrets', namespace: service.namespace, name: service.secretName },
    );
    this.load();
  }

  async listen(host: string): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.net.once('error', reject);
      this.net.listen(0, host, () => {
        this.net.off('error', reject);
        resolve();
      });
    });
    const info = this.net.address() as AddressInfo;
    this.address = { host, port: info.port };
    return this.address;
  }

  endpoint(): { host: string; port: number } {
    if (!this.address) throw new Error(`the endpoint of ${this.service.name} is not listening`);
    return this.address;
  }

  served(): ServedCertificate | undefined {
    return this.material?.served;
  }

  reloads(): number {
    return this.reloadCount;
  }

  refusals(): readonly Refusal[] {
    return [...this.refusalLog];
  }

  /** Why the last attempt to read the Secret or trust bundle failed, if it did. */
  loadError(): string | undefined {
    return this.lastLoadError;
  }

  /** The Deployment rolled out: read the Secret and the trust bundle again, as a new pod does. */
  rolledOut(): void {
    this.reloadCount += 1;
    this.load();
  }

  async close(): Promise<void> {
    this.unsubscribeStore();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.net.close(() => resolve()));
  }

  private load(): void {
    const { namespace, secretName, trustBundleConfigMap } = this.service;
    const secret = this.store.get('secrets', { namespace, name: secretName });
    if (!secret) {
      this.material = undefined;
      this.lastLoadError = `Secret ${namespace}/${secretName} does not exist`;
      return;
    }
    try {
      const cert = decoded(secret.data, 'tls.crt');
      const key = decoded(secret.data, 'tls.key');
      if (!cert || !key) throw new Error(`Secret ${namespace}/${secretName} lacks tls.crt or tls.key`);
      const leaf = firstCertificateOf(cert);
      if (!leaf) throw new Error(`Secret ${namespace}/${secretName} tls.crt holds no certificate`);
      const bundle = this.store.get('configmaps', { namespace, name: trustBundleConfigMap })?.data?.[this.service.trustBundleKey ?? 'ca.crt'] ?? '';
      // Every CA in the bundle, as PEM; an empty list trusts nothing (never Node's public roots).
      const ca = pemBlocksOf(bundle)
        .filter((block) => block.type === 'CERTIFICATE')
        .map((block) => `${toPem(block.der, 'CERTIFICATE')}\n`);
      const options = { cert, key, ca };
      // Fails here, not at the first handshake, when the key does not match or does not parse:
      // both build the secure context at once (one build per reload, not a check and a build).
      if (this.tls) this.tls.setSecureContext(options);
      else this.tls = this.createTlsServer(options);
      this.material = { served: { serial: leaf.serial, notAfter: leaf.notAfter.toISOString(), fingerprint256: leaf.fingerprint256 }, cert, key, ca };
      this.lastLoadError = undefined;
    } catch (error) {
      // A pod whose certificate does not load does not serve: fail closed, never with stale material.
      this.material = undefined;
      this.lastLoadError = error instanceof Error ? error.message.replace(/-----BEGIN[\s\S]*?-----END[^-]*-----/g, '[pem]') : String(error);
    }
  }

  private createTlsServer(options: { cert: string; key: string; ca: string[] }): TlsServer {
    const server = createTlsServer({ ...options, requestCert: true, rejectUnauthorized: false });
    server.on('secureConnection', (socket) => {
      this.handshakes += 1;
      this.converse(socket);
    });
    // A failed handshake (a client that gives up, a protocol mismatch) concerns only that client.
    server.on('tlsClientError', () => undefined);
    return server;
  }

  /** Handshakes completed so far (any client, accepted or not). */
  handshakes = 0;

  /** Fault injection: while set, every connection is dropped before the handshake. */
  handshakeFault = false;
  /** When the handshake fault dropped a connection (epoch ms): how often the fault fired. */
  readonly droppedHandshakes: number[] = [];

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    if (!this.material || !this.tls || this.handshakeFault) {
      if (this.handshakeFault) this.droppedHandshakes.push(Date.now());
      socket.destroy();
      return;
    }
    // The listening socket is ours; the TLS server never listens and only does the handshakes.
    this.tls.emit('connection', socket);
  }

  private converse(socket: TLSSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const served = this.material?.served;
    if (!socket.authorized || !served) {
      const peer = socket.getPeerCertificate();
      const error = socket.authorizationError;
      this.refusalLog.push({
        authorizationError: error === undefined || error === null ? 'NO_PEER_CERTIFICATE' : typeof error === 'string' ? error : ((error as Error & { code?: string }).code ?? error.message),
        ...(peer && typeof peer.subject === 'object' && peer.subject?.CN ? { peerSubject: `CN=${String(peer.subject.CN)}` } : {}),
        at: new Date(),
      });
      if (this.refusalLog.length > MAX_REFUSALS) this.refusalLog.shift();
      socket.destroy();
      return;
    }
    const line = (text: string) => `${text} ${this.service.name} ${served.serial}\n`;
    socket.write(line('hello'));
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const request = buffered.slice(0, end).trim();
        buffered = buffered.slice(end + 1);
        if (request === 'QUIT') {
          socket.end();
          return;
        }
        socket.write(request.startsWith('GET /health') ? line('200') : line('400'));
      }
      // A peer that never sends a newline gets nothing more than this much buffered.
      if (buffered.length > 4096) socket.destroy();
    });
  }
}
