import type NodeVault = require('node-vault');
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { mapVaultError } from './vault-errors';
import { VaultPermissionError } from '../../contracts/errors';
import { expiringCache, type ExpiringCache } from '../expiring-cache';
import type { Clock } from '../../ports/clock';

/**
 * A Vault token for the PKI calls, kept per cold start and replaced before it expires
 * (VAULT_API.md 6.3: log in again rather than keep a token alive). Never logged.
 */
export interface TokenProvider {
  token(): Promise<string>;
  /** Forget the cached token (after a 403), so the next call logs in again. */
  invalidate(): void;
}

interface LoginResult {
  token: string;
  /** Seconds; 0 means the token does not expire (a root or periodic token). */
  leaseDuration: number;
}

/**
 * Caches a login. A token is replaced when less than a third of its lease (or 5 minutes,
 * whichever is more) is left: a Lambda invocation must never start with a token that can expire
 * halfway through a rotation step.
 */
export class CachedLogin implements TokenProvider {
  private readonly cache: ExpiringCache<string>;

  constructor(login: () => Promise<LoginResult>, clock: Clock) {
    this.cache = expiringCache(async () => {
      const startedAt = clock.now().getTime();
      const result = await login();
      const lease = result.leaseDuration * 1000;
      // Renew a third of the way before the lease ends, at least five minutes early, so a step
      // never starts a run of calls on a token about to expire. A lease of 0 never expires.
      const margin = Math.max(lease / 3, 5 * 60_000);
      return { value: result.token, ...(lease > 0 && { expiresAt: new Date(startedAt + Math.max(lease - margin, 0)) }) };
    }, clock);
  }

  token(): Promise<string> {
    return this.cache.get();
  }

  invalidate(): void {
    this.cache.invalidate();
  }
}

/** A fixed token (from Secrets Manager, or the sandbox). */
export function staticToken(token: string): TokenProvider {
  return { token: async () => token, invalidate: () => undefined };
}

function authOf(body: unknown, operation: string): LoginResult {
  const auth = (body as { auth?: { client_token?: string; lease_duration?: number } } | undefined)?.auth;
  if (!auth?.client_token) throw new VaultPermissionError(`${operation} returned no client token`);
  return { token: auth.client_token, leaseDuration: auth.lease_duration ?? 0 };
}

/** AppRole login (6.2). Invalid credentials are a 400 `invalid role or secret ID`. */
export function appRoleLogin(client: NodeVault.client, credentials: () => Promise<{ roleId: string; secretId: string }>, mount = 'approle'): () => Promise<LoginResult> {
  return async () => {
    const { roleId, secretId } = await credentials();
    try {
      return authOf(await client.write(`auth/${mount}/login`, { role_id: roleId, secret_id: secretId }), 'approle login');
    } catch (error) {
      throw mapVaultError(error, { operation: `auth/${mount}/login`, address: client.endpoint });
    }
  };
}

export interface AwsIamLoginOptions {
  role: string;
  mount?: string;
  credentials: AwsCredentialIdentityProvider;
  /**
   * Region to sign for. Vault checks against global STS (us-east-1) unless configured otherwise;
   * a mismatch is `SignatureDoesNotMatch` (P9). @default 'us-east-1'
   */
  stsRegion?: string;
  /** @default 'https://sts.amazonaws.com/' */
  stsEndpoint?: string;
  /** Set when the mount's config/client has iam_server_id_header_value. */
  serverIdHeader?: string;
  clock: Clock;
}

/**
 * The request Vault's AWS IAM method expects (6.1): a SigV4-signed sts:GetCallerIdentity, with
 * the session token and (when configured) X-Vault-AWS-IAM-Server-ID among the signed headers,
 * handed over as base64 fields. node-vault does not sign; this does.
 */
export async function signedGetCallerIdentity(options: Omit<AwsIamLoginOptions, 'role' | 'mount'>): Promise<Record<string, string>> {
  const endpoint = new URL(options.stsEndpoint ?? 'https://sts.amazonaws.com/');
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const headers: Record<string, string> = {
    host: endpoint.host,
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
  };
  if (options.serverIdHeader) headers['x-vault-aws-iam-server-id'] = options.serverIdHeader;
  const signer = new SignatureV4({ service: 'sts', region: options.stsRegion ?? 'us-east-1', credentials: options.credentials, sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign(
    new HttpRequest({ method: 'POST', protocol: endpoint.protocol, hostname: endpoint.hostname, path: endpoint.pathname, headers, body }),
    { signingDate: options.clock.now() },
  );
  const asLists = Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name, [value]]));
  return {
    iam_http_request_method: 'POST',
    iam_request_url: Buffer.from(endpoint.toString()).toString('base64'),
    iam_request_body: Buffer.from(body).toString('base64'),
    iam_request_headers: Buffer.from(JSON.stringify(asLists)).toString('base64'),
  };
}

export function awsIamLogin(client: NodeVault.client, options: AwsIamLoginOptions): () => Promise<LoginResult> {
  return async () => {
    const request = await signedGetCallerIdentity(options);
    const mount = options.mount ?? 'aws';
    try {
      return authOf(await client.write(`auth/${mount}/login`, { role: options.role, ...request }), 'aws iam login');
    } catch (error) {
      throw mapVaultError(error, { operation: `auth/${mount}/login`, address: client.endpoint });
    }
  };
}

export type { AwsCredentialIdentity };
