import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { KubeConfig } from '@kubernetes/client-node';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { ClusterSpec } from '../../contracts/clusters';
import type { Env } from '../../contracts/env';
import { ConfigError } from '../../contracts/errors';
import { systemClock, type Clock } from '../../ports/clock';
import type { Cluster } from '../../ports/cluster';
import { awsClientConfigFromEnv } from '../aws/client-config';
import { awsCallError } from '../aws/aws-call-error';
import { expiringCache } from '../expiring-cache';
import { KubernetesCluster, type KubeConfigSource, type KubernetesClusterOptions } from './kubernetes-cluster';

/**
 * The three ways certflow gets a KubeConfig (DESIGN.md Config: "clusters (EKS name or kubeconfig
 * secret)"), each a KubeConfigSource that hands out the same instance until its credentials
 * should be renewed. Tokens and kubeconfig text stay inside these closures: never logged, never
 * in an error message.
 */

/** An EKS token is accepted for 15 minutes; it is replaced after 10 so no call starts with one about to lapse. */
export const EKS_TOKEN_REFRESH_MS = 10 * 60_000;
/**
 * What `aws eks get-token` puts in the presigned URL. The API server's authenticator checks that
 * X-Amz-Expires is at most 60 and that x-k8s-aws-id is signed.
 */
export const EKS_PRESIGN_EXPIRES_SECONDS = 60;
const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/**
 * Caches what `load` returns for `maxAgeMs` of the injected clock, counted from when the load
 * began: expiringCache, the same cache and expiry rule as the Vault logins.
 */
export function cachedFor<T>(load: () => Promise<T>, clock: Clock, maxAgeMs: number): () => Promise<T> {
  const cache = expiringCache(async () => {
    const startedAt = clock.now().getTime();
    return { value: await load(), expiresAt: new Date(startedAt + maxAgeMs) };
  }, clock);
  return () => cache.get();
}

// RFC 3986 unreserved characters stay; everything else is percent-encoded, as SigV4 canonicalizes.
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface EksTokenOptions {
  /** The EKS cluster name: the signed `x-k8s-aws-id` header, which binds the token to that cluster. */
  clusterName: string;
  /** The cluster's region: the STS endpoint and the credential scope. */
  region: string;
  credentials: AwsCredentialIdentityProvider;
  clock: Clock;
  /** @default `https://sts.<region>.amazonaws.com/` (regional STS, as `aws eks get-token` uses) */
  stsEndpoint?: string;
}

/**
 * A bearer token for EKS, exactly as `aws eks get-token` and aws-iam-authenticator make it: a
 * SigV4-presigned `GET sts:GetCallerIdentity` URL, valid 60 s for the authenticator to replay,
 * with `x-k8s-aws-id: <cluster>` among the signed headers, base64url-encoded without padding
 * behind `k8s-aws-v1.`. The cluster's authenticator calls STS with it and maps the caller's ARN
 * (the Lambda role) to Kubernetes RBAC through the aws-auth ConfigMap or an access entry.
 */
export async function eksToken(options: EksTokenOptions): Promise<string> {
  const endpoint = new URL(options.stsEndpoint ?? `https://sts.${options.region}.amazonaws.com/`);
  const signer = new SignatureV4({ service: 'sts', region: options.region, credentials: options.credentials, sha256: Hash.bind(null, 'sha256') });
  const request = new HttpRequest({
    method: 'GET',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port && { port: Number(endpoint.port) }),
    path: endpoint.pathname,
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: endpoint.host, [CLUSTER_ID_HEADER]: options.clusterName },
  });
  let presigned: HttpRequest;
  try {
    presigned = (await signer.presign(request, { expiresIn: EKS_PRESIGN_EXPIRES_SECONDS, signingDate: options.clock.now() })) as HttpRequest;
  } catch (error) {
    // Usually the credential chain: no role credentials here is a refusal, not a blip to retry.
    throw awsCallError(`signing the EKS token for cluster ${options.clusterName}`, error, { cluster: options.clusterName });
  }
  const query = Object.entries(presigned.query)
    .map(([key, value]) => `${encodeRfc3986(key)}=${encodeRfc3986(String(value))}`)
    .join('&');
  const url = `${endpoint.protocol}//${endpoint.host}${endpoint.pathname}?${query}`;
  // Node's base64url alphabet has no padding, which is what the authenticator expects.
  return EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

/** An EKS token cached for {@link EKS_TOKEN_REFRESH_MS}: one signature per ten minutes per cold start. */
export function cachedEksToken(options: EksTokenOptions & { refreshAfterMs?: number }): () => Promise<string> {
  return cachedFor(() => eksToken(options), options.clock, options.refreshAfterMs ?? EKS_TOKEN_REFRESH_MS);
}

export interface KubeConfigOptions {
  /** Cluster, user and context name inside the KubeConfig. */
  name: string;
  server: string;
  token: string;
  /** Base64 PEM of the CA to trust (certificate-authority-data); system roots when absent. */
  caData?: string;
  /** Sandbox only. Implied for `http://`, where client-node needs it set (TOOLCHAIN.md). */
  skipTlsVerify?: boolean;
}

/** A single-context KubeConfig with a bearer token (the sandbox, a stored token, an EKS token). */
export function kubeConfigFromOptions(options: KubeConfigOptions): KubeConfig {
  const kc = new KubeConfig();
  const skipTLSVerify = options.skipTlsVerify === true || options.server.startsWith('http://');
  kc.loadFromOptions({
    clusters: [{ name: options.name, server: options.server, skipTLSVerify, ...(options.caData !== undefined && { caData: options.caData }) }],
    users: [{ name: options.name, token: options.token }],
    contexts: [{ name: options.name, cluster: options.name, user: options.name }],
    currentContext: options.name,
  });
  return kc;
}

export interface EksKubeConfigOptions {
  clusterName: string;
  /** The cluster's `endpoint` from DescribeCluster. */
  endpoint: string;
  /** The cluster's `certificateAuthority.data` (base64 PEM). */
  caData: string;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  clock: Clock;
  stsEndpoint?: string;
  /** @default EKS_TOKEN_REFRESH_MS */
  refreshAfterMs?: number;
}

/** A KubeConfigSource for EKS: a new KubeConfig (and token) every ten minutes, the same one between. */
export function eksKubeConfigSource(options: EksKubeConfigOptions): KubeConfigSource {
  const tokenOptions: EksTokenOptions = {
    clusterName: options.clusterName,
    region: options.region,
    credentials: options.credentials,
    clock: options.clock,
    ...(options.stsEndpoint !== undefined && { stsEndpoint: options.stsEndpoint }),
  };
  return cachedFor(
    async () => kubeConfigFromOptions({ name: options.clusterName, server: options.endpoint, caData: options.caData, token: await eksToken(tokenOptions) }),
    options.clock,
    options.refreshAfterMs ?? EKS_TOKEN_REFRESH_MS,
  );
}

/**
 * A secret string from Secrets Manager. Throttling, 5xx and network failures are retryable
 * AwsUnavailableErrors; anything else (no such secret, access denied) is a deployment mistake and
 * a ConfigError naming the secret and the exception, never the value.
 */
export async function readSecretString(client: SecretsManagerClient, secretArn: string): Promise<string> {
  let value: string | undefined;
  try {
    value = (await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (error) {
    throw awsCallError(`reading secret ${secretArn}`, error, { secretArn });
  }
  if (!value) throw new ConfigError(`secret ${secretArn} has no string value`, { details: { secretArn } });
  return value;
}

/**
 * Parses kubeconfig YAML. The parser's own message is not passed on: it may quote the line it
 * choked on, and that line may be the token.
 */
export function kubeConfigFromYaml(text: string, source: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch {
    throw new ConfigError(`${source} does not hold a kubeconfig YAML`, { details: { source } });
  }
  if (!kc.getCurrentCluster()) throw new ConfigError(`the kubeconfig in ${source} has no current-context naming a cluster`, { details: { source } });
  return kc;
}

export interface KubeconfigSecretOptions {
  secretArn: string;
  secrets: SecretsManagerClient;
  clock: Clock;
  /** Re-read after this long, so a rotated kubeconfig is picked up without a cold start. @default 10 minutes */
  refreshAfterMs?: number;
}

/** A KubeConfigSource read from a Secrets Manager secret holding kubeconfig YAML. */
export function kubeconfigSecretSource(options: KubeconfigSecretOptions): KubeConfigSource {
  return cachedFor(
    async () => kubeConfigFromYaml(await readSecretString(options.secrets, options.secretArn), `secret ${options.secretArn}`),
    options.clock,
    options.refreshAfterMs ?? 10 * 60_000,
  );
}

export interface ClusterDependencies {
  /** AWS region, endpoints (AWS_ENDPOINT_URL_SECRETS_MANAGER) and credentials for Secrets Manager and signing. */
  env: Env;
  /** @default systemClock */
  clock?: Clock;
  /** EKS signing credentials. @default the env's key pair when complete, else the SDK default chain (the Lambda role) */
  credentials?: AwsCredentialIdentityProvider;
  /** @default a client built from `env`, only for the forms that read a secret */
  secretsManager?: SecretsManagerClient;
  /** Retry, timeout and paging settings of the adapter. */
  cluster?: Omit<KubernetesClusterOptions, 'name' | 'kubeConfig' | 'clock'>;
}

function credentialsFrom(env: Env): AwsCredentialIdentityProvider {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const sessionToken = env.AWS_SESSION_TOKEN;
  // An explicit env map (the local runner) wins; in Lambda the role's credentials come from the default chain.
  if (accessKeyId && secretAccessKey) return async () => ({ accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) });
  return defaultProvider();
}

/**
 * The Cluster adapter for one validated cluster spec (functions/contracts/clusters.ts). Built
 * once per cold start; nothing is called until the first operation.
 */
export function clusterFromSpec(spec: ClusterSpec, dependencies: ClusterDependencies): Cluster {
  const clock = dependencies.clock ?? systemClock;
  let secrets = dependencies.secretsManager;
  const secretsManager = () => (secrets ??= new SecretsManagerClient(awsClientConfigFromEnv(dependencies.env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER')));
  const kubeConfig = ((): KubeConfigSource => {
    switch (spec.auth) {
      case 'eks':
        return eksKubeConfigSource({
          clusterName: spec.name,
          endpoint: spec.endpoint,
          caData: spec.caData,
          region: spec.region,
          credentials: dependencies.credentials ?? credentialsFrom(dependencies.env),
          clock,
        });
      case 'kubeconfig-secret':
        return kubeconfigSecretSource({ secretArn: spec.secretArn, secrets: secretsManager(), clock });
      case 'token': {
        const options = { name: spec.name, server: spec.server, skipTlsVerify: spec.skipTlsVerify, ...(spec.caData !== undefined && { caData: spec.caData }) };
        if (spec.token !== undefined) {
          const kc = kubeConfigFromOptions({ ...options, token: spec.token });
          return () => kc;
        }
        const secretArn = spec.tokenSecretArn;
        if (secretArn === undefined) throw new ConfigError(`cluster ${spec.name}: give token or tokenSecretArn`, { details: { cluster: spec.name } });
        return cachedFor(async () => kubeConfigFromOptions({ ...options, token: (await readSecretString(secretsManager(), secretArn)).trim() }), clock, 10 * 60_000);
      }
    }
  })();
  return new KubernetesCluster({ ...dependencies.cluster, name: spec.name, kubeConfig, clock });
}
