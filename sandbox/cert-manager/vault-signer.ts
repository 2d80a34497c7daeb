import { X509Certificate } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { mapVaultError } from '../../functions/adapters/vault/vault-errors';
import { pemBlocksOf } from '../x509/pem-certificates';
import { vaultClientFor } from '../vault/vault-client-for';

/**
 * The Vault side of the sandbox's cert-manager, like cert-manager's own two-method Vault client
 * (`internal/vault/vault.go`): sign a CSR on `<mount>/sign/<role>` (VAULT_API.md 4.11) over HTTPS
 * with node-vault, trusting the Issuer's `caBundle`, and lay the answer out as cert-manager's Vault issuer does: tls.crt is the leaf
 * and its issuing chain without the root, ca.crt is the root.
 */

/** What a cert-manager Vault Issuer is configured with. */
export interface VaultIssuerConfig {
  /** A Vault node's address, e.g. `https://127.0.0.1:8200`. */
  readonly url: string;
  /** The CA (PEM) that signed Vault's listener, as in a Vault Issuer's `spec.vault.caBundle`: trusted instead of the public roots. */
  readonly caBundle?: string;
  /**
   * The token (or a provider, read on every request, for a sandbox whose Vault is initialized
   * after the controller starts). Never logged.
   */
  readonly token: string | (() => string | undefined);
  /** The intermediate's mount, e.g. `pki_int`. */
  readonly mount: string;
  readonly role: string;
}

export interface SignRequest {
  readonly csrPem: string;
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  /** A Go duration (spec.duration); the role's ttl when absent. */
  readonly ttl?: string;
}

export interface TlsBundle {
  /** Leaf first, then the intermediates up to (not including) the root. */
  readonly tlsCrt: string;
  /** The root, or the topmost certificate Vault returned when its chain stops short of a root. */
  readonly caCrt: string;
  readonly leafPem: string;
}

/** Raised (with a message safe to log) when the issuer is not usable or Vault refuses. */
export class VaultIssuerError extends Error {
  override readonly name = 'VaultIssuerError';
  constructor(
    message: string,
    /** The typed certflow error name (VaultSealedError, VaultRequestError, ...), for reasons and tests. */
    readonly kind: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * What the layout needs of a chain certificate, by content: every issuance returns the same
 * intermediate and root, so each is parsed and its self-signature checked once, not per leaf
 * (at 1,000 services that was a second of the cert-manager emulator's CPU). Bounded: a sandbox
 * sees a few issuers per rotation.
 */
const chainFacts = new LRUCache<string, { pem: string; selfSigned: boolean }>({ max: 256 });

function chainFactsOf(der: Buffer): { pem: string; selfSigned: boolean } {
  const key = der.toString('base64');
  const known = chainFacts.get(key);
  if (known) return known;
  const cert = new X509Certificate(der);
  const facts = { pem: cert.toString(), selfSigned: cert.checkIssued(cert) && cert.verify(cert.publicKey) };
  chainFacts.set(key, facts);
  return facts;
}

function normalizedPem(der: Buffer): string {
  return new X509Certificate(der).toString();
}

/**
 * Orders Vault's `certificate` + `ca_chain` (or `issuing_ca`) into the Secret layout; duplicates
 * are dropped and the root, when present, moves to ca.crt.
 */
export function bundleFromVault(data: { certificate: string; ca_chain?: string[] | null; issuing_ca?: string }): TlsBundle {
  const leaf = pemBlocksOf(data.certificate).find((block) => block.type === 'CERTIFICATE');
  if (!leaf) throw new VaultIssuerError('Vault returned no certificate', 'VaultRequestError');
  const chainText = (data.ca_chain && data.ca_chain.length > 0 ? data.ca_chain : [data.issuing_ca ?? '']).join('\n');
  const seen = new Set<string>([leaf.der.toString('base64')]);
  const chain = pemBlocksOf(chainText)
    .filter((block) => block.type === 'CERTIFICATE')
    .filter((block) => {
      const key = block.der.toString('base64');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  const intermediates = chain.filter((block) => !chainFactsOf(block.der).selfSigned);
  const root = chain.find((block) => chainFactsOf(block.der).selfSigned) ?? chain[chain.length - 1];
  const leafPem = normalizedPem(leaf.der);
  return {
    leafPem,
    tlsCrt: [leafPem, ...intermediates.map((block) => chainFactsOf(block.der).pem)].join(''),
    caCrt: root ? chainFactsOf(root.der).pem : '',
  };
}

export interface VaultSigner {
  sign(request: SignRequest): Promise<TlsBundle>;
}

export function createVaultSigner(config: VaultIssuerConfig): VaultSigner {
  // One client per issuer, built once (STYLE.md habit 5); the token is set per request.
  const client = vaultClientFor({ url: config.url, ...(config.caBundle ? { caCertificate: config.caBundle } : {}) });
  const tokenOf = typeof config.token === 'function' ? config.token : () => config.token as string;
  const operation = `${config.mount}/sign/${config.role}`;
  return {
    async sign(request) {
      const token = tokenOf();
      if (!token) throw new VaultIssuerError(`the Vault issuer has no token yet for ${operation}`, 'IssuerNotReady');
      client.token = token;
      const body: Record<string, unknown> = {
        csr: request.csrPem,
        common_name: request.commonName,
        alt_names: request.dnsNames.join(','),
        format: 'pem',
        // As cert-manager's Vault issuer: the names come from the Certificate's SANs.
        exclude_cn_from_sans: request.dnsNames.length > 0,
        ...(request.ttl ? { ttl: request.ttl } : {}),
      };
      let answer: { data?: { certificate?: string; ca_chain?: string[] | null; issuing_ca?: string } };
      try {
        answer = (await client.write(operation, body)) as typeof answer;
      } catch (error) {
        const typed = mapVaultError(error, { operation, address: config.url });
        throw new VaultIssuerError(typed.message, typed.name, { cause: typed });
      }
      if (!answer?.data?.certificate) throw new VaultIssuerError(`${operation} on ${config.url}: the answer has no certificate`, 'VaultRequestError');
      return bundleFromVault({ certificate: answer.data.certificate, ca_chain: answer.data.ca_chain ?? null, ...(answer.data.issuing_ca ? { issuing_ca: answer.data.issuing_ca } : {}) });
    },
  };
}
