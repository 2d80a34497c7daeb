import { EnvNames } from '../../functions/contracts/env';

/**
 * Reads the synthesized CloudFormation template the way the local runner and the infra tests
 * need it: each state machine's DefinitionString evaluated into a parsed ASL object, and each
 * Lambda function with a stable fake ARN and its environment. The definition that runs locally is
 * the one that deploys, so nothing here rewrites a definition beyond evaluating intrinsics.
 *
 * Supported intrinsics: Ref (pseudo parameters and resources), Fn::GetAtt (array or "Id.Attr"
 * form), Fn::Join, Fn::Sub, Fn::Select, Fn::Split. Anything else throws, naming the function.
 */

/** A CloudFormation template, as much of it as the resolver reads. */
export interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnResource>>;
  readonly [key: string]: unknown;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

export interface ResolveOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** @default 'certflow' */
  readonly stackName?: string;
  /**
   * What `Ref` of a resource evaluates to, by logical id (e.g. a table name in the sandbox).
   * @default - a per-type fake (a name, an ARN or a URL derived from the logical id)
   */
  readonly refs?: Readonly<Record<string, string>>;
  /**
   * What `Fn::GetAtt` evaluates to, keyed `LogicalId.Attribute`.
   * @default - a per-type fake ARN derived from the logical id
   */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** An Amazon States Language definition, parsed. */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, Record<string, unknown>>;
  readonly [key: string]: unknown;
}

export interface LambdaFunctionInfo {
  readonly logicalId: string;
  /** The fake ARN the resolved state machine definitions use for this function. */
  readonly arn: string;
  /** The FunctionRegistry id (the function's CERTFLOW_FUNCTION variable), if it has one. */
  readonly functionId: string | undefined;
  /** Timeout in seconds, if the template sets one. */
  readonly timeoutSeconds: number | undefined;
  /** The template's `Handler` (`index.handler`: file `index.js`, export `handler`). */
  readonly handler: string | undefined;
  /** The asset directory in the cloud assembly that holds the function's bundle (`asset.<hash>`). */
  readonly assetDir: string | undefined;
  /**
   * Environment variables: strings as they are; intrinsic values resolved when everything they
   * reference is known (pseudo parameters, `options.refs`, any Fn::GetAtt), else left raw.
   */
  readonly environment: Record<string, string | object>;
  /** The ARN of the role the function runs as (its `Role`), if the template sets one. */
  readonly roleArn: string | undefined;
}

const DEFAULTS = { region: 'us-east-1', accountId: '000000000000', stackName: 'certflow' } as const;
const NO_VALUE = Symbol('AWS::NoValue');

/** Thrown when a value cannot be evaluated; says which intrinsic or resource. */
export class TemplateResolveError extends Error {
  override readonly name = 'TemplateResolveError';
}

/** Logical ids of every AWS::StepFunctions::StateMachine in the template. */
export function listStateMachines(template: CfnTemplate): string[] {
  return logicalIdsOfType(template, 'AWS::StepFunctions::StateMachine');
}

/** Evaluates one state machine's DefinitionString and parses it. */
export function resolveDefinition(template: CfnTemplate, stateMachineLogicalId: string, options: ResolveOptions = {}): AslDefinition {
  const resource = template.Resources[stateMachineLogicalId];
  if (!resource || resource.Type !== 'AWS::StepFunctions::StateMachine') {
    throw new TemplateResolveError(`${stateMachineLogicalId} is not a state machine in this template (have: ${listStateMachines(template).join(', ') || 'none'})`);
  }
  const raw = resource.Properties?.['DefinitionString'] ?? resource.Properties?.['Definition'];
  if (raw === undefined) throw new TemplateResolveError(`${stateMachineLogicalId} has neither DefinitionString nor Definition`);
  const value = new Resolver(template, options).resolve(raw, `${stateMachineLogicalId}.DefinitionString`);
  const definition = (typeof value === 'string' ? JSON.parse(value) : value) as AslDefinition;
  if (typeof definition?.StartAt !== 'string' || typeof definition.States !== 'object') {
    throw new TemplateResolveError(`${stateMachineLogicalId}'s definition has no StartAt/States`);
  }
  return definition;
}

/** Every AWS::Lambda::Function with its fake ARN and environment. */
export function lambdaFunctions(template: CfnTemplate, options: ResolveOptions = {}): LambdaFunctionInfo[] {
  const resolver = new Resolver(template, options);
  return logicalIdsOfType(template, 'AWS::Lambda::Function').map((logicalId) => {
    const properties = template.Resources[logicalId]?.Properties ?? {};
    const variables = ((properties['Environment'] as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
    const environment: Record<string, string | object> = {};
    for (const [name, value] of Object.entries(variables)) {
      environment[name] = typeof value === 'string' ? value : resolver.tryResolveEnv(value);
    }
    const functionId = environment[EnvNames.Function];
    const timeout = properties['Timeout'];
    const handler = properties['Handler'];
    // The bundle is uploaded as `<asset hash>.zip`; the assembly keeps it unzipped as `asset.<hash>`.
    const s3Key = (properties['Code'] as { S3Key?: unknown } | undefined)?.S3Key;
    const assetHash = typeof s3Key === 'string' ? /^([0-9a-f]{64})\.zip$/.exec(s3Key)?.[1] : undefined;
    return {
      logicalId,
      arn: resolver.attribute(logicalId, 'Arn'),
      functionId: typeof functionId === 'string' ? functionId : undefined,
      timeoutSeconds: typeof timeout === 'number' ? timeout : undefined,
      handler: typeof handler === 'string' ? handler : undefined,
      assetDir: assetHash ? `asset.${assetHash}` : undefined,
      environment,
      roleArn: properties['Role'] === undefined ? undefined : String(resolver.resolve(properties['Role'], `${logicalId}.Role`)),
    };
  });
}

/** The ARN of the role a state machine runs as (its `RoleArn`), if the template sets one. */
export function stateMachineRoleArn(template: CfnTemplate, stateMachineLogicalId: string, options: ResolveOptions = {}): string | undefined {
  const roleArn = template.Resources[stateMachineLogicalId]?.Properties?.['RoleArn'];
  return roleArn === undefined ? undefined : String(new Resolver(template, options).resolve(roleArn, `${stateMachineLogicalId}.RoleArn`));
}

/** Evaluates any template value (a property, an output) with the same rules. */
export function resolveValue(template: CfnTemplate, value: unknown, options: ResolveOptions = {}): unknown {
  return new Resolver(template, options).resolve(value, '(value)');
}

function logicalIdsOfType(template: CfnTemplate, type: string): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([logicalId]) => logicalId)
    .sort();
}

class UnresolvedReference extends Error {}

class Resolver {
  private readonly region: string;
  private readonly accountId: string;
  private readonly stackName: string;

  constructor(
    private readonly template: CfnTemplate,
    private readonly options: ResolveOptions,
  ) {
    this.region = options.region ?? DEFAULTS.region;
    this.accountId = options.accountId ?? DEFAULTS.accountId;
    this.stackName = options.stackName ?? DEFAULTS.stackName;
  }

  resolve(value: unknown, where: string): unknown {
    const result = this.evaluate(value, where, false);
    return result === NO_VALUE ? undefined : result;
  }

  /** Resolves an environment value only if every resource Ref in it is in options.refs. */
  tryResolveEnv(value: unknown): string | object {
    try {
      const result = this.evaluate(value, '(environment)', true);
      if (typeof result === 'string') return result;
      return value as object;
    } catch (error) {
      if (error instanceof UnresolvedReference) return value as object;
      throw error;
    }
  }

  attribute(logicalId: string, attribute: string): string {
    const override = this.options.attributes?.[`${logicalId}.${attribute}`];
    if (override !== undefined) return override;
    const resource = this.resource(logicalId, `Fn::GetAtt ${logicalId}.${attribute}`);
    if (attribute === 'Arn') return this.fakeArn(logicalId, resource);
    switch (`${resource.Type}.${attribute}`) {
      case 'AWS::SQS::Queue.QueueName':
      case 'AWS::StepFunctions::StateMachine.Name':
      case 'AWS::Events::EventBus.Name':
        return this.nameOf(logicalId, resource);
      case 'AWS::SQS::Queue.QueueUrl':
        return `https://sqs.${this.region}.amazonaws.com/${this.accountId}/${this.nameOf(logicalId, resource)}`;
      case 'AWS::KMS::Key.KeyId':
        return logicalId;
      default:
        return `${logicalId}.${attribute}`;
    }
  }

  private evaluate(value: unknown, where: string, strictRefs: boolean): unknown {
    if (Array.isArray(value)) {
      return value.map((item, index) => this.evaluate(item, `${where}[${index}]`, strictRefs)).filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      return this.intrinsic(first[0], first[1], where, strictRefs);
    }
    const result: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const evaluated = this.evaluate(item, `${where}.${key}`, strictRefs);
      if (evaluated !== NO_VALUE) result[key] = evaluated;
    }
    return result;
  }

  private intrinsic(name: string, argument: unknown, where: string, strictRefs: boolean): unknown {
    const text = (item: unknown, what: string): string => {
      const evaluated = this.evaluate(item, where, strictRefs);
      if (typeof evaluated === 'string') return evaluated;
      if (typeof evaluated === 'number' || typeof evaluated === 'boolean') return String(evaluated);
      throw new TemplateResolveError(`${where}: ${name} needs a string for ${what}, got ${JSON.stringify(evaluated)}`);
    };
    switch (name) {
      case 'Ref':
        return this.ref(String(argument), where, strictRefs);
      case 'Fn::GetAtt': {
        const [logicalId, ...attribute] = Array.isArray(argument) ? argument.map(String) : String(argument).split('.');
        if (!logicalId || attribute.length === 0) throw new TemplateResolveError(`${where}: malformed Fn::GetAtt ${JSON.stringify(argument)}`);
        return this.attribute(logicalId, attribute.join('.'));
      }
      case 'Fn::Join': {
        const [separator, items] = argument as [string, unknown];
        const list = this.evaluate(items, where, strictRefs);
        if (!Array.isArray(list)) throw new TemplateResolveError(`${where}: Fn::Join needs a list`);
        return list.map((item, index) => text(item, `item ${index}`)).join(separator);
      }
      case 'Fn::Sub': {
        const [template, variables] = Array.isArray(argument) ? (argument as [string, Record<string, unknown>]) : [String(argument), {}];
        return template.replace(/\$\{([^}!][^}]*)\}/g, (_match, variable: string) => {
          if (variable in variables) return text(variables[variable], variable);
          if (variable.includes('.')) {
            const [logicalId, ...attribute] = variable.split('.');
            return this.attribute(logicalId ?? '', attribute.join('.'));
          }
          return text({ Ref: variable }, variable);
        });
      }
      case 'Fn::Select': {
        const [index, items] = argument as [unknown, unknown];
        const list = this.evaluate(items, where, strictRefs);
        const position = Number(this.evaluate(index, where, strictRefs));
        if (!Array.isArray(list) || !(position in list)) throw new TemplateResolveError(`${where}: Fn::Select index ${position} out of range`);
        return list[position];
      }
      case 'Fn::Split': {
        const [separator, source] = argument as [string, unknown];
        return text(source, 'the source').split(separator);
      }
      default:
        throw new TemplateResolveError(`${where}: ${name} is not supported by the template resolver`);
    }
  }

  private ref(target: string, where: string, strictRefs: boolean): unknown {
    switch (target) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.region}:${this.accountId}:stack/${this.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const override = this.options.refs?.[target];
    if (override !== undefined) return override;
    if (strictRefs) throw new UnresolvedReference(target);
    const resource = this.template.Resources[target];
    if (!resource) {
      const parameter = (this.template['Parameters'] as Record<string, { Default?: unknown }> | undefined)?.[target];
      if (parameter?.Default !== undefined) return parameter.Default;
      throw new TemplateResolveError(`${where}: Ref ${target} is neither a resource, a parameter with a default, nor a pseudo parameter`);
    }
    switch (resource.Type) {
      case 'AWS::Lambda::Function':
      case 'AWS::DynamoDB::Table':
      case 'AWS::Events::EventBus':
      case 'AWS::Logs::LogGroup':
      case 'AWS::IAM::Role':
      case 'AWS::Scheduler::Schedule':
        return this.nameOf(target, resource);
      case 'AWS::SQS::Queue':
        return this.attribute(target, 'QueueUrl');
      case 'AWS::SNS::Topic':
      case 'AWS::StepFunctions::StateMachine':
        return this.fakeArn(target, resource);
      default:
        return target;
    }
  }

  private resource(logicalId: string, where: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new TemplateResolveError(`${where}: no resource ${logicalId} in the template`);
    return resource;
  }

  /** The physical name the template gives a resource, or its logical id. */
  private nameOf(logicalId: string, resource: CfnResource): string {
    const override = this.options.refs?.[logicalId];
    if (override !== undefined) return override;
    const nameProperty = NAME_PROPERTIES[resource.Type];
    const name = nameProperty ? resource.Properties?.[nameProperty] : undefined;
    return typeof name === 'string' ? name : logicalId;
  }

  private fakeArn(logicalId: string, resource: CfnResource): string {
    const { region, accountId } = this;
    const name = this.nameOf(logicalId, resource);
    switch (resource.Type) {
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
      case 'AWS::Events::EventBus':
        return `arn:aws:events:${region}:${accountId}:event-bus/${name}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${region}:${accountId}:key/${logicalId}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${region}:${accountId}:${name}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${accountId}:${name}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${accountId}:role/${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`;
      default: {
        const [, service = 'unknown', type = 'resource'] = resource.Type.split('::');
        return `arn:aws:${service.toLowerCase()}:${region}:${accountId}:${type.toLowerCase()}/${name}`;
      }
    }
  }
}

/** The property that holds a resource's physical name, where the template may set one. */
const NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::Events::EventBus': 'Name',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Scheduler::Schedule': 'Name',
};
