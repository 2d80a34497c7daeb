import { UnsealNodeInputSchema, type UnsealNodeResult } from '../contracts/unseal-payloads';
import { EnvNames, UnsealEnvSchema, type Env } from '../contracts/env';
import { NodeNotFoundError } from '../contracts/errors';
import { unsealNode } from '../steps/unseal-node';
import { createTelemetry } from '../adapters/aws/telemetry';
import { buildUnsealAdapters } from '../adapters/unseal-wiring';
import { vaultNodesSource } from '../adapters/vault-node-discovery';
import { resolveRunTimeValues } from '../adapters/run-time-values';
import { logFailure, onceAsync, parseEnv, parseEvent, type HandlerOptions, type LambdaHandler } from './kit/handler-kit';

/** UnsealNode: `{runId, node}` -> the node's outcome. Errors are typed for Retry/Catch. */
export function makeHandler(env: Env, options: HandlerOptions = {}): LambdaHandler<UnsealNodeResult> {
  const runtime = onceAsync(async () => {
    const resolved = await resolveRunTimeValues(env);
    const unsealEnv = parseEnv(UnsealEnvSchema, resolved);
    return {
      unsealEnv,
      adapters: buildUnsealAdapters(unsealEnv, resolved),
      nodesNow: vaultNodesSource(unsealEnv, resolved),
      telemetry: createTelemetry({ functionName: 'UnsealNode', ...options }),
    };
  });
  return async (event) => {
    const input = parseEvent(UnsealNodeInputSchema, event, 'UnsealNode input');
    const { unsealEnv, adapters, nodesNow, telemetry } = await runtime();
    const log = telemetry.forRun(input.runId);
    try {
      // Only configured (or, with discovery, currently discovered) addresses are ever contacted: a
      // payload cannot point the function (and its KMS-decrypted shares) at an arbitrary URL.
      const known = (await nodesNow(log)).find((node) => node.id === input.node.id && node.url === input.node.url);
      if (!known) throw new NodeNotFoundError(`node ${input.node.id} at ${input.node.url} is not a configured Vault node`);
      return await unsealNode(
        { vault: adapters.vaultFor(known.url), shares: adapters.shares, keys: adapters.keys, clusterId: unsealEnv[EnvNames.VaultClusterId], expected: adapters.expected, ...(adapters.pause ? { pause: adapters.pause } : {}), log },
        known,
      );
    } catch (error) {
      logFailure(log, error);
    }
  };
}

export const handler = makeHandler(process.env);
