import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Env } from '../../contracts/env';
import { awsClientConfigFromEnv, type AwsClientOptions } from './client-config';

export const EventBridgeEndpointEnvName = 'AWS_ENDPOINT_URL_EVENTBRIDGE';

/** The EventBridge client for one cold start; AWS_ENDPOINT_URL_EVENTBRIDGE points it at the sandbox. */
export function eventBridgeClientFromEnv(env: Env, options?: AwsClientOptions): EventBridgeClient {
  return new EventBridgeClient(awsClientConfigFromEnv(env, EventBridgeEndpointEnvName, options));
}
