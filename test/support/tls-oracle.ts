import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';

/**
 * The I1 oracle: Node's TLS (OpenSSL) decides whether a peer holding `ca` would accept what the
 * endpoint serves, never certflow's own checker (DESIGN.md I9). The chain is verified by OpenSSL
 * against the bundle alone (`allowPartialTrustChain`: a bundle may trust an intermediate
 * directly, as PublishTrust's overlap bundles do), each declared name by Node's
 * `checkServerIdentity`, and acceptance of certflow's client certificate by application data
 * (under TLS 1.3 a refused client still completes its side of the handshake).
 */
export interface OracleRequest {
  host: string;
  port: number;
  /** The first is sent as SNI; every one must be covered by the served certificate. */
  names: readonly string[];
  /** The peer's trust bundle, PEM. */
  ca: string;
  clientCertificatePem: string;
  clientKeyPem: string;
  timeoutMs?: number;
}

export interface OracleAnswer {
  /** OpenSSL verified the chain to `ca` and every name matched. */
  trusted: boolean;
  /** Why not, in OpenSSL's or Node's words. */
  error?: string;
  applicationData: string;
}

export function tlsOracle(request: OracleRequest): Promise<OracleAnswer> {
  return new Promise((resolve) => {
    let data = '';
    let nameError: Error | undefined;
    let settled = false;
    const socket = connect({
      host: request.host,
      port: request.port,
      servername: request.names[0],
      ca: request.ca || undefined,
      allowPartialTrustChain: true,
      cert: request.clientCertificatePem,
      key: request.clientKeyPem,
      rejectUnauthorized: false,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => {
        for (const name of request.names) nameError ??= checkServerIdentity(name, cert);
        return undefined;
      },
    });
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const verifyError = socket.authorizationError ? String(socket.authorizationError) : undefined;
      socket.destroy();
      const why = verifyError ?? nameError?.message ?? error?.message;
      resolve({ trusted: socket.authorized && !nameError && !verifyError, ...(why ? { error: why } : {}), applicationData: data });
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${request.timeoutMs ?? 3000} ms`)), request.timeoutMs ?? 3000);
    socket.once('secureConnect', () => socket.write(`GET /health HTTP/1.0\r\nHost: ${request.names[0]}\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('utf8');
      if (data.length > 4096 || data.includes('\n')) finish();
    });
    socket.once('end', () => finish());
    socket.once('close', () => finish());
    socket.once('error', (error) => finish(error));
  });
}
