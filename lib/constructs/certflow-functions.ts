import * as path from 'node:path';
import { repoRoot } from '../repo-root';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';
import type { NetworkPlacement } from './network-placement';
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
   * The customer managed key of the functions' log groups (LogKey).
   * @default - CloudWatch Logs' own encryption (not for a regulated account)
   */
  readonly logKey?: kms.IKey;
  /**
   * Reserved concurrency per function (config functions).
   * @default - none reserved
   */
  readonly reservedConcurrency?: Readonly<Record<FunctionId, number>>;
  /**
   * Where the functions run: the config's VPC, or `{ none: reason }` when the config says there
   * is none, which becomes the acknowledgement of the NIST/PCI "Lambda inside a VPC" finding.
   * @default - outside any VPC, unacknowledged (synthesis fails under cdk-nag)
   */
  readonly network?: { placement: NetworkPlacement } | { none: string };
  /**
   * Functions invoked asynchronously (by an EventBridge rule): each gets a dead-letter queue for
   * the invocations that fail after Lambda's own retries. Every other function is invoked
   * synchronously by a state machine, which retries and catches its errors.
   * @default - none
   */
  readonly asynchronous?: readonly FunctionId[];
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
  private readonly failureQueues = new Map<FunctionId, sqs.Queue>();

  constructor(scope: Construct, id: string, props: CertflowFunctionsProps) {
    super(scope, id);
    const projectRoot = props.projectRoot ?? REPO_ROOT;
    const bundles = new FunctionBundles({ projectRoot, entries: Object.fromEntries(FunctionIds.map((functionId) => [functionId, FunctionRegistry[functionId].entry])) });

    const entries = FunctionIds.map((functionId) => {
      const spec = FunctionRegistry[functionId];
      const logGroup = new logs.LogGroup(this, `${functionId}Logs`, {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        ...(props.logKey ? { encryptionKey: props.logKey } : {}),
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
      const asynchronous = props.asynchronous?.includes(functionId) ?? false;
      const failures = asynchronous ? deadLetterQueue(new Construct(this, `${functionId}Failures`), `${functionId}'s asynchronous invocations`, { ofFunction: true }) : undefined;
      const placement = props.network && 'placement' in props.network ? props.network.placement.functionPlacement : {};

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
        ...(props.reservedConcurrency ? { reservedConcurrentExecutions: props.reservedConcurrency[functionId] } : {}),
        ...(failures ? { deadLetterQueue: failures } : {}),
        ...placement,
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
      if (!asynchronous) {
        const reason = 'Invoked only synchronously, by a state machine task that retries and catches its errors (and alarms when a run fails); a Lambda dead-letter queue receives failed asynchronous invocations, which this function never has.';
        Validations.of(fn).acknowledge({ id: 'NIST.800.53.R5-LambdaDLQ', reason }, { id: 'Serverless-LambdaDLQ', reason });
      }
      if (props.network && 'none' in props.network) {
        const reason = `The config says network.vpc is none: ${props.network.none}`;
        Validations.of(fn).acknowledge({ id: 'NIST.800.53.R5-LambdaInsideVPC', reason }, { id: 'PCI.DSS.321-LambdaInsideVPC', reason });
      }
      if (failures) this.failureQueues.set(functionId, failures);
      return [functionId, fn] as const;
    });
    this.byId = Object.fromEntries(entries) as Record<FunctionId, lambda.Function>;
    if (props.network && 'placement' in props.network) props.network.placement.allowNetworkInterfaces(entries.map(([, fn]) => fn.role!));
  }

  /** The dead-letter queue of an asynchronously invoked function (props.asynchronous). */
  failureQueue(functionId: FunctionId): sqs.Queue {
    const queue = this.failureQueues.get(functionId);
    if (!queue) throw new Error(`${functionId} is not invoked asynchronously and has no dead-letter queue`);
    return queue;
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
