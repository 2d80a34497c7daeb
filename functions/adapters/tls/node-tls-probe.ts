import { connect, createSecureContext, type DetailedPeerCertificate, type SecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { contentCache, ContentCacheLimits } from '../../domain/content-cache';
import { EndpointUnreachableError } from '../../contracts/errors';
import type { TlsProbe, TlsProbeRequest, TlsProbeResult } from '../../ports/tls-probe';

/**
 * mTLS handshakes with node:tls. The probe trusts nothing itself (`rejectUnauthorized: false`):
 * it records the chain the server served and the application data that came back, and the trust
 * checker judges the chain against the namespace's bundle. Under TLS 1.3 a client the server
 * refuses still sees `secureConnect`, so acceptance is proven only by application data.
 */
export class NodeTlsProbe implements TlsProbe {
  /**
   * One secure context per client identity: building one parses the certificate and key and sets
   * up an OpenSSL SSL_CTX, which `connect` would otherwise do for every handshake. The verifier's
   * identity lives for the cold start, so this holds one or two entries; keyed by the certificate
   * (its key comes with it), never logged.
   */
  private readonly contexts = new Map<string, SecureContext>();

  private contextFor(certificatePem: string | undefined, keyPem: string | undefined): SecureContext {
    const key = certificatePem && keyPem ? certificatePem : '';
    let context = this.contexts.get(key);
    if (!context) {
      context = createSecureContext({ ...(certificatePem && keyPem ? { cert: certificatePem, key: keyPem } : {}), minVersion: 'TLSv1.2' });
      if (this.contexts.size >= 8) this.contexts.clear();
      this.contexts.set(key, context);
    }
    return context;
  }

  async probe(request: TlsProbeRequest): Promise<TlsProbeResult> {
    const timeoutMs = request.timeoutMs ?? 3000;
    const where = `${request.host}:${request.port} (${request.serverName})`;
    return new Promise<TlsProbeResult>((resolve, reject) => {
      let data = '';
      let served = '';
      let protocol = '';
      let settled = false;
      const socket = connect({
        host: request.host,
        port: request.port,
        servername: request.serverName,
        secureContext: this.contextFor(request.clientCertificatePem, request.clientKeyPem),
        rejectUnauthorized: false,
      });
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        // No certificate seen means no TLS session: refused, reset, or closed before the handshake.
        if (!served) reject(new EndpointUnreachableError(`no TLS session with ${where}: ${error?.message ?? 'the connection closed before the handshake'}`, { cause: error, details: { endpoint: where } }));
        else resolve({ servedChainPem: served, applicationData: data, protocol });
      };
      const timer = setTimeout(() => finish(served ? undefined : new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      socket.once('secureConnect', () => {
        protocol = socket.getProtocol() ?? '';
        served = chainPem(socket.getPeerCertificate(true));
        socket.write(`GET /health HTTP/1.0\r\nHost: ${request.serverName}\r\n\r\n`);
      });
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString('utf8');
        if (data.length > 4096 || data.includes('\n')) finish();
      });
      socket.once('end', () => finish());
      socket.once('close', () => finish());
      socket.once('error', (error) => finish(error));
    });
  }
}

/** The served chain, leaf first, from OpenSSL's peer chain (each certificate once). */
function chainPem(peer: DetailedPeerCertificate): string {
  const blocks: string[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = peer;
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    blocks.push(pemOf(current.raw));
    current = current.issuerCertificate;
  }
  return blocks.length ? `${blocks.join('\n')}\n` : '';
}

/** The served certificates' PEM by their DER, for pemOf. */
const servedPem = contentCache<string>(ContentCacheLimits.servedCertificates);

/**
 * A served certificate as PEM, written by OpenSSL (Node's X509Certificate), once per content:
 * every endpoint of a namespace sends the same intermediate, which would otherwise be parsed again
 * in every handshake.
 */
function pemOf(raw: Buffer): string {
  const key = raw.toString('base64');
  let pem = servedPem.get(key);
  if (pem === undefined) {
    pem = new X509Certificate(raw).toString().trim();
    servedPem.set(key, pem);
  }
  return pem;
}
