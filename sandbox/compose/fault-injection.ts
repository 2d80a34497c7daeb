import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { RotationLock } from '../../functions/contracts/rotation-payloads';
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

/** Arms a fault in the sandbox; returns what it did and how to heal it. */
export async function injectFault(cloud: LocalCloud, request: FaultRequest): Promise<{ description: string; heal: () => void }> {
  const { sandbox } = cloud;
  const vault = sandbox.config.vault;
  const counts = { ...(request.after ? { after: request.after } : {}), ...(request.times ? { times: request.times } : {}) };
  const service = request.service ?? 'backend';
  const namespace = sandbox.config.kubernetes.namespace;
  switch (request.kind) {
    case 'vault:issue':
    case 'vault:sign': {
      const operation = `${vault.intermediateMount}/${request.kind === 'vault:issue' ? 'issue' : 'sign'}`;
      const id = sandbox.vault.faults.inject({ operation, status: request.status ?? 500, ...counts });
      return { description: `Vault answers ${request.status ?? 500} on ${operation}`, heal: () => sandbox.vault.faults.clear(id) };
    }
    case 'vault:sign-intermediate': {
      const id = sandbox.vault.faults.inject({ operation: vault.rootMount, method: 'POST', status: request.status ?? 500, ...counts });
      return { description: `Vault answers ${request.status ?? 500} on POSTs to ${vault.rootMount}`, heal: () => sandbox.vault.faults.clear(id) };
    }
    case 'vault:sealed': {
      const id = sandbox.vault.faults.inject({ operation: '*', status: 503, message: 'Vault is sealed', ...counts });
      return { description: 'Vault answers 503 Vault is sealed', heal: () => sandbox.vault.faults.clear(id) };
    }
    case 'vault:rate-limit': {
      const id = sandbox.vault.faults.inject({ operation: vault.intermediateMount, status: 429, ...counts });
      return { description: `Vault answers 429 on ${vault.intermediateMount}`, heal: () => sandbox.vault.faults.clear(id) };
    }
    case 'kubernetes:secret-write':
    case 'kubernetes:conflict': {
      const status = request.kind === 'kubernetes:conflict' ? 409 : (request.status ?? 500);
      const id = sandbox.kubernetes.faults.inject({ verb: 'update', resource: 'secrets', status, ...counts });
      return { description: `Kubernetes answers ${status} on Secret updates`, heal: () => sandbox.kubernetes.faults.clear(id) };
    }
    case 'kubernetes:rollout': {
      sandbox.kubernetes.setRolloutsPaused(namespace, service, true);
      return { description: `Deployment ${namespace}/${service} never rolls out`, heal: () => sandbox.kubernetes.setRolloutsPaused(namespace, service, false) };
    }
    case 'kms:decrypt': {
      const id = sandbox.kms.faults.inject({ operation: 'Decrypt', status: 500, ...(request.times ? { times: request.times } : {}) });
      return { description: 'KMS Decrypt fails with KMSInternalException', heal: () => sandbox.kms.faults.clear(id) };
    }
    case 'endpoint:handshake': {
      sandbox.services.failHandshakes(service, true);
      return { description: `the ${service} endpoint drops every connection`, heal: () => sandbox.services.failHandshakes(service, false) };
    }
    case 'lock:held': {
      const table = cloud.runner.functionEnv('ReleaseStaleLock').CERTFLOW_LEDGER_TABLE!;
      await sandbox.dynamoDbClient.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: RotationLock.pk }, sk: { S: RotationLock.sk }, owner: { S: 'arn:aws:states:us-east-1:000000000000:execution:other:run' }, runId: { S: 'other-run' } },
        }),
      );
      return { description: 'another execution holds the rotation lock', heal: () => undefined };
    }
  }
}
