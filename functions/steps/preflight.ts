import type { PreflightInput, RunContext } from '../contracts/rotation-payloads';
import { IssuerNotFoundError, VaultAuditMissingError, VaultSealedError, VaultUninitializedError, WorkflowPausedError } from '../contracts/errors';
import { decideUnseal } from '../domain/unseal-decision';
import { unsealNode } from './unseal-node';
import type { RotationRuntime } from './rotation-deps';
import type { Log } from '../ports/log';

/**
 * Preflight (DESIGN.md Rotation step 2): every Vault node unsealed (running the unseal step on a
 * Shamir-sealed one), the token valid (a login happens here), both mounts have a default issuer,
 * the role exists, an audit device is enabled, every cluster answers. Records the default issuer a rollback restores.
 * Changes nothing but a sealed node's seal.
 */
export async function preflight(runtime: RotationRuntime, input: PreflightInput, log: Log): Promise<RunContext> {
  // The kill switch first (issue 13 item 5): a paused rotation changes nothing, not even a seal.
  const paused = await runtime.unseal.pause?.pauseOf('rotation');
  if (paused) throw new WorkflowPausedError(`rotation is paused by ${paused.pausedBy} at ${paused.pausedAt}${paused.reason ? ` (${paused.reason})` : ''}: certflow resume rotation`);
  const unsealed: string[] = [];
  for (const node of await runtime.vaultNodes()) {
    const vault = runtime.unseal.vaultFor(node.url);
    const status = await vault.sealStatus();
    const decision = decideUnseal(status);
    if (decision.action === 'none') continue;
    if (decision.reason === 'Uninitialized') throw new VaultUninitializedError(`Vault node ${node.id} is not initialized: run certflow vault-init`);
    if (decision.action === 'report') throw new VaultSealedError(`Vault node ${node.id} is sealed (${decision.reason}); keys cannot unseal it`);
    const result = await unsealNode({ vault, shares: runtime.unseal.shares, keys: runtime.unseal.keys, clusterId: runtime.clusterId, expected: runtime.unseal.expected, ...(runtime.unseal.pause ? { pause: runtime.unseal.pause } : {}), log }, node);
    if (result.outcome === 'Paused') throw new WorkflowPausedError(`Vault node ${node.id} is sealed and unseal is paused (${result.message ?? ''})`);
    if (result.sealed !== false) throw new VaultSealedError(`Vault node ${node.id} is still sealed after the unseal step`);
    unsealed.push(node.id);
  }
  const { pki, settings } = runtime.fanout;
  // A Vault that records nothing is refused before anything is signed (issue 13 item 3).
  if ((await pki.auditDevices()).length === 0) throw new VaultAuditMissingError('Vault has no audit device enabled (sys/audit lists none): enable one (vault audit enable file file_path=...) before certflow rotates');
  const previousDefault = await pki.defaultIssuer(settings.intermediateMount);
  if (!previousDefault) throw new IssuerNotFoundError(`${settings.intermediateMount} has no default issuer: issuance does not work until one is set (P1)`);
  if (!(await pki.defaultIssuer(settings.rootMount))) throw new IssuerNotFoundError(`${settings.rootMount} has no default issuer to sign intermediates with`);
  if (!(await pki.roleExists(settings.intermediateMount, settings.role))) {
    throw new IssuerNotFoundError(`role ${settings.role} does not exist on ${settings.intermediateMount}`);
  }
  for (const cluster of runtime.fanout.clusters) {
    await cluster.readConfigMap(runtime.namespace, runtime.fanout.trustBundleConfigMap);
  }
  log.info('preflight passed', { previousDefault, unsealed });
  return {
    runId: input.runId,
    requestedAt: input.startedAt,
    trigger: input.request.trigger,
    forceIntermediate: input.request.forceIntermediate,
    forceRenewal: input.request.forceRenewal,
    ...(input.request.services ? { services: input.request.services } : {}),
    previousDefault,
    nodesUnsealedByPreflight: unsealed,
  };
}
