import type { CfnTemplate } from '../runner/template-resolver';
import { credentialsForRole } from '../iam/role-credentials';
import { sandboxRoleArn } from '../iam/template-iam';
import type { EventBridgeEmulatorHandle, RecordedEvent } from './eventbridge-emulator';
import { matchesPattern, type EventPattern } from './rules-pattern';

/** An EventBridge rule of the template that targets a state machine. */
export interface StateMachineRule {
  ruleLogicalId: string;
  /** The bus name the rule listens on (`default` when the rule names none). */
  bus: string;
  pattern: EventPattern;
  /** `roleArn`: the role EventBridge starts the target as (the target's RoleArn). */
  targets: Array<{ stateMachineLogicalId: string; input?: string; inputPath?: string; roleArn?: string }>;
}

/** Starts an execution of the rule's target; the input is the JSON the target receives. */
export type StartRuleTarget = (stateMachineLogicalId: string, input: string, rule: StateMachineRule) => Promise<unknown> | unknown;

export interface RouteRulesOptions {
  /** Physical names of template resources by logical id (the provisioned bus names). @default {} */
  refs?: Record<string, string>;
  /** The account the envelope names. @default the handle's account, else '000000000000' */
  accountId?: string;
  /** Called when a target could not be started (the event stays on the bus, as with a failed AWS delivery). */
  onError?: (error: unknown, rule: StateMachineRule, event: RecordedEvent) => void;
  /** Decides by the target role's trust policy whether EventBridge may assume it (IamAuthorizer.assumeRole). */
  assumeRole?: (servicePrincipal: string, roleArn: string, sourceArn?: string) => Promise<void>;
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

/**
 * Every enabled AWS::Events::Rule whose targets include a state machine of the template (an Arn
 * that is a Ref or GetAtt of an AWS::StepFunctions::StateMachine). Other targets are ignored.
 */
export function stateMachineRules(template: CfnTemplate, refs: Record<string, string> = {}, accountId = '000000000000'): StateMachineRule[] {
  const resources = (template.Resources ?? {}) as Record<string, Resource>;
  const isStateMachine = (id: unknown): id is string => typeof id === 'string' && resources[id]?.Type === 'AWS::StepFunctions::StateMachine';
  const rules: StateMachineRule[] = [];
  for (const [ruleLogicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Events::Rule' || !resource.Properties) continue;
    const properties = resource.Properties;
    if (properties.State !== undefined && properties.State !== 'ENABLED') continue;
    if (typeof properties.EventPattern !== 'object' || properties.EventPattern === null) continue;
    const targets: StateMachineRule['targets'] = [];
    for (const target of (properties.Targets ?? []) as Array<Record<string, unknown>>) {
      const stateMachine = referencedLogicalId(target.Arn);
      if (!isStateMachine(stateMachine)) continue;
      const roleLogicalId = referencedLogicalId(target.RoleArn);
      const role = roleLogicalId === undefined ? undefined : resources[roleLogicalId];
      targets.push({
        ...(role?.Type === 'AWS::IAM::Role' ? { roleArn: sandboxRoleArn(accountId, roleLogicalId!, role.Properties ?? {}) } : {}),
        stateMachineLogicalId: stateMachine,
        ...(typeof target.Input === 'string' ? { input: target.Input } : {}),
        ...(typeof target.InputPath === 'string' ? { inputPath: target.InputPath } : {}),
      });
    }
    if (targets.length === 0) continue;
    rules.push({ ruleLogicalId, bus: busName(properties.EventBusName, refs), pattern: properties.EventPattern as EventPattern, targets });
  }
  return rules;
}

/**
 * Routes every event put on the emulator from now on to the template's state-machine rules, as
 * EventBridge does: each matching rule starts each of its state-machine targets with the event
 * envelope (or the target's Input / InputPath). Returns the function that stops routing.
 */
export function routeRules(eventBridge: EventBridgeEmulatorHandle, template: CfnTemplate, startExecution: StartRuleTarget, options: RouteRulesOptions = {}): () => void {
  const accountId = options.accountId ?? eventBridge.accountId ?? '000000000000';
  const rules = stateMachineRules(template, options.refs, accountId);
  // EventBridge starts a target as the target's role: once the sandbox enforces IAM, so does routing.
  const authorizeTarget = async (target: StateMachineRule['targets'][number], rule: StateMachineRule & { ruleArn?: string }) => {
    const authorize = eventBridge.authorizer();
    if (!authorize || !target.roleArn) return;
    await options.assumeRole?.('events.amazonaws.com', target.roleArn, rule.ruleArn);
    const resource = `arn:aws:states:${eventBridge.region}:${accountId}:stateMachine:${target.stateMachineLogicalId}`;
    await authorize(credentialsForRole(target.roleArn).accessKeyId, { action: 'states:StartExecution', resource });
  };
  return eventBridge.onEvent((event) => {
    const envelope = eventEnvelope(event, eventBridge.region, accountId);
    for (const rule of rules) {
      if (rule.bus !== event.bus || !matchesPattern(rule.pattern, envelope)) continue;
      for (const target of rule.targets) {
        const input = target.input ?? JSON.stringify(target.inputPath ? selectPath(envelope, target.inputPath) : envelope);
        authorizeTarget(target, { ...rule, ruleArn: `arn:aws:events:${eventBridge.region}:${accountId}:rule/${rule.bus}/${rule.ruleLogicalId}` })
          .then(() => startExecution(target.stateMachineLogicalId, input, rule))
          .catch((error: unknown) => options.onError?.(error, rule, event));
      }
    }
  });
}

/** The event as EventBridge delivers it to a target and matches it against patterns. */
export function eventEnvelope(event: RecordedEvent, region: string, accountId: string): Record<string, unknown> {
  return {
    version: '0',
    id: event.id,
    'detail-type': event.detailType,
    source: event.source,
    account: accountId,
    time: event.time,
    region,
    resources: event.resources,
    detail: event.detail,
  };
}

function referencedLogicalId(arn: unknown): string | undefined {
  if (typeof arn !== 'object' || arn === null) return undefined;
  const ref = (arn as { Ref?: unknown }).Ref;
  if (typeof ref === 'string') return ref;
  const getAtt = (arn as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/** A literal name, an ARN, or a Ref/GetAtt of the template's bus (resolved through refs). */
function busName(value: unknown, refs: Record<string, string>): string {
  if (value === undefined) return 'default';
  if (typeof value === 'string') return value.includes(':event-bus/') ? value.slice(value.indexOf(':event-bus/') + ':event-bus/'.length) : value;
  const logicalId = referencedLogicalId(value);
  return (logicalId && refs[logicalId]) ?? logicalId ?? 'default';
}

/** `$`, `$.detail`, `$.detail.scope`: the subset of JSONPath InputPath takes in certflow. */
function selectPath(document: Record<string, unknown>, path: string): unknown {
  if (path === '$') return document;
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .reduce<unknown>((value, key) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined), document);
}
