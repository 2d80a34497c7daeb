import { WaveManifest, type RotationPlan, type RunContext, type WaveGroup } from '../contracts/rotation-payloads';
import type { Target } from '../contracts/targets';
import type { RefusedCandidate } from '../contracts/target-policy';
import type { DryRunTarget, PlanDryRunRequest } from '../contracts/plan-dry-run';
import { serialPosition, decideRenewal } from '../domain/renewal-policy';
import { issuerOf, dnsNamesOf } from '../domain/issuer-match';
import { planBatches } from '../domain/target-batches';
import { ledgerPageEntry, ledgerPages } from '../domain/ledger-pages';
import { defaultKeyAlgorithmOf } from '../domain/target-policy';
import { SecretFiles } from '../domain/secret-layout';
import { leafSummary } from '../domain/x509-facts';
import { discoverTargets } from './discover-targets';
import { planPki } from './plan-pki';
import type { RotationRuntime } from './rotation-deps';
import type { Log } from '../ports/log';

/**
 * Plan (DESIGN.md Rotation step 3: gather, then decide): discover every target and read its
 * current certificate and the issuers; decide per target whether it is due (the renewal policy's
 * named reason) and whether the intermediate is due. A rotated intermediate makes every target due
 * (leaves must move off the retiring issuer). Batches go to the ledger; the payload carries ids.
 */
/** Refused candidates carried in the plan payload (and the event); the plan's ledger record has every one. */
export const MAX_REJECTED_IN_PAYLOAD = 50;

/** One target's renewal decision: the renewal policy's named reason and its detail. */
export interface TargetDecision {
  target: Target;
  due: boolean;
  reason: string;
  detail: string;
}

export interface TargetDecisions {
  pkiPlan: Awaited<ReturnType<typeof planPki>>;
  targets: Target[];
  decisions: TargetDecision[];
  rejected: RefusedCandidate[];
}

/**
 * The Plan step's gather-and-decide half, which writes nothing: what the Plan step decides, and
 * what `certflow plan` shows as its dry run (the same code, so the dry run cannot drift from it).
 */
export async function decideTargets(runtime: RotationRuntime, request: Pick<RunContext, 'forceIntermediate' | 'forceRenewal' | 'services'>, log: Log): Promise<TargetDecisions> {
  const { fanout } = runtime;
  const now = fanout.clock.now();
  const pkiDeps = { pki: fanout.pki, settings: fanout.settings, clock: fanout.clock, log };
  const pkiPlan = await planPki(pkiDeps, { forced: request.forceIntermediate });
  const intermediateDue = pkiPlan.rotation.due;

  const discovered = await discoverTargets(fanout.clusters, runtime.policy, defaultKeyAlgorithmOf(fanout.settings), log);
  const targets = discovered.targets.filter((target) => !request.services || request.services.includes(target.service));
  const issuers = await Promise.all(
    pkiPlan.issuers.map(async (issuer) => ({ issuerId: issuer.issuerId, certificatePem: (await fanout.pki.readIssuer(fanout.settings.intermediateMount, issuer.issuerId)).certificatePem })),
  );
  const retiring = pkiPlan.issuers.filter((issuer) => !issuer.usage.includes('issuing-certificates')).map((issuer) => issuer.issuerId);

  const decisions: TargetDecision[] = [];
  for (const target of targets) {
    // Discovery listed the labelled Secrets with their data; only a declared one without the label is read here.
    const secret = discovered.secrets.get(`${target.cluster}/${target.namespace}/${target.secretName}`) ?? (await fanout.cluster(target.cluster).readSecret(target.namespace, target.secretName));
    const pem = secret?.data[SecretFiles[target.kind].cert]?.toString('utf8');
    const leaf = pem ? leafSummary(pem, `${target.id} certificate`) : undefined;
    const issuerId = leaf ? issuerOf(leaf, issuers) : undefined;
    const decision = decideRenewal({
      ...(leaf ? { certificate: { notBefore: leaf.notBefore, notAfter: leaf.notAfter, dnsNames: dnsNamesOf(leaf), ...(issuerId ? { issuerId } : {}) } } : {}),
      desiredDnsNames: target.kind === 'istio-cacerts' ? (leaf ? dnsNamesOf(leaf) : []) : target.dnsNames,
      // A mesh CA is signed by the root, not by the intermediate: its issuer is not judged here.
      defaultIssuerId: target.kind === 'istio-cacerts' ? (issuerId ?? '') : (pkiPlan.defaultIssuer ?? ''),
      retiringIssuerIds: retiring,
      now,
      renewBeforeSeconds: fanout.settings.renewBeforeSeconds,
      forced: request.forceRenewal || intermediateDue,
      ...(leaf && fanout.storm?.renewalJitter ? { jitter: { fraction: fanout.storm.renewalJitter, position: serialPosition(leaf.serial) } } : {}),
    });
    decisions.push({ target, due: decision.due, reason: decision.reason, detail: decision.detail });
  }
  return { pkiPlan, targets, decisions, rejected: discovered.rejected };
}

/**
 * The dry run of the Plan step (`certflow plan`, with `--local` or in the deployed function): the
 * decisions of decideTargets and nothing else. It takes no lock, writes no ledger item, emits no
 * event: there is no run.
 */
export async function planDryRun(runtime: RotationRuntime, request: PlanDryRunRequest, log: Log): Promise<TargetDecisions['pkiPlan'] & { targets: DryRunTarget[]; rejected: RefusedCandidate[] }> {
  const decided = await decideTargets(runtime, { forceIntermediate: request.forceIntermediate, forceRenewal: false, ...(request.services ? { services: request.services } : {}) }, log);
  log.info('plan dry run', { targets: decided.decisions.length, due: decided.decisions.filter((decision) => decision.due).length, refused: decided.rejected.length });
  return {
    ...decided.pkiPlan,
    targets: decided.decisions.map(({ target, due, reason, detail }) => ({ id: target.id, service: target.service, kind: target.kind, due, reason, detail })),
    rejected: decided.rejected,
  };
}

/**
 * `batchesPerWave` is the Rotation definition's wave size: each wave's batch ids go to the ledger
 * (WaveManifest), and the plan answers the wave numbers only.
 */
export async function planRotation(runtime: RotationRuntime, run: RunContext, log: Log, batchesPerWave: number): Promise<RotationPlan> {
  const { fanout } = runtime;
  const now = fanout.clock.now();
  const { pkiPlan, targets, decisions, rejected } = await decideTargets(runtime, run, log);
  const discovered = { rejected };
  const intermediateDue = pkiPlan.rotation.due;
  const due: Target[] = decisions.filter((decision) => decision.due).map((decision) => decision.target);
  const reasons: Array<[string, string]> = decisions.map((decision) => [decision.target.id, decision.reason]);

  const { canary, batches } = planBatches(due, runtime.batchSize);
  const batchIds: string[] = [];
  if (canary.length) await runtime.ledger.putBatch(run.runId, 'canary', canary);
  for (const [index, batch] of batches.entries()) {
    const id = `b${String(index + 1).padStart(4, '0')}`;
    await runtime.ledger.putBatch(run.runId, id, batch);
    batchIds.push(id);
  }
  const allBatchIds = [...(canary.length ? ['canary'] : []), ...batchIds];
  const waves = {
    fanOut: await putWaves(runtime, run.runId, WaveManifest.groups.fanOut, batchIds, batchesPerWave),
    all: await putWaves(runtime, run.runId, WaveManifest.groups.all, allBatchIds, batchesPerWave),
  };
  const namespaces = [...new Map(targets.map((target) => [`${target.cluster}/${target.namespace}`, { cluster: target.cluster, namespace: target.namespace }])).values()];
  // The lists that grow with the fleet go to pages of their own (domain/ledger-pages.ts); the plan
  // record keeps counts, the first refused candidates, and how many pages each list has.
  const reasonPages = ledgerPages(reasons);
  const rejectedPages = ledgerPages(discovered.rejected);
  const at = now.toISOString();
  for (const [index, page] of reasonPages.entries()) await runtime.ledger.record({ runId: run.runId, entry: ledgerPageEntry(PlanLedgerEntries.Reasons, index + 1), at, fields: { reasons: page } });
  for (const [index, page] of rejectedPages.entries()) await runtime.ledger.record({ runId: run.runId, entry: ledgerPageEntry(PlanLedgerEntries.Rejected, index + 1), at, fields: { rejected: page } });
  await runtime.ledger.record({
    runId: run.runId,
    entry: PlanLedgerEntries.Plan,
    at,
    fields: {
      intermediate: pkiPlan.rotation,
      defaultIssuer: pkiPlan.defaultIssuer,
      targetCount: targets.length,
      reasonCounts: countBy(decisions.map((decision) => decision.reason)),
      reasonPages: reasonPages.length,
      rejected: discovered.rejected.slice(0, MAX_REJECTED_IN_PAYLOAD),
      rejectedCount: discovered.rejected.length,
      rejectedPages: rejectedPages.length,
    },
  });
  log.info('rotation planned', { intermediateDue, reason: pkiPlan.rotation.reason, targets: targets.length, due: due.length, batches: batchIds.length, waves: waves.all.length, canary: canary.length, refused: discovered.rejected.length });
  return {
    runId: run.runId,
    intermediateDue,
    intermediateReason: pkiPlan.rotation.reason,
    renewalDue: due.length > 0,
    hasCanary: canary.length > 0,
    canaryBatchId: 'canary',
    batchCount: batchIds.length,
    waves,
    targetCount: targets.length,
    dueCount: due.length,
    // Bounded, so a namespace full of hostile candidates cannot grow the state past its limit; the ledger keeps them all.
    rejected: discovered.rejected.slice(0, MAX_REJECTED_IN_PAYLOAD),
    rejectedCount: discovered.rejected.length,
    namespaces: namespaces.length ? namespaces : [{ cluster: fanout.clusters[0]?.name ?? 'primary', namespace: runtime.namespace }],
  };
}

/** The plan's ledger entries: the record, and the pages of its per-target reasons and refused candidates. */
export const PlanLedgerEntries = { Plan: 'plan', Reasons: 'plan#reasons', Rejected: 'plan#rejected' } as const;

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** The ids cut into waves of `size`, each written to the ledger; answers the wave numbers. */
async function putWaves(runtime: RotationRuntime, runId: string, group: WaveGroup, ids: readonly string[], size: number): Promise<number[]> {
  const numbers: number[] = [];
  for (let index = 0; index * size < ids.length; index += 1) {
    await runtime.ledger.putWave(runId, group, index, ids.slice(index * size, (index + 1) * size));
    numbers.push(index);
  }
  return numbers;
}
