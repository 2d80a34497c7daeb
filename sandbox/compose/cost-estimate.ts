import type { HistoryEvent } from '../runner/local-runner';
import type { AslMachine } from '../runner/task-walker';
import { listTaskStates } from '../runner/task-walker';

/**
 * What the same run would cost on AWS, from its execution history, at published on-demand prices
 * for us-east-1 (Step Functions Standard, Lambda arm64, EventBridge custom events, DynamoDB
 * on-demand, KMS requests; checked 2026-11). Lambda time is the locally measured task time, which
 * on 2 shared cores over-states what 256 MB Lambdas would bill; the order of magnitude is the point.
 */
export const PRICES_USD = {
  stateTransition: 0.025 / 1000,
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequest: 0.2 / 1_000_000,
  eventBridgeEvent: 1 / 1_000_000,
  dynamoDbWrite: 0.625 / 1_000_000,
  dynamoDbRead: 0.125 / 1_000_000,
  kmsRequest: 0.03 / 10_000,
} as const;

export interface CostEstimate {
  transitions: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  events: number;
  dynamoDbWrites: number;
  kmsRequests: number;
  usd: { stepFunctions: number; lambda: number; eventBridge: number; dynamoDb: number; kms: number; total: number };
}

export function estimateCost(input: {
  /** The run's history: the execution's and then each child execution's (they run one after another). */
  history: readonly HistoryEvent[];
  /** The definitions of the state machines that ran (the execution's and its children's). */
  definition: AslMachine | readonly AslMachine[];
  memoryMb: number;
  events: number;
  dynamoDbWrites: number;
  kmsRequests: number;
}): CostEstimate {
  const lambdaStates = new Set([input.definition].flat().flatMap((definition) => listTaskStates(definition)).filter((task) => task.resource.includes(':lambda:')).map((task) => task.name));
  let transitions = 0;
  let invocations = 0;
  let lambdaMs = 0;
  const entered = new Map<string, number>();
  for (const event of input.history) {
    if (event.type === 'StateEntered') transitions += 1;
    const name = event.state?.name;
    if (!name || !lambdaStates.has(name)) continue;
    const key = `${name}#${event.index ?? ''}`;
    if (event.type === 'StateEntered') {
      invocations += 1;
      entered.set(key, event.timestamp);
    } else if ((event.type === 'StateExited' || event.type === 'StateFailed') && entered.has(key)) {
      lambdaMs += Math.max(1, event.timestamp - entered.get(key)!);
      entered.delete(key);
    }
  }
  const gbSeconds = (lambdaMs / 1000) * (input.memoryMb / 1024);
  const usd = {
    stepFunctions: transitions * PRICES_USD.stateTransition,
    lambda: gbSeconds * PRICES_USD.lambdaGbSecondArm + invocations * PRICES_USD.lambdaRequest,
    eventBridge: input.events * PRICES_USD.eventBridgeEvent,
    dynamoDb: input.dynamoDbWrites * PRICES_USD.dynamoDbWrite,
    kms: input.kmsRequests * PRICES_USD.kmsRequest,
    total: 0,
  };
  usd.total = usd.stepFunctions + usd.lambda + usd.eventBridge + usd.dynamoDb + usd.kms;
  return { transitions, lambdaInvocations: invocations, lambdaGbSeconds: gbSeconds, events: input.events, dynamoDbWrites: input.dynamoDbWrites, kmsRequests: input.kmsRequests, usd };
}
