import type { Env } from '../../contracts/env';
import { ConfigError } from '../../contracts/errors';

/**
 * The standard AWS environment variable names the clients are built from. They are AWS's, not
 * certflow's, so they live here and not in contracts/env.ts.
 */
export const AwsEnvNames = {
  Region: 'AWS_REGION',
  DefaultRegion: 'AWS_DEFAULT_REGION',
  AccessKeyId: 'AWS_ACCESS_KEY_ID',
  SecretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  SessionToken: 'AWS_SESSION_TOKEN',
  /** Every service's endpoint, overridden per service by AWS_ENDPOINT_URL_<SERVICE>. */
  EndpointUrl: 'AWS_ENDPOINT_URL',
} as const;

export interface AwsClientOptions {
  /**
   * Per-request timeout. Unseal runs every minute and Step Functions retries: a short timeout
   * turns a hung connection into a retryable Unavailable error instead of a Lambda timeout.
   * @default 3000
   */
  requestTimeoutMs?: number;
  /**
   * SDK attempts per call (its own retries with backoff). Two absorbs a transient blip; more
   * would stack with the state machine's Retry and stretch a run past the next schedule.
   * @default 2
   */
  maxAttempts?: number;
}

/** The constructor config shared by every certflow AWS client. */
export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts: number;
  requestHandler: { requestTimeout: number; connectionTimeout: number; throwOnRequestTimeout: true };
}

/**
 * Region, endpoint and credentials read from an explicit env map rather than process.env, so the
 * local runner can point one process's clients at the sandbox without mutating global state.
 *
 * @param endpointEnvName the service-specific endpoint variable, e.g. `AWS_ENDPOINT_URL_KMS`.
 * @throws ConfigError when no region is set: failing here names the variable, where the SDK
 *   would fail later with an unhelpful `MissingRegion` (VAULT_API.md P11).
 */
export function awsClientConfigFromEnv(env: Env, endpointEnvName: string, options: AwsClientOptions = {}): AwsClientConfig {
  const region = env[AwsEnvNames.Region] || env[AwsEnvNames.DefaultRegion];
  if (!region) throw new ConfigError(`${AwsEnvNames.Region}: required to build AWS clients`, { details: { variable: AwsEnvNames.Region } });

  const requestTimeout = options.requestTimeoutMs ?? 3000;
  const config: AwsClientConfig = {
    region,
    maxAttempts: options.maxAttempts ?? 2,
    // throwOnRequestTimeout: without it the SDK only logs a warning when requestTimeout passes.
    requestHandler: { requestTimeout, connectionTimeout: Math.min(requestTimeout, 1000), throwOnRequestTimeout: true },
  };

  const endpoint = env[endpointEnvName] || env[AwsEnvNames.EndpointUrl];
  if (endpoint) config.endpoint = endpoint;

  const accessKeyId = env[AwsEnvNames.AccessKeyId];
  const secretAccessKey = env[AwsEnvNames.SecretAccessKey];
  // Only a complete pair is used; otherwise the SDK's default chain (the Lambda role) applies.
  if (accessKeyId && secretAccessKey) {
    const sessionToken = env[AwsEnvNames.SessionToken];
    config.credentials = { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
  }
  return config;
}
