import { DiscoverNodesInputSchema, type DiscoverNodesOutput } from '../contracts/unseal-payloads';
import { UnsealEnvSchema, type Env } from '../contracts/env';
import { vaultNodesSource } from '../adapters/vault-node-discovery';
import { discoverNodes } from '../steps/discover-nodes';
import { createTelemetry } from '../adapters/aws/telemetry';
import { resolveRunTimeValues } from '../adapters/run-time-values';
import { logFailure, onceAsync, parseEnv, parseEvent, type HandlerOptions, type LambdaHandler } from './kit/handler-kit';

/** UnsealDiscover: `{runId, request}` -> the nodes of this run, each by its own address. */
export function makeHandler(env: Env, options: HandlerOptions = {}): LambdaHandler<DiscoverNodesOutput> {
  const runtime = onceAsync(async () => {
    const resolved = await resolveRunTimeValues(env);
    const unsealEnv = parseEnv(UnsealEnvSchema, resolved);
    return { nodesNow: vaultNodesSource(unsealEnv, resolved), telemetry: createTelemetry({ functionName: 'UnsealDiscover', ...options }) };
  });
  return async (event) => {
    const input = parseEvent(DiscoverNodesInputSchema, event, 'UnsealDiscover input');
    const { nodesNow, telemetry } = await runtime();
    const log = telemetry.forRun(input.runId);
    try {
      const nodes = discoverNodes(await nodesNow(log), input.request.nodeIds);
      log.info('nodes discovered', { trigger: input.request.trigger, nodes: nodes.map((node) => node.id) });
      return { runId: input.runId, trigger: input.request.trigger, nodes };
    } catch (error) {
      logFailure(log, error);
    }
  };
}

export const handler = makeHandler(process.env);
