import type { CompromiseReport } from '../contracts/compromise';
import { CompromiseLedgerEntries, type CompromisePlan } from '../contracts/compromise-payloads';
import type { Target } from '../contracts/targets';
import { canonicalSerialOrUndefined, compromiseBatches, MAX_SERIAL_OCTETS, normaliseSerial, scopeKey } from '../domain/compromise-serials';
import { dnsNamesOf, issuerOf } from '../domain/issuer-match';
import { SecretFiles } from '../domain/secret-layout';
import { certificatesFromPem, leafSummary } from '../domain/x509-facts';
import type { Log } from '../ports/log';
import { discoverTargets } from './discover-targets';
import { declaredServiceNames, defaultKeyAlgorithmOf } from '../domain/target-policy';
import { mapBounded } from './bounded-map';
import type { RotationRuntime } from './rotation-deps';

/** One target with what its Secret holds now: the leaf's serial and the issuer that signed it. */
interface TargetLeaf {
  target: Target;
  serial?: string;
  issuerId?: string;
}

/**
 * Blast radius and gate (DESIGN.md Compromise response and Authority; gather, then decide). It runs
 * before the response preempts anything or takes the lock: discover every managed target (the
 * target policy's), read the leaf each Secret holds and the issuer that signed it, and match the
 * scope. A scope that names anything certflow does not manage is rejected whole, with the reason,
 * and the plan writes nothing (no batch), so nothing running is touched:
 *
 * - services: every name must be a declared service with a target;
 * - serials: every serial must be a managed target's current leaf, or a certificate the
 *   intermediate mount stored for names of a managed target (an earlier leaf certflow issued);
 *   serials are compared by value (compromise-serials.ts), however they were spelled;
 * - intermediate: the issuer must be on the intermediate mount.
 *
 * An accepted plan puts the affected targets in the ledger as batches `c0001`... for the
 * rotation's batch tasks; the payload carries ids, names, serials and the scope key only.
 */
export async function planCompromise(runtime: RotationRuntime, input: { runId: string; report: CompromiseReport }, log: Log): Promise<CompromisePlan> {
  const { fanout } = runtime;
  const mount = fanout.settings.intermediateMount;
  const { scope } = input.report;
  const empty = { services: [], targetIds: [], serialsToRevoke: [] };
  const reject = async (reason: string): Promise<CompromisePlan> => {
    const plan: CompromisePlan = { runId: input.runId, scope: scope.kind, scopeKey: '', accepted: false, rejectedReason: reason, affected: empty, batchIds: [] };
    await runtime.ledger.record({ runId: input.runId, entry: CompromiseLedgerEntries.Plan, at: fanout.clock.now().toISOString(), fields: { ...plan, reason: input.report.reason, reportedBy: input.report.reportedBy } });
    log.warn('compromise report rejected: its scope matches nothing certflow manages', { scope: scope.kind, reason });
    return plan;
  };

  const canonical = scope.kind === 'serials' ? scope.serials.map((serial) => ({ serial, value: canonicalSerialOrUndefined(serial) })) : [];
  const malformed = canonical.filter((entry) => entry.value === undefined).map((entry) => entry.serial);
  if (malformed.length) return reject(`scope.serials: ${malformed.slice(0, 5).join(', ')} ${malformed.length === 1 ? 'is' : 'are'} not a serial of at most ${MAX_SERIAL_OCTETS} octets`);
  if (scope.kind === 'services') {
    const declared = declaredServiceNames(runtime.policy);
    const unknown = [...new Set(scope.services.filter((service) => !declared.has(service)))].sort();
    if (unknown.length) return reject(`scope.services: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not declared in the target policy`);
  }
  const summaries = await fanout.pki.listIssuers(mount);
  if (scope.kind === 'intermediate' && !summaries.some((issuer) => issuer.issuerId === scope.issuerId)) {
    return reject(`scope.issuerId: issuer ${scope.issuerId} is not on the intermediate mount ${mount}`);
  }
  const issuers = await Promise.all(summaries.map(async (issuer) => ({ issuerId: issuer.issuerId, certificatePem: (await fanout.pki.readIssuer(mount, issuer.issuerId)).certificatePem })));
  const discovered = await discoverTargets(fanout.clusters, runtime.policy, defaultKeyAlgorithmOf(fanout.settings), log);
  // Bounded as every fan-out is (config policy.targetConcurrency): a thousand Secret reads at once
  // made the API server's client time out on a busy machine (the compromise benchmark, issue 16).
  const leaves = await mapBounded(discovered.targets, fanout.targetConcurrency ?? 1, (target) => leafOf(runtime, target, issuers));

  let affected: TargetLeaf[];
  const earlierLeaves: string[] = [];
  let issuerSerial: string | undefined;
  if (scope.kind === 'services') {
    const named = new Set(scope.services);
    affected = leaves.filter((leaf) => named.has(leaf.target.service));
  } else if (scope.kind === 'serials') {
    const serials = [...new Set(canonical.map((entry) => entry.value as string))];
    affected = leaves.filter((leaf) => leaf.serial !== undefined && serials.includes(leaf.serial));
    const unknown: string[] = [];
    for (const serial of serials.filter((value) => !affected.some((leaf) => leaf.serial === value))) {
      const owner = await managedOwnerOf(runtime, mount, serial, discovered.targets);
      if (owner) {
        earlierLeaves.push(serial);
        const leaf = leaves.find((entry) => entry.target.id === owner.id);
        if (leaf && !affected.includes(leaf)) affected.push(leaf);
      } else unknown.push(serial);
    }
    if (unknown.length) return reject(`scope.serials: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''} ${unknown.length === 1 ? 'is' : 'are'} not a certificate certflow issued for a managed target`);
  } else {
    affected = leaves.filter((leaf) => leaf.issuerId === scope.issuerId);
    const issuer = issuers.find((entry) => entry.issuerId === scope.issuerId);
    issuerSerial = issuer ? certificatesFromPem(issuer.certificatePem, `issuer ${scope.issuerId}`)[0]?.serial : undefined;
  }

  // Only leaves the intermediate mount signed can be revoked there (a mesh CA is the root's).
  const revocable = affected.filter((leaf) => leaf.serial !== undefined && leaf.issuerId !== undefined);
  for (const leaf of affected.filter((entry) => !revocable.includes(entry))) {
    log.warn('affected target has no leaf of the intermediate mount to revoke', { target: leaf.target.id, serial: leaf.serial });
  }
  const serialsToRevoke = [...new Set([...revocable.map((leaf) => leaf.serial as string), ...earlierLeaves])].sort();
  const targets = affected.map((leaf) => leaf.target).sort((a, b) => a.id.localeCompare(b.id));
  const batches = compromiseBatches(targets, runtime.batchSize);
  for (const batch of batches) await runtime.ledger.putBatch(input.runId, batch.id, batch.items);

  const plan: CompromisePlan = {
    runId: input.runId,
    scope: scope.kind,
    scopeKey: scopeKey(scope),
    accepted: true,
    rejectedReason: '',
    affected: {
      services: [...new Set(targets.map((target) => target.service))].sort(),
      targetIds: targets.map((target) => target.id),
      serialsToRevoke,
      ...(scope.kind === 'intermediate' ? { issuerId: scope.issuerId } : {}),
      ...(issuerSerial ? { issuerSerial: normaliseSerial(issuerSerial) } : {}),
    },
    batchIds: batches.map((batch) => batch.id),
  };
  await runtime.ledger.record({
    runId: input.runId,
    entry: CompromiseLedgerEntries.Plan,
    at: fanout.clock.now().toISOString(),
    fields: {
      ...plan,
      reason: input.report.reason,
      reportedBy: input.report.reportedBy,
      ...(input.report.ticket ? { ticket: input.report.ticket } : {}),
      rejected: discovered.rejected,
      // Every namespace with a managed target holds a trust bundle: CompromiseRevoke republishes them all.
      namespaces: [...new Map(discovered.targets.map((target) => [`${target.cluster}/${target.namespace}`, { cluster: target.cluster, namespace: target.namespace }])).values()],
    },
  });
  log.info('compromise blast radius planned', { scope: scope.kind, targets: targets.length, serials: serialsToRevoke.length });
  return plan;
}

/**
 * The managed target an earlier leaf belonged to: the intermediate mount stored the certificate,
 * and every name in it is a name of one declared target. A certificate the mount issued for
 * anything else (another tenant's, an operator's) is not certflow's to revoke.
 */
async function managedOwnerOf(runtime: RotationRuntime, mount: string, serial: string, targets: readonly Target[]): Promise<Target | undefined> {
  const stored = await runtime.fanout.pki.readCertificate(mount, serial);
  const [leaf] = stored ? certificatesFromPem(stored.certificatePem, `certificate ${serial}`) : [];
  if (!leaf || leaf.basicConstraints?.ca) return undefined;
  const names = dnsNamesOf(leaf);
  if (!names.length) return undefined;
  return targets.find((target) => target.kind !== 'istio-cacerts' && names.every((name) => target.dnsNames.includes(name)));
}

async function leafOf(runtime: RotationRuntime, target: Target, issuers: ReadonlyArray<{ issuerId: string; certificatePem: string }>): Promise<TargetLeaf> {
  const secret = await runtime.fanout.cluster(target.cluster).readSecret(target.namespace, target.secretName);
  const pem = secret?.data[SecretFiles[target.kind].cert]?.toString('utf8');
  const leaf = pem ? leafSummary(pem, `${target.id} certificate`) : undefined;
  if (!leaf) return { target };
  const issuerId = issuerOf(leaf, issuers);
  return { target, serial: normaliseSerial(leaf.serial), ...(issuerId ? { issuerId } : {}) };
}
