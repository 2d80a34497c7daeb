/** Makes a key pair and a CSR in the Lambda's memory (for a CA whose key Vault must not hold). */
export interface KeyFactory {
  /** Secret: the private key is returned once, PKCS#8 PEM, and never logged. */
  csr(request: { commonName: string; organization?: string; keyType: 'ec' | 'rsa'; ca: boolean }): Promise<{ csrPem: string; privateKeyPem: string }>;
}
