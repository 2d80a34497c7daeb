import { KMSClient } from '@aws-sdk/client-kms';
import type { Env } from '../../contracts/env';
import { awsClientConfigFromEnv, type AwsClientOptions } from '../aws/client-config';

export const KmsEndpointEnvName = 'AWS_ENDPOINT_URL_KMS';

/** The KMS client for one cold start; AWS_ENDPOINT_URL_KMS points it at the sandbox (or a VPC endpoint). */
export function kmsClientFromEnv(env: Env, options?: AwsClientOptions): KMSClient {
  return new KMSClient(awsClientConfigFromEnv(env, KmsEndpointEnvName, options));
}
