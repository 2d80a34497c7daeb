import type { Sandbox } from './sandbox';
import { SANDBOX_ACCOUNT, SANDBOX_REGION } from './sandbox';
import type { ProvisionedResources } from './template-provisioner';
import type { CfnTemplate } from '../runner/template-resolver';
import { LocalRunner } from '../runner/local-runner';
import { startStepFunctionsEmulator, type StepFunctionsEmulatorHandle } from '../stepfunctions/stepfunctions-emulator';
import { startCloudFormationEmulator, type CloudFormationEmulatorHandle } from '../cloudformation/cloudformation-emulator';
import { resolvedStackOutputs } from '../cloudformation/stack-outputs';
import { startLambdaEmulator, type LambdaEmulatorHandle } from '../lambda/lambda-emulator';
import type { Env } from '../../functions/contracts/env';

/**
 * The sandbox plus the synthesized template, provisioned: what `npm start`, `certflow unseal
 * --local` and the workflow tests run state machines against.
 */
export interface LocalCloud {
  sandbox: Sandbox;
  template: CfnTemplate;
  provisioned: ProvisionedResources;
  runner: LocalRunner;
  /**
   * The Step Functions API over the runner (AWS_ENDPOINT_URL_SFN in every function's environment),
   * so PreemptRotation stops rotations here exactly as in AWS. Closed with the sandbox.
   */
  stepFunctions: StepFunctionsEmulatorHandle;
  /**
   * DescribeStacks for the synthesized stack (`certflow-<config name>`, as bin/app.ts names it),
   * its outputs resolved to what this sandbox runs: what `certflow --stack` reads. Closed with the sandbox.
   */
  cloudFormation: CloudFormationEmulatorHandle;
  /** The name the template deploys as, which the CloudFormation emulator describes. */
  stackName: string;
  /** Lambda Invoke over the runner's functions (`certflow plan --stack`). Closed with the sandbox. */
  lambda: LambdaEmulatorHandle;
  /**
   * The sandbox's AWS_* variables plus the endpoints that exist once the template runs (Step
   * Functions, CloudFormation, Lambda): with them the CLI's AWS paths (`--stack`) reach this sandbox.
   */
  awsEnv: Env;
  /** Every log and metric line the handlers wrote, for the report and the secret scan (I2). */
  logLines(): string[];
}

/** A synthesized template and the cloud assembly that holds its functions' bundles. */
export interface AssemblyRef {
  template: CfnTemplate;
  assemblyDir: string;
}

export async function createLocalCloud(sandbox: Sandbox, assembly: AssemblyRef, options: { retryIntervalMs?: number } = {}): Promise<LocalCloud> {
  const { template, assemblyDir } = assembly;
  const provisioned = await sandbox.provision(template);
  const lines: string[] = [];
  const { Writable } = await import('node:stream');
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line);
      callback();
    },
  });
  const runner = new LocalRunner({
    template,
    assemblyDir,
    region: SANDBOX_REGION,
    accountId: SANDBOX_ACCOUNT,
    refs: provisioned.refs,
    attributes: provisioned.attributes,
    awsEnv: sandbox.functionAwsEnv(),
    eventBridge: sandbox.eventBridgeClient,
    dynamoDb: sandbox.dynamoDbClient,
    authorizer: sandbox.iam.authorize.bind(sandbox.iam),
    assumeRole: sandbox.iam.assumeRole.bind(sandbox.iam),
    output,
    ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
  });
  const stepFunctions = await startStepFunctionsEmulator({ runner, region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT });
  sandbox.onClose(() => stepFunctions.close());
  runner.extendEnv({ AWS_ENDPOINT_URL_SFN: stepFunctions.endpoint });
  const stackName = `certflow-${sandbox.config.name}`;
  const outputs = resolvedStackOutputs(template, { region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT, stackName, refs: provisioned.refs, attributes: provisioned.attributes, stateMachineArns: stepFunctions.stateMachineArns() });
  const cloudFormation = await startCloudFormationEmulator({ stacks: [{ stackName, outputs }], region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT });
  sandbox.onClose(() => cloudFormation.close());
  cloudFormation.setAuthorizer(runner.authorizer);
  const lambda = await startLambdaEmulator({ runner, region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT });
  sandbox.onClose(async () => {
    await lambda.close();
    await lambda.settled();
  });
  lambda.setAuthorizer(runner.authorizer);
  const awsEnv: Env = { ...sandbox.awsEnv, AWS_ENDPOINT_URL_SFN: stepFunctions.endpoint, AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint, AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint };
  return { sandbox, template, provisioned, runner, stepFunctions, cloudFormation, stackName, lambda, awsEnv, logLines: () => [...lines] };
}
