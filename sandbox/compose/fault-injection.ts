import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { RotationLock, RotationStates } from '../../functions/contracts/rotation-payloads';
import type { HistoryEvent } from '../runner/local-runner';
import type { Moment } from '../runner/history-facts';
import { declaredServiceNames } from '../../functions/domain/target-policy';
import type { LocalCloud } from './local-cloud';

/**
 * `--fault <component>:<operation>[:<option>,...]` for `certflow simulate` and the fault tests.
 * Options: `after=N` (let N matching calls through first), `times=N` (fail N calls, then heal),
 * `status=N`, `service=<name>`. Every fault is an emulator behaviour the real clients meet over
 * the wire; nothing in certflow's code is stubbed.
 *
 * | fault                         | what the clients see                                             |
 * |-------------------------------|------------------------------------------------------------------|
 * | vault:issue                   | 500 on `<int>/issue/<role>` (tls-secret and istio renewals)       |
 * | vault:sign                    | 500 on `<int>/sign/<role>` (cert-manager's signing)               |
 * | vault:sign-intermediate       | 500 on POSTs to the root mount (the new intermediate)             |
 * | vault:sealed                  | 503 `Vault is sealed` on every path                              |
 * | vault:rate-limit              | 429 on the intermediate mount                                    |
 * | kubernetes:secret-write       | 500 on Secret updates                                            |
 * | kubernetes:conflict           | 409 on Secret updates                                            |
 * | kubernetes:rollout            | the service's Deployment never rolls out                         |
 * | kms:decrypt                   | KMS Decrypt fails (KMSInternalException)                         |
 * | endpoint:handshake            | the service's endpoint drops every connection                    |
 * | lock:held                     | another execution holds the rotation lock                        |
 */
export const FAULT_KINDS = [
  'vault:issue',
  'vault:sign',
  'vault:sign-intermediate',
  'vault:sealed',
  'vault:rate-limit',
  'kubernetes:secret-write',
  'kubernetes:conflict',
  'kubernetes:rollout',
  'kms:decrypt',
  'endpoint:handshake',
  'lock:held',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRequest {
  kind: FaultKind;
  after?: number;
  times?: number;
  status?: number;
  service?: string;
}

export class FaultSyntaxError extends Error {
  override readonly name = 'FaultSyntaxError';
}

export function parseFault(text: string): FaultRequest {
  const [component, operation, options = ''] = text.split(':');
  const kind = `${component}:${operation}` as FaultKind;
  if (!FAULT_KINDS.includes(kind)) {
    throw new FaultSyntaxError(`unknown fault "${text}"; known: ${FAULT_KINDS.join(', ')} (options after a colon: after=N,times=N,status=N,service=NAME)`);
  }
  const request: FaultRequest = { kind };
  for (const option of options.split(',').filter(Boolean)) {
    const [key, value] = option.split('=');
    if (key === 'service' && value) request.service = value;
    else if ((key === 'after' || key === 'times' || key === 'status') && value && /^\d+$/.test(value)) request[key] = Number(value);
    else throw new FaultSyntaxError(`fault option "${option}" is not after=N, times=N, status=N or service=NAME`);
  }
  return request;
}

/** An armed fault: what it does, how to heal it, and when it fired (epoch ms, one per failure it caused). */
export interface ArmedFault {
  description: string;
  heal: () => void;
  /** Some faults are seen only in the execution's history (a refused lock): pass it. */
  firings: (history?: readonly HistoryEvent[]) => readonly Moment[];
}

/** The faults that name a service act on that service's Deployment or endpoint. */
const SERVICE_FAULTS: readonly FaultKind[] = ['kubernetes:rollout', 'endpoint:handshake'];

/**
 * Refuses a fault that cannot bite before anything runs: a service the config does not declare,
 * or `service=` on a fault that does not act on one service.
 */
export function checkFaultTarget(request: FaultRequest, services: readonly string[]): void {
  if (request.service === undefined) return;
  if (!SERVICE_FAULTS.includes(request.kind)) throw new FaultSyntaxError(`fault ${request.kind} does not act on one service: service=${request.service} is not an option for it`);
  if (!services.includes(request.service)) {
    throw new FaultSyntaxError(`fault ${request.kind}: service "${request.service}" is not a service of this config (known: ${[...services].sort().join(', ')})`);
  }
}

/** Arms a fault in the sandbox; returns what it did, how to heal it and how often it fired. */
export async function injectFault(cloud: LocalCloud, request: FaultRequest): Promise<ArmedFault> {
  const { sandbox } = cloud;
  const vault = sandbox.config.vault;
  const counts = { ...(request.after ? { after: request.after } : {}), ...(request.times ? { times: request.times } : {}) };
  const service = request.service ?? 'backend';
  const namespace = sandbox.config.kubernetes.namespace;
  checkFaultTarget(request, [...declaredServiceNames(sandbox.config.kubernetes.targets)]);
  switch (request.kind) {
    case 'vault:issue':
    case 'vault:sign': {
      const operation = `${vault.intermediateMount}/${request.kind === 'vault:issue' ? 'issue' : 'sign'}`;
      const id = sandbox.vault.faults.inject({ operation, status: request.status ?? 500, ...counts });
      return { description: `Vault answers ${request.status ?? 500} on ${operation}`, heal: () => sandbox.vault.faults.clear(id), firings: () => sandbox.vault.faults.firings(id) };
    }
    case 'vault:sign-intermediate': {
      const id = sandbox.vault.faults.inject({ operation: vault.rootMount, method: 'POST', status: request.status ?? 500, ...counts });
      return { description: `Vault answers ${request.status ?? 500} on POSTs to ${vault.rootMount}`, heal: () => sandbox.vault.faults.clear(id), firings: () => sandbox.vault.faults.firings(id) };
    }
    case 'vault:sealed': {
      const id = sandbox.vault.faults.inject({ operation: '*', status: 503, message: 'Vault is sealed', ...counts });
      return { description: 'Vault answers 503 Vault is sealed', heal: () => sandbox.vault.faults.clear(id), firings: () => sandbox.vault.faults.firings(id) };
    }
    case 'vault:rate-limit': {
      const id = sandbox.vault.faults.inject({ operation: vault.intermediateMount, status: 429, ...counts });
      return { description: `Vault answers 429 on ${vault.intermediateMount}`, heal: () => sandbox.vault.faults.clear(id), firings: () => sandbox.vault.faults.firings(id) };
    }
    case 'kubernetes:secret-write':
    case 'kubernetes:conflict': {
      const status = request.kind === 'kubernetes:conflict' ? 409 : (request.status ?? 500);
      const id = sandbox.kubernetes.faults.inject({ verb: 'update', resource: 'secrets', status, ...counts });
      return { description: `Kubernetes answers ${status} on Secret updates`, heal: () => sandbox.kubernetes.faults.clear(id), firings: () => sandbox.kubernetes.faults.firings(id) };
    }
    case 'kubernetes:rollout': {
      sandbox.kubernetes.setRolloutsPaused(namespace, service, true);
      return {
        description: `Deployment ${namespace}/${service} never rolls out`,
        heal: () => sandbox.kubernetes.setRolloutsPaused(namespace, service, false),
        firings: () => sandbox.kubernetes.heldRollouts(namespace, service),
      };
    }
    case 'kms:decrypt': {
      // KMS is only asked to decrypt when a node is sealed: seal one, so the rotation's preflight
      // must unseal it and meets the fault (an unsealed Vault never asks KMS for anything).
      const node = sandbox.vault.node(sandbox.vault.nodes[sandbox.vault.nodes.length - 1]!.id);
      node.seal();
      const id = sandbox.kms.faults.inject({ operation: 'Decrypt', status: 500, ...(request.times ? { times: request.times } : {}) });
      return { description: `KMS Decrypt fails with KMSInternalException, and Vault node ${node.id} is sealed`, heal: () => sandbox.kms.faults.clear(id), firings: () => sandbox.kms.faults.firings(id) };
    }
    case 'endpoint:handshake': {
      sandbox.services.failHandshakes(service, true);
      return {
        description: `the ${service} endpoint drops every connection`,
        heal: () => sandbox.services.failHandshakes(service, false),
        firings: () => sandbox.services.droppedHandshakes(service),
      };
    }
    case 'lock:held': {
      const table = cloud.runner.functionEnv('ReleaseStaleLock').CERTFLOW_LEDGER_TABLE!;
      await sandbox.dynamoDbClient.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: RotationLock.pk }, sk: { S: RotationLock.sk }, owner: { S: 'arn:aws:states:us-east-1:000000000000:execution:other:run' }, runId: { S: 'other-run' } },
        }),
      );
      // The lock is a record, not a call to fail: the fault fired when the run's conditional write
      // of the lock was refused, which the execution's history shows.
      const firings = (history: readonly HistoryEvent[] = []) =>
        history.filter((event) => event.type === 'StateFailed' && event.state?.name === RotationStates.AcquireLock && String(event.Error).endsWith('ConditionalCheckFailedException')).map((event) => ({ at: event.timestamp, state: event.state!.name }));
      return { description: 'another execution holds the rotation lock', heal: () => undefined, firings };
    }
  }
}
