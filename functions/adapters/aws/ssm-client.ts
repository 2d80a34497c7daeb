import { SSMClient } from '@aws-sdk/client-ssm';
import type { Env } from '../../contracts/env';
import { awsClientConfigFromEnv, type AwsClientOptions } from './client-config';

export const SsmEndpointEnvName = 'AWS_ENDPOINT_URL_SSM';

/** The SSM client for one cold start; AWS_ENDPOINT_URL_SSM points it at the sandbox (or a VPC endpoint). */
export function ssmClientFromEnv(env: Env, options?: AwsClientOptions): SSMClient {
  return new SSMClient(awsClientConfigFromEnv(env, SsmEndpointEnvName, options));
}
