import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Env } from '../../contracts/env';
import { awsClientConfigFromEnv, type AwsClientOptions } from './client-config';

export const DynamoDbEndpointEnvName = 'AWS_ENDPOINT_URL_DYNAMODB';

/** The DynamoDB client for one cold start; AWS_ENDPOINT_URL_DYNAMODB points it at the sandbox. */
export function dynamoDbClientFromEnv(env: Env, options?: AwsClientOptions): DynamoDBClient {
  return new DynamoDBClient(awsClientConfigFromEnv(env, DynamoDbEndpointEnvName, options));
}
