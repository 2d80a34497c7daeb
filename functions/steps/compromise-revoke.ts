import { CompromiseLedgerEntries, CompromiseRevokeOutputSchema, type CompromiseRevokeInput, type CompromiseRevokeOutput } from '../contracts/compromise-payloads';
import { IssuerStateConflictError, VaultRequestError, VerificationFailedError } from '../contracts/errors';
import type { Target } from '../contracts/targets';
import { normaliseSerial } from '../domain/compromise-serials';
import { issuerOf } from '../domain/issuer-match';
import { certificatesFromPem, crlFacts, crlSignedBy, leafSummary, type CrlFacts } from '../domain/x509-facts';
import type { Log } from '../ports/log';
import type { VaultPki } from '../ports/vault-pki';
import type { RotationRuntime } from './rotation-deps';
import { publishTrust } from './publish-trust';
import { verifierIdentity } from './verifier-identity';
import { verifyBatch } from './verify-batch';
import { destroyCompromisedBackups } from './destroy-compromised-backups';
import { mapBounded } from './bounded-map';

/**
 * Revocation (DESIGN.md Compromise response; VAULT_API.md 5.2), after the affected targets are
 * reissued: revoke each leaf serial on the intermediate mount (4.12: idempotent; an expired
 * certificate answers 200 with a warning and is reported, not failed); for an intermediate,
 * revoke the issuer on the intermediate mount (4.8: blocks issuance, only affects that mount) and
 * its serial on the root mount, which stored it when it signed it; rotate the CRLs of both mounts
 * (4.13); then read back the CRL of each issuer that signed a revoked serial and confirm the
 * serial is on it. A serial revoked but missing from its issuer's CRL is an
 * IssuerStateConflictError: relying parties would still accept it. Then trust follows the
 * revocation: every namespace bundle is republished without the revoked issuer (PublishTrust's
 * rule), and every affected target is verified again against the new bundles and the new CRLs,
 * so the response reports Contained only when no bundle anchors the stolen key.
 */
export async function revokeCompromised(runtime: RotationRuntime, input: CompromiseRevokeInput, log: Log): Promise<CompromiseRevokeOutput> {
  const { pki, settings, clock } = runtime.fanout;
  const intermediateMount = settings.intermediateMount;
  const serials = [...new Set(input.serials.map(normaliseSerial))].sort();

  // Ledger records are immutable and this step writes its record last: one that exists means an
  // earlier attempt of this same step finished (a Lambda retry after a lost answer). Its outcome
  // stands; doing the work again would republish bundles that are already clean and record a
  // different outcome for the same run.
  const finished = await finishedEarlier(runtime, input, serials);
  if (finished) {
    log.info('revocation already done by an earlier attempt of this step', { revoked: finished.revoked.length });
    return finished;
  }

  const revoked: string[] = [];
  const expired: Array<{ serial: string; warning: string }> = [];
  // Every serial first, side by side (with auto_rebuild on a revoke rebuilds no CRL, VAULT_API.md
  // 4.12), then one crl/rotate per mount below: the CRL is built once per mount, not per serial.
  const answers = await mapBounded(serials, revokeConcurrency(runtime), (serial) => pki.revokeSerial(intermediateMount, serial));
  for (const [index, serial] of serials.entries()) {
    const answer = answers[index] ?? { revoked: false, warnings: [] };
    if (answer.revoked) revoked.push(serial);
    else {
      const warning = answer.warnings.find((entry) => /expired/i.test(entry)) ?? answer.warnings.join('; ');
      expired.push({ serial, warning: warning || 'Vault revoked nothing and gave no warning' });
      log.warn('serial not added to a CRL', { serial, warning });
    }
  }

  let issuerRevoked = false;
  let rootSerialRevoked = false;
  let rootSerial: string | undefined;
  if (input.issuerId) {
    const issuer = await pki.revokeIssuer(intermediateMount, input.issuerId);
    issuerRevoked = issuer.revoked;
    const fromCertificate = certificatesFromPem(issuer.certificatePem, `issuer ${input.issuerId}`)[0]?.serial;
    rootSerial = input.rootSerial ? normaliseSerial(input.rootSerial) : fromCertificate ? normaliseSerial(fromCertificate) : undefined;
    if (!rootSerial) throw new VaultRequestError(`issuer ${input.issuerId} on ${intermediateMount} returned no certificate to take its serial from`, { details: { issuerId: input.issuerId } });
    const answer = await pki.revokeSerial(settings.rootMount, rootSerial);
    rootSerialRevoked = answer.revoked;
    if (!answer.revoked) expired.push({ serial: rootSerial, warning: answer.warnings.join('; ') || 'Vault revoked nothing and gave no warning' });
    await pki.rotateCrl(settings.rootMount);
  }
  await pki.rotateCrl(intermediateMount);

  const onCrl: Record<string, string[]> = {};
  const intermediateCrls = new CrlReader(pki, intermediateMount);
  const storedCertificates = await mapBounded(revoked, revokeConcurrency(runtime), (serial) => pki.readCertificate(intermediateMount, serial));
  for (const [index, serial] of revoked.entries()) {
    const stored = storedCertificates[index];
    const leaf = stored ? leafSummary(stored.certificatePem, `certificate ${serial}`) : undefined;
    const issuerId = leaf ? issuerOf(leaf, await intermediateCrls.issuers()) : undefined;
    const found = issuerId ? ((await intermediateCrls.lists(issuerId, serial)) ? issuerId : undefined) : await intermediateCrls.anyListing(serial);
    if (!found) {
      throw new IssuerStateConflictError(`serial ${serial} was revoked on ${intermediateMount} but is not on the CRL of ${issuerId ? `issuer ${issuerId}` : 'any issuer of the mount'} after crl/rotate`, {
        details: { serial, mount: intermediateMount, ...(issuerId ? { issuerId } : {}) },
      });
    }
    (onCrl[found] ??= []).push(serial);
  }
  if (input.issuerId && rootSerial && rootSerialRevoked) {
    const rootCrls = new CrlReader(pki, settings.rootMount);
    const intermediate = certificatesFromPem((await pki.readIssuer(intermediateMount, input.issuerId)).certificatePem, `issuer ${input.issuerId}`)[0];
    const parentId = intermediate ? issuerOf(intermediate, await rootCrls.issuers()) : undefined;
    const found = parentId ? ((await rootCrls.lists(parentId, rootSerial)) ? parentId : undefined) : await rootCrls.anyListing(rootSerial);
    if (!found) {
      throw new IssuerStateConflictError(`intermediate serial ${rootSerial} was revoked on ${settings.rootMount} but is not on its root's CRL after crl/rotate`, {
        details: { serial: rootSerial, mount: settings.rootMount, issuerId: input.issuerId },
      });
    }
    (onCrl[found] ??= []).push(rootSerial);
  }

  const bundles = await republishAndVerify(runtime, input.runId, log);
  // Revoked and on the CRLs: now no backup may bring the compromised keys back.
  const issuerPem = input.issuerId ? (await pki.readIssuer(intermediateMount, input.issuerId)).certificatePem : undefined;
  const destroyedNow = await destroyCompromisedBackups(runtime, { serials, ...(issuerPem ? { issuerPem } : {}) }, log);
  // A retried step finds nothing left to delete: keep what the first attempt destroyed in the record.
  const earlier = (await runtime.ledger.records(input.runId)).find((record) => record.entry === CompromiseLedgerEntries.Revoke)?.fields.backupsDestroyed;
  const backupsDestroyed = [...new Set([...(Array.isArray(earlier) ? (earlier as string[]) : []), ...destroyedNow])].sort();

  const output: CompromiseRevokeOutput = {
    runId: input.runId,
    backupsDestroyed,
    revoked: [...revoked, ...(rootSerial && rootSerialRevoked ? [rootSerial] : [])],
    expired,
    onCrl,
    issuerRevoked,
    rootSerialRevoked,
    bundles,
  };
  await runtime.ledger.record({ runId: input.runId, entry: CompromiseLedgerEntries.Revoke, at: clock.now().toISOString(), fields: { ...output, ...(input.issuerId ? { issuerId: input.issuerId } : {}) } });
  log.info('compromised serials revoked and on their CRLs', { revoked: output.revoked.length, expired: expired.length, issuerRevoked, rootSerialRevoked });
  return output;
}

/** Revocations in flight at once: the batch bound of the fan-out (config policy.targetConcurrency). */
function revokeConcurrency(runtime: RotationRuntime): number {
  return runtime.fanout.targetConcurrency ?? 1;
}

/** The recorded outcome of this step for this run, if an attempt with the same input finished. */
async function finishedEarlier(runtime: RotationRuntime, input: CompromiseRevokeInput, serials: readonly string[]): Promise<CompromiseRevokeOutput | undefined> {
  const record = (await runtime.ledger.records(input.runId)).find((entry) => entry.entry === CompromiseLedgerEntries.Revoke);
  if (!record) return undefined;
  const { issuerId, ...fields } = record.fields as Record<string, unknown> & { issuerId?: string };
  const parsed = CompromiseRevokeOutputSchema.safeParse(fields);
  if (!parsed.success || issuerId !== input.issuerId) return undefined;
  const handled = new Set([...parsed.data.revoked, ...parsed.data.expired.map((entry) => entry.serial)].map(normaliseSerial));
  return serials.every((serial) => handled.has(serial)) ? parsed.data : undefined;
}

/** The namespaces and affected targets CompromisePlan recorded for this run. */
async function planned(runtime: RotationRuntime, runId: string): Promise<{ namespaces: Array<{ cluster: string; namespace: string }>; targets: Target[] }> {
  const plan = (await runtime.ledger.records(runId)).find((record) => record.entry === CompromiseLedgerEntries.Plan)?.fields ?? {};
  const targets: Target[] = [];
  for (const batchId of (plan.batchIds as string[] | undefined) ?? []) targets.push(...(await runtime.ledger.getBatch(runId, batchId)));
  const recorded = (plan.namespaces as Array<{ cluster: string; namespace: string }> | undefined) ?? [];
  const namespaces = new Map(recorded.map((entry) => [`${entry.cluster}/${entry.namespace}`, entry]));
  for (const target of targets) namespaces.set(`${target.cluster}/${target.namespace}`, { cluster: target.cluster, namespace: target.namespace });
  return { namespaces: [...namespaces.values()], targets };
}

async function republishAndVerify(runtime: RotationRuntime, runId: string, log: Log): Promise<CompromiseRevokeOutput['bundles']> {
  const { namespaces, targets } = await planned(runtime, runId);
  if (!namespaces.length) return [];
  const deps = { ...runtime.fanout, log };
  const published = await publishTrust(deps, { runId, mode: 'publish', namespaces });
  // Reissue already verified every target against the bundles as they were; only a bundle that
  // changed (a revoked issuer left it) needs the targets judged again.
  if (targets.length && published.namespaces.some((entry) => entry.changed)) {
    const identity = verifierIdentity(deps.pki, deps.settings, runtime.namespace, deps.clock);
    const verified = await verifyBatch(deps, { runId, targets }, identity);
    const invalid = verified.verdicts.filter((verdict) => !verdict.valid);
    if (invalid.length) {
      throw new VerificationFailedError(`after republishing the bundles without the revoked issuer: ${invalid.map((verdict) => `${verdict.service} ${verdict.reason} (${verdict.detail})`).join('; ')}`, {
        details: { invalid: invalid.length },
      });
    }
  }
  return published.namespaces;
}

/**
 * The CRLs of one mount, each read once after the rotation. A CRL counts only when its issuer's
 * key signed it (x509-facts `crlSignedBy`): a CRL from elsewhere proves nothing.
 */
class CrlReader {
  private issuerList?: Array<{ issuerId: string; certificatePem: string }>;
  private readonly crls = new Map<string, CrlFacts>();
  /** Each CRL's serials in the canonical form, so a DER leading zero byte cannot hide a listing. */
  private readonly listed = new Map<string, Set<string>>();

  constructor(
    private readonly pki: VaultPki,
    private readonly mount: string,
  ) {}

  async issuers(): Promise<Array<{ issuerId: string; certificatePem: string }>> {
    this.issuerList ??= await Promise.all(
      (await this.pki.listIssuers(this.mount)).map(async (issuer) => ({ issuerId: issuer.issuerId, certificatePem: (await this.pki.readIssuer(this.mount, issuer.issuerId)).certificatePem })),
    );
    return this.issuerList;
  }

  async lists(issuerId: string, serial: string): Promise<boolean> {
    let crl = this.crls.get(issuerId);
    if (!crl) {
      crl = crlFacts(await this.pki.issuerCrl(this.mount, issuerId), this.crls.size);
      const issuer = (await this.issuers()).find((entry) => entry.issuerId === issuerId);
      const [facts] = issuer ? certificatesFromPem(issuer.certificatePem, `issuer ${issuerId}`) : [];
      if (!facts || !(await crlSignedBy(crl, facts.cert.publicKey))) {
        throw new IssuerStateConflictError(`the CRL ${this.mount} serves for issuer ${issuerId} is not signed by that issuer`, { details: { issuerId, mount: this.mount } });
      }
      this.crls.set(issuerId, crl);
    }
    let listed = this.listed.get(issuerId);
    if (!listed) this.listed.set(issuerId, (listed = new Set([...crl.revokedSerials].map(normaliseSerial))));
    return listed.has(normaliseSerial(serial));
  }

  async anyListing(serial: string): Promise<string | undefined> {
    for (const issuer of await this.issuers()) if (await this.lists(issuer.issuerId, serial)) return issuer.issuerId;
    return undefined;
  }
}
