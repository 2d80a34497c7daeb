import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { RotationLock, RotationStates } from '../../functions/contracts/rotation-payloads';
import type { HistoryEvent } from '../runner/local-runner';
import type { Moment } from '../runner/history-facts';
import { declaredServiceNames } from '../../functions/domain/target-policy';
import type { LocalCloud } from './local-cloud';
import { listTaskStates } from '../runner/task-walker';

/**
 * `--fault <component>:<operation>[:<option>,...]` for `certflow simulate` and the fault tests.
 * Options: `after=N` (let N matching calls through first), `times=N` (fail N calls, then heal),
 * `status=N`, `service=<name>`, `from=<task state>` (arm the fault only when a task state of the
 * run first starts, e.g. `from=RestoreBatch` for a fault that begins with the rollback; `after=`
 * then counts from that moment). Every fault is an emulator behaviour the real clients meet over
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
 * | cert-manager:stall            | the sandbox's cert-manager starts no issuance (a stuck controller) |
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
  'cert-manager:stall',
  'lock:held',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRequest {
  kind: FaultKind;
  after?: number;
  times?: number;
  status?: number;
  service?: string;
  /** Arm only when this task state first starts (a state of the Rotation machine). */
  from?: string;
}

export class FaultSyntaxError extends Error {
  override readonly name = 'FaultSyntaxError';
}

export function parseFault(text: string): FaultRequest {
  const [component, operation, options = ''] = text.split(':');
  const kind = `${component}:${operation}` as FaultKind;
  if (!FAULT_KINDS.includes(kind)) {
    throw new FaultSyntaxError(`unknown fault "${text}"; known: ${FAULT_KINDS.join(', ')} (options after a colon: after=N,times=N,status=N,service=NAME,from=STATE)`);
  }
  const request: FaultRequest = { kind };
  for (const option of options.split(',').filter(Boolean)) {
    const [key, value] = option.split('=');
    if (key === 'service' && value) request.service = value;
    else if (key === 'from' && value) request.from = value;
    else if ((key === 'after' || key === 'times' || key === 'status') && value && /^\d+$/.test(value)) request[key] = Number(value);
    else throw new FaultSyntaxError(`fault option "${option}" is not after=N, times=N, status=N, service=NAME or from=STATE`);
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
 * `service=` on a fault that does not act on one service, or `from=` naming no task state of the
 * run (`taskStates`; a lock is taken before any task, so `lock:held` takes no `from=`).
 */
export function checkFaultTarget(request: FaultRequest, services: readonly string[], taskStates?: readonly string[]): void {
  if (request.from !== undefined) {
    if (request.kind === 'lock:held') throw new FaultSyntaxError('fault lock:held is decided before any task runs: from= is not an option for it');
    if (taskStates && !taskStates.includes(request.from)) {
      throw new FaultSyntaxError(`fault ${request.kind}: from=${request.from} is not a task state of the Rotation (known: ${[...taskStates].sort().join(', ')})`);
    }
  }
  if (request.service === undefined) return;
  if (!SERVICE_FAULTS.includes(request.kind)) throw new FaultSyntaxError(`fault ${request.kind} does not act on one service: service=${request.service} is not an option for it`);
  if (!services.includes(request.service)) {
    throw new FaultSyntaxError(`fault ${request.kind}: service "${request.service}" is not a service of this config (known: ${[...services].sort().join(', ')})`);
  }
}

/** Arms a fault in the sandbox; returns what it did, how to heal it and how often it fired. */
export async function injectFault(cloud: LocalCloud, request: FaultRequest): Promise<ArmedFault> {
  const { sandbox } = cloud;
  // The Rotation's own tasks and its waves' (RenewBatch, CheckBatch, RestoreBatch run in RotationWave executions).
  const taskStates = cloud.runner.withChildren(cloud.runner.find('RotationWorkflow')).flatMap((machine) => listTaskStates(cloud.runner.definition(machine)).map((task) => task.name));
  checkFaultTarget(request, [...declaredServiceNames(sandbox.config.kubernetes.targets)], taskStates);
  if (request.kind === 'lock:held') return holdLock(cloud);
  const from = request.from;
  if (from === undefined) return armNow(cloud, request);
  // Armed by the runner the moment the state first starts, before that attempt's work: the
  // fault's counts (after=, times=) and its firings begin there.
  let armed: ArmedFault | undefined;
  let armedAt = Infinity;
  const unsubscribe = cloud.runner.onTaskStart((state) => {
    if (state !== from || armed) return;
    armedAt = Date.now();
    armed = armNow(cloud, request);
  });
  return {
    description: `from the first start of ${from}: ${describeFault(cloud, request)}`,
    heal: () => {
      unsubscribe();
      armed?.heal();
    },
    // Some emulators count a service's held rollouts or dropped handshakes since they started:
    // only what happened once this fault was armed is its firing.
    firings: (history) => (armed?.firings(history) ?? []).filter((moment) => (typeof moment === 'number' ? moment : moment.at) >= armedAt),
  };
}

/** What a fault does, in words (the report's "Fault" line). */
function describeFault(cloud: LocalCloud, request: FaultRequest): string {
  const { sandbox } = cloud;
  const vault = sandbox.config.vault;
  const service = request.service ?? 'backend';
  switch (request.kind) {
    case 'vault:issue':
    case 'vault:sign':
      return `Vault answers ${request.status ?? 500} on ${vault.intermediateMount}/${request.kind === 'vault:issue' ? 'issue' : 'sign'}`;
    case 'vault:sign-intermediate':
      return `Vault answers ${request.status ?? 500} on POSTs to ${vault.rootMount}`;
    case 'vault:sealed':
      return 'Vault answers 503 Vault is sealed';
    case 'vault:rate-limit':
      return `Vault answers 429 on ${vault.intermediateMount}`;
    case 'kubernetes:secret-write':
    case 'kubernetes:conflict':
      return `Kubernetes answers ${request.kind === 'kubernetes:conflict' ? 409 : (request.status ?? 500)} on Secret updates`;
    case 'kubernetes:rollout':
      return `Deployment ${sandbox.config.kubernetes.namespace}/${service} never rolls out`;
    case 'kms:decrypt':
      return `KMS Decrypt fails with KMSInternalException, and Vault node ${lastNode(cloud)} is sealed`;
    case 'endpoint:handshake':
      return `the ${service} endpoint drops every connection`;
    case 'cert-manager:stall':
      return "the sandbox's cert-manager starts no issuance";
    case 'lock:held':
      return 'another execution holds the rotation lock';
  }
}

function lastNode(cloud: LocalCloud): string {
  return cloud.sandbox.vault.nodes[cloud.sandbox.vault.nodes.length - 1]!.id;
}

/** Arms every fault but the held lock, synchronously (so a `from=` fault meets the attempt that armed it). */
function armNow(cloud: LocalCloud, request: FaultRequest): ArmedFault {
  const { sandbox } = cloud;
  const vault = sandbox.config.vault;
  const counts = { ...(request.after ? { after: request.after } : {}), ...(request.times ? { times: request.times } : {}) };
  const service = request.service ?? 'backend';
  const namespace = sandbox.config.kubernetes.namespace;
  const description = describeFault(cloud, request);
  switch (request.kind) {
    case 'vault:issue':
    case 'vault:sign': {
      const operation = `${vault.intermediateMount}/${request.kind === 'vault:issue' ? 'issue' : 'sign'}`;
      const id = sandbox.vault.faults.inject({ operation, status: request.status ?? 500, ...counts });
      return { description, heal: () => sandbox.vault.faults.clear(id), firings: () => sandbox.vault.faults.firings(id) };
    }
    case 'vault:sign-intermediate': {
      const id = sandbox.vault.faults.inject({ operation: vault.rootMount, method: 'POST', status: request.status ?? 500, ...counts });
      return { description, heal: () => sandbox.vault.faults.clear(id), firings: () => sandbox.vault.faults.firings(id) };
    }
    case 'vault:sealed': {
      const id = sandbox.vault.faults.inject({ operation: '*', status: 503, message: 'Vault is sealed', ...counts });
      return { description, heal: () => sandbox.vault.faults.clear(id), firings: () => sandbox.vault.faults.firings(id) };
    }
    case 'vault:rate-limit': {
      const id = sandbox.vault.faults.inject({ operation: vault.intermediateMount, status: 429, ...counts });
      return { description, heal: () => sandbox.vault.faults.clear(id), firings: () => sandbox.vault.faults.firings(id) };
    }
    case 'kubernetes:secret-write':
    case 'kubernetes:conflict': {
      const status = request.kind === 'kubernetes:conflict' ? 409 : (request.status ?? 500);
      const id = sandbox.kubernetes.faults.inject({ verb: 'update', resource: 'secrets', status, ...counts });
      return { description, heal: () => sandbox.kubernetes.faults.clear(id), firings: () => sandbox.kubernetes.faults.firings(id) };
    }
    case 'kubernetes:rollout': {
      sandbox.kubernetes.setRolloutsPaused(namespace, service, true);
      return {
        description,
        heal: () => sandbox.kubernetes.setRolloutsPaused(namespace, service, false),
        firings: () => sandbox.kubernetes.heldRollouts(namespace, service),
      };
    }
    case 'kms:decrypt': {
      // KMS is only asked to decrypt when a node is sealed: seal one, so the rotation's preflight
      // must unseal it and meets the fault (an unsealed Vault never asks KMS for anything).
      sandbox.vault.node(lastNode(cloud)).seal();
      const id = sandbox.kms.faults.inject({ operation: 'Decrypt', status: 500, ...(request.times ? { times: request.times } : {}) });
      return { description, heal: () => sandbox.kms.faults.clear(id), firings: () => sandbox.kms.faults.firings(id) };
    }
    case 'endpoint:handshake': {
      sandbox.services.failHandshakes(service, true);
      return { description, heal: () => sandbox.services.failHandshakes(service, false), firings: () => sandbox.services.droppedHandshakes(service) };
    }
    case 'cert-manager:stall': {
      // Each Certificate the stalled controller held back is one firing: a stall that held none
      // (no cert-manager target was due) tested nothing.
      const before = sandbox.certManager.held().length;
      sandbox.certManager.stall(true);
      return { description, heal: () => sandbox.certManager.stall(false), firings: () => sandbox.certManager.held().slice(before) };
    }
    case 'lock:held':
      throw new FaultSyntaxError('lock:held is armed by injectFault, before the run');
  }
}

/** Another execution's lock in the ledger: the run's AcquireLock must find it held. */
async function holdLock(cloud: LocalCloud): Promise<ArmedFault> {
  const table = cloud.runner.functionEnv('ReleaseStaleLock').CERTFLOW_LEDGER_TABLE!;
  await cloud.sandbox.dynamoDbClient.send(
    new PutItemCommand({
      TableName: table,
      Item: { pk: { S: RotationLock.pk }, sk: { S: RotationLock.sk }, owner: { S: 'arn:aws:states:us-east-1:000000000000:execution:other:run' }, runId: { S: 'other-run' } },
    }),
  );
  // The lock is a record, not a call to fail: the fault fired when the run's conditional write
  // of the lock was refused, which the execution's history shows.
  const firings = (history: readonly HistoryEvent[] = []) =>
    history.filter((event) => event.type === 'StateFailed' && event.state?.name === RotationStates.AcquireLock && String(event.Error).endsWith('ConditionalCheckFailedException')).map((event) => ({ at: event.timestamp, state: event.state!.name }));
  return { description: describeFault(cloud, { kind: 'lock:held' }), heal: () => undefined, firings };
}
