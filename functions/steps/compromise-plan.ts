import type { CompromiseReport } from '../contracts/compromise';
import { CompromiseLedgerEntries, type CompromisePlan } from '../contracts/compromise-payloads';
import { InvalidInputError } from '../contracts/errors';
import type { Target } from '../contracts/targets';
import { compromiseBatches, normaliseSerial } from '../domain/compromise-serials';
import { issuerOf } from '../domain/issuer-match';
import { SecretFiles } from '../domain/secret-layout';
import { certificatesFromPem } from '../domain/x509-facts';
import type { Log } from '../ports/log';
import { discoverTargets } from './discover-targets';
import { defaultKeyAlgorithmOf } from '../domain/target-policy';
import type { RotationRuntime } from './rotation-deps';

/** One target with what its Secret holds now: the leaf's serial and the issuer that signed it. */
interface TargetLeaf {
  target: Target;
  serial?: string;
  issuerId?: string;
}

/**
 * Blast radius (DESIGN.md Compromise response; gather, then decide): discover every target, read
 * the certificate each Secret holds now and which intermediate issuer signed it, then pick the
 * targets the report's scope names. The affected targets go to the ledger as batches `c0001`...
 * for the rotation's batch tasks; the payload carries ids, names and serials only.
 *
 * - services: targets of the named services; names that match nothing are reported, and an
 *   error only when none matches (the report then names nothing certflow manages).
 * - serials: targets whose current leaf has one of the serials; a serial that matches no target
 *   is still revoked when the intermediate mount stored it (a deleted workload's certificate),
 *   and reported as unknown otherwise.
 * - intermediate: every target whose leaf that issuer signed; the issuer must be on the mount.
 */
export async function planCompromise(runtime: RotationRuntime, input: { runId: string; report: CompromiseReport }, log: Log): Promise<CompromisePlan> {
  const { fanout } = runtime;
  const mount = fanout.settings.intermediateMount;
  const { scope } = input.report;

  const summaries = await fanout.pki.listIssuers(mount);
  if (scope.kind === 'intermediate' && !summaries.some((issuer) => issuer.issuerId === scope.issuerId)) {
    throw new InvalidInputError(`scope.issuerId: issuer ${scope.issuerId} is not on the intermediate mount ${mount}`, { details: { issuerId: scope.issuerId, mount } });
  }
  const issuers = await Promise.all(summaries.map(async (issuer) => ({ issuerId: issuer.issuerId, certificatePem: (await fanout.pki.readIssuer(mount, issuer.issuerId)).certificatePem })));
  const discovered = await discoverTargets(fanout.clusters, runtime.policy, defaultKeyAlgorithmOf(fanout.settings), log);
  const leaves = await Promise.all(discovered.targets.map((target) => leafOf(runtime, target, issuers)));

  let affected: TargetLeaf[];
  let unknownServices: string[] = [];
  const unknownSerials: string[] = [];
  const orphanSerials: string[] = [];
  let issuerSerial: string | undefined;
  if (scope.kind === 'services') {
    const named = new Set(scope.services);
    affected = leaves.filter((leaf) => named.has(leaf.target.service));
    unknownServices = [...named].filter((service) => !affected.some((leaf) => leaf.target.service === service)).sort();
    if (!affected.length) throw new InvalidInputError(`scope.services: no managed target belongs to ${scope.services.join(', ')}`, { details: { services: scope.services.length } });
  } else if (scope.kind === 'serials') {
    const serials = [...new Set(scope.serials.map(normaliseSerial))];
    affected = leaves.filter((leaf) => leaf.serial !== undefined && serials.includes(leaf.serial));
    const unmatched = serials.filter((serial) => !affected.some((leaf) => leaf.serial === serial));
    for (const serial of unmatched) {
      if (await fanout.pki.readCertificate(mount, serial)) orphanSerials.push(serial);
      else unknownSerials.push(serial);
    }
    if (!affected.length && !orphanSerials.length) {
      throw new InvalidInputError(`scope.serials: none of ${serials.join(', ')} is a managed target's certificate or a certificate of ${mount}`, { details: { serials: serials.length, mount } });
    }
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
  const serialsToRevoke = [...new Set([...revocable.map((leaf) => leaf.serial as string), ...orphanSerials])].sort();
  const targets = affected.map((leaf) => leaf.target);
  const batches = compromiseBatches(targets, runtime.batchSize);
  for (const batch of batches) await runtime.ledger.putBatch(input.runId, batch.id, batch.items);

  const plan: CompromisePlan = {
    runId: input.runId,
    scope: scope.kind,
    affected: {
      services: [...new Set(targets.map((target) => target.service))].sort(),
      targetIds: targets.map((target) => target.id),
      serialsToRevoke,
      ...(scope.kind === 'intermediate' ? { issuerId: scope.issuerId } : {}),
      ...(issuerSerial ? { issuerSerial } : {}),
    },
    batchIds: batches.map((batch) => batch.id),
    unknownServices,
    unknownSerials,
  };
  await runtime.ledger.record({
    runId: input.runId,
    entry: CompromiseLedgerEntries.Plan,
    at: fanout.clock.now().toISOString(),
    fields: { ...plan, reason: input.report.reason, reportedBy: input.report.reportedBy, ...(input.report.ticket ? { ticket: input.report.ticket } : {}), rejected: discovered.rejected },
  });
  log.info('compromise blast radius planned', { scope: scope.kind, targets: targets.length, serials: serialsToRevoke.length, unknownServices: unknownServices.length, unknownSerials: unknownSerials.length });
  return plan;
}

async function leafOf(runtime: RotationRuntime, target: Target, issuers: ReadonlyArray<{ issuerId: string; certificatePem: string }>): Promise<TargetLeaf> {
  const secret = await runtime.fanout.cluster(target.cluster).readSecret(target.namespace, target.secretName);
  const pem = secret?.data[SecretFiles[target.kind].cert]?.toString('utf8');
  const leaf = pem ? certificatesFromPem(pem, `${target.id} certificate`)[0] : undefined;
  if (!leaf) return { target };
  const issuerId = issuerOf(leaf, issuers);
  return { target, serial: leaf.serial, ...(issuerId ? { issuerId } : {}) };
}
