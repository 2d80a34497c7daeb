import type { Sandbox } from './sandbox';
import { SANDBOX_ACCOUNT, SANDBOX_REGION } from './sandbox';
import type { ProvisionedResources } from './template-provisioner';
import type { CfnTemplate } from '../runner/template-resolver';
import { LocalRunner } from '../runner/local-runner';
import { startStepFunctionsEmulator, type StepFunctionsEmulatorHandle } from '../stepfunctions/stepfunctions-emulator';

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
  return { sandbox, template, provisioned, runner, stepFunctions, logLines: () => [...lines] };
}
