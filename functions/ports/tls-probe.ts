/** A real TLS handshake with a service endpoint, presenting a client certificate (mTLS). */
export interface TlsProbeRequest {
  host: string;
  port: number;
  serverName: string;
  /**
   * The client certificate chain and key certflow presents. Secret: never logged. Absent for a
   * server-only probe: the served chain is still read, but a server that requires client
   * certificates then sends no application data.
   */
  clientCertificatePem?: string;
  clientKeyPem?: string;
  timeoutMs?: number;
}

export interface TlsProbeResult {
  /** The chain the server sent, leaf first, PEM. Judged by the trust checker, not by this probe. */
  servedChainPem: string;
  /** Application data received after the handshake: under TLS 1.3 a client the server refuses still completes its side, so only data proves acceptance. */
  applicationData: string;
  protocol: string;
}

export interface TlsProbe {
  /** Rejects with EndpointUnreachableError when no TLS session could be set up at all. */
  probe(request: TlsProbeRequest): Promise<TlsProbeResult>;
}
