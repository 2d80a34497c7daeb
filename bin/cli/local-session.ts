import { dirname } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LocalRunner } from '../../sandbox/runner/local-runner';
import { readTemplate } from '../../sandbox/compose/synthesize';
import { SANDBOX_ACCOUNT, SANDBOX_CREDENTIALS, SANDBOX_REGION } from '../../sandbox/compose/sandbox-constants';
import type { SandboxState } from './sandbox-state';

/**
 * A runner in this CLI process over a sandbox running in another (`certflow sandbox`): the same
 * template and resource names, clients pointed at its endpoints.
 */
export function runnerForRunningSandbox(state: SandboxState, output?: NodeJS.WritableStream): LocalRunner {
  const common = { region: SANDBOX_REGION, credentials: SANDBOX_CREDENTIALS };
  return new LocalRunner({
    template: readTemplate(state.templatePath),
    // The template sits in its cloud assembly, next to the functions' bundles.
    assemblyDir: dirname(state.templatePath),
    region: SANDBOX_REGION,
    accountId: SANDBOX_ACCOUNT,
    refs: state.refs,
    attributes: state.attributes,
    awsEnv: state.functionAwsEnv,
    eventBridge: new EventBridgeClient({ ...common, endpoint: state.awsEnv.AWS_ENDPOINT_URL_EVENTBRIDGE }),
    dynamoDb: new DynamoDBClient({ ...common, endpoint: state.awsEnv.AWS_ENDPOINT_URL_DYNAMODB }),
    ...(output ? { output } : {}),
  });
}
