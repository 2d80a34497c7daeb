import * as path from 'node:path';
import { repoRoot } from '../repo-root';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EnvNames } from '../../functions/contracts/env';
import { FunctionBundles } from '../bundling/function-bundles';
import { FunctionIds, FunctionRegistry, Metrics, functionRoleName, type FunctionId } from '../../functions/contracts/functions';

/** The repository root: FunctionRegistry entry paths are relative to it. */
const REPO_ROOT = repoRoot();

/** Powertools `service` key on every log line of every certflow function. */
export const SERVICE_NAME = 'certflow';

export interface CertflowFunctionsProps {
  /**
   * Deployment name: each function's role is named `certflow-<deployment>-<FunctionId>`
   * (functionRoleName), so Vault's IAM auth can bind exact role ARNs.
   */
  readonly deploymentName: string;
  /**
   * Extra environment per function, on top of the variables every function gets
   * (function id, Powertools service name and metrics namespace, source maps).
   * @default - no extra variables
   */
  readonly environment?: Partial<Record<FunctionId, Readonly<Record<string, string>>>>;
  /**
   * Memory of every function, in MB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * How long the functions' log groups keep their logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Powertools log level.
   * @default 'INFO'
   */
  readonly logLevel?: string;
  /**
   * Directory the registry's entry paths are relative to (and where package-lock.json lives).
   * @default the repository root
   */
  readonly projectRoot?: string;
}

/**
 * One Lambda function per FunctionRegistry entry, bundled locally with esbuild (no Docker),
 * each with its own role (no managed policies) and its own log group.
 */
export class CertflowFunctions extends Construct {
  private readonly byId: Record<FunctionId, lambda.Function>;

  constructor(scope: Construct, id: string, props: CertflowFunctionsProps) {
    super(scope, id);
    const projectRoot = props.projectRoot ?? REPO_ROOT;
    const bundles = new FunctionBundles({ projectRoot, entries: Object.fromEntries(FunctionIds.map((functionId) => [functionId, FunctionRegistry[functionId].entry])) });

    const entries = FunctionIds.map((functionId) => {
      const spec = FunctionRegistry[functionId];
      const logGroup = new logs.LogGroup(this, `${functionId}Logs`, {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      });
      // An explicit role instead of AWSLambdaBasicExecutionRole (a managed policy that may write to
      // any log group): this one may write only to the function's own log group.
      // One role per function, named per deployment: each holds exactly what its function does.
      const role = new iam.Role(this, `${functionId}Role`, {
        roleName: functionRoleName(props.deploymentName, functionId),
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `certflow ${functionId}: ${spec.description}`,
      });
      logGroup.grantWrite(role);

      const fn = new lambda.Function(this, functionId, {
        // One esbuild build makes every function's bundle (lib/bundling/function-bundles.ts).
        code: bundles.code(functionId),
        handler: 'index.handler',
        description: spec.description,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: props.memorySize ?? 256,
        timeout: Duration.seconds(spec.timeoutSeconds),
        role,
        logGroup,
        tracing: lambda.Tracing.ACTIVE,
        environment: {
          [EnvNames.Function]: functionId,
          [EnvNames.ServiceName]: SERVICE_NAME,
          [EnvNames.MetricsNamespace]: Metrics.Namespace,
          [EnvNames.LogLevel]: props.logLevel ?? 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
          ...props.environment?.[functionId],
        },
      });

      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions (resource "*" is the only option); these are the only "*" resources of this role.',
      });
      return [functionId, fn] as const;
    });
    this.byId = Object.fromEntries(entries) as Record<FunctionId, lambda.Function>;
  }

  /** The function of one registry entry. */
  get(functionId: FunctionId): lambda.Function {
    return this.byId[functionId];
  }

  /** Every function, keyed by registry id. */
  get all(): Readonly<Record<FunctionId, lambda.Function>> {
    return this.byId;
  }
}
