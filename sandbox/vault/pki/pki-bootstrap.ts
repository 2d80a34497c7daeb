import type NodeVault = require('node-vault');
import type { VaultClusterHandle } from '../vault-cluster';
import { vaultClientFor } from '../vault-client-for';

/**
 * A ready PKI on an emulated cluster, built the way an operator (and certflow's rotation, DESIGN.md
 * step 4) builds it, over HTTP with the real node-vault client, so it doubles as an end-to-end
 * check of the emulator: enable both mounts, generate the root (10 y), generate an intermediate
 * CSR, sign it on the root mount (5 y), import it with its chain, name it, make it the default,
 * and create the role (server and client flags, 30 d). The cluster must already have the PKI
 * routes registered (createPkiRoutes) and be initialized and unsealed.
 */

export interface PkiBootstrapOptions {
  /** The emulated cluster; or, for a Vault in another process, `url` and `token`. */
  readonly handle?: VaultClusterHandle;
  /** One node's address (instead of `handle`). */
  readonly url?: string;
  /** @default handle.rootToken() */
  readonly token?: string;
  /** The CA (PEM) of the node's HTTPS listener; none for a node serving plain HTTP (emulator tests). */
  readonly caCertificate?: string;
  /** Node of `handle` to talk to. @default the first node */
  readonly nodeId?: string;
  readonly rootMount: string;
  readonly intermediateMount: string;
  readonly role: string;
  readonly allowedDomains: readonly string[];
  readonly keyType: 'ec' | 'rsa';
  /** @default 'certflow Root CA' */
  readonly rootCommonName?: string;
  /** @default 'certflow Intermediate CA' */
  readonly intermediateCommonName?: string;
  /** @default 'root' */
  readonly rootIssuerName?: string;
  /** @default 'intermediate' */
  readonly intermediateIssuerName?: string;
}

export interface PkiBootstrapResult {
  readonly rootIssuerId: string;
  readonly intermediateIssuerId: string;
  readonly intermediateKeyId: string;
  /** Colon form; the intermediate is a stored certificate of the root mount (revocable there). */
  readonly intermediateSerial: string;
  readonly rootCertificate: string;
  readonly intermediateCertificate: string;
}

const ROOT_TTL = '87600h';
const INTERMEDIATE_TTL = '43800h';
const LEAF_TTL = '720h';

interface Envelope<T> {
  data: T;
}

/** Mounting twice is fine for a bootstrap: `path is already in use` means it is there. */
async function enablePki(client: NodeVault.client, path: string): Promise<void> {
  try {
    await client.write(`sys/mounts/${path}`, { type: 'pki', config: { max_lease_ttl: ROOT_TTL } });
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('path is already in use')) throw err;
  }
}

export async function bootstrapPki(options: PkiBootstrapOptions): Promise<PkiBootstrapResult> {
  const token = options.token ?? options.handle?.rootToken();
  if (!token) throw new Error('bootstrapPki: the cluster has no root token; bootstrap() it first');
  const url = options.url ?? (options.nodeId ? options.handle?.node(options.nodeId) : options.handle?.nodes[0])?.url;
  if (!url) throw new Error('bootstrapPki: no node to talk to (give handle or url)');
  const client = vaultClientFor({ url, token, ...(options.caCertificate ? { caCertificate: options.caCertificate } : {}) });
  const root = options.rootMount;
  const int = options.intermediateMount;

  await enablePki(client, root);
  await enablePki(client, int);

  const generated = (await client.write(`${root}/root/generate/internal`, {
    common_name: options.rootCommonName ?? 'certflow Root CA',
    issuer_name: options.rootIssuerName ?? 'root',
    key_type: options.keyType,
    ttl: ROOT_TTL,
  })) as Envelope<{ issuer_id: string; certificate: string }>;

  const csr = (await client.write(`${int}/intermediate/generate/internal`, {
    common_name: options.intermediateCommonName ?? 'certflow Intermediate CA',
    key_type: options.keyType,
  })) as Envelope<{ csr: string; key_id: string }>;

  const signed = (await client.write(`${root}/issuer/${generated.data.issuer_id}/sign-intermediate`, {
    csr: csr.data.csr,
    common_name: options.intermediateCommonName ?? 'certflow Intermediate CA',
    ttl: INTERMEDIATE_TTL,
  })) as Envelope<{ certificate: string; issuing_ca: string; serial_number: string }>;

  // Certificate plus chain, so the intermediate mount knows the root too (P2).
  const imported = (await client.write(`${int}/intermediate/set-signed`, {
    certificate: `${signed.data.certificate}\n${signed.data.issuing_ca}`,
  })) as Envelope<{ mapping: Record<string, string> }>;
  const intermediateIssuerId = Object.entries(imported.data.mapping).find(([, keyId]) => keyId === csr.data.key_id)?.[0];
  if (!intermediateIssuerId) throw new Error('bootstrapPki: set-signed did not map the intermediate to the CSR key');

  await client.update(`${int}/issuer/${intermediateIssuerId}`, { issuer_name: options.intermediateIssuerName ?? 'intermediate' });
  // Import moves the default only when there was none (P1): set it explicitly.
  await client.write(`${int}/config/issuers`, { default: intermediateIssuerId });
  await client.write(`${int}/roles/${options.role}`, {
    issuer_ref: 'default',
    allowed_domains: [...options.allowedDomains],
    allow_subdomains: true,
    allow_bare_domains: true,
    allow_localhost: true,
    server_flag: true,
    client_flag: true,
    key_type: options.keyType,
    ttl: LEAF_TTL,
    max_ttl: LEAF_TTL,
  });

  return {
    rootIssuerId: generated.data.issuer_id,
    intermediateIssuerId,
    intermediateKeyId: csr.data.key_id,
    intermediateSerial: signed.data.serial_number,
    rootCertificate: generated.data.certificate,
    intermediateCertificate: signed.data.certificate,
  };
}
