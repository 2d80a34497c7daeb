import type { ActivateIssuerOutput, IssuerStateOutput, RestoreIssuerOutput } from '../contracts/pki-payloads';
import { IssuerStateConflictError } from '../contracts/errors';
import { ISSUING_USAGE, RETIRED_USAGE } from '../domain/issuer-naming';
import type { PkiStepDeps } from './prepare-intermediate';

/**
 * The default-issuer switches of a rotation (VAULT_API.md 5.1 steps 6, 7 and 9). Each is
 * idempotent: run twice with the same input, the mount ends the same and the answer is the same.
 */

/** ActivateIssuer: make the run's issuer the default; refuses if the default moved since preflight. */
export async function activateIssuer(deps: PkiStepDeps, input: { runId: string; issuerId: string; expectedPreviousDefault: string }): Promise<ActivateIssuerOutput> {
  const mount = deps.settings.intermediateMount;
  const current = await deps.pki.defaultIssuer(mount);
  if (current === input.issuerId) {
    return { runId: input.runId, activeIssuerId: input.issuerId, previousDefault: input.expectedPreviousDefault, changed: false };
  }
  if (current !== input.expectedPreviousDefault) {
    throw new IssuerStateConflictError(
      `the default issuer of ${mount} is ${current ?? 'unset'}, not ${input.expectedPreviousDefault} as recorded at preflight; someone changed it mid-run`,
      { details: { mount, current: current ?? '', expected: input.expectedPreviousDefault } },
    );
  }
  const issuer = await deps.pki.readIssuer(mount, input.issuerId);
  if (!issuer.usage.includes('issuing-certificates') || issuer.revoked) {
    throw new IssuerStateConflictError(`issuer ${input.issuerId} cannot issue (usage ${issuer.usage.join(',')}, revoked ${issuer.revoked})`);
  }
  // Roles with issuer_ref "default" follow at once; changing the default does not rebuild CRLs (4.7).
  await deps.pki.setDefaultIssuer(mount, input.issuerId);
  deps.log.info('default issuer switched', { mount, from: current, to: input.issuerId });
  return { runId: input.runId, activeIssuerId: input.issuerId, previousDefault: current, changed: true };
}

/** RetireIssuer: the old issuer stops issuing but keeps signing its CRL until its last leaf expires. */
export async function retireIssuer(deps: PkiStepDeps, input: { runId: string; issuerId: string }): Promise<IssuerStateOutput> {
  const mount = deps.settings.intermediateMount;
  const current = await deps.pki.defaultIssuer(mount);
  if (current === input.issuerId) {
    throw new IssuerStateConflictError(`issuer ${input.issuerId} is still the default of ${mount}; activate its successor first`);
  }
  const issuer = await deps.pki.updateIssuer(mount, input.issuerId, { usage: [...RETIRED_USAGE] });
  deps.log.info('issuer retired', { mount, issuerId: input.issuerId, usage: issuer.usage });
  return { runId: input.runId, issuerId: input.issuerId, usage: issuer.usage, isDefault: false };
}

/**
 * RestoreIssuer (rollback): the previous default back, able to issue again, and the run's new
 * issuer no longer issuing. Leaves the new issuer can still be verified (same root).
 */
export async function restoreIssuer(deps: PkiStepDeps, input: { runId: string; previousDefault: string; newIssuerId?: string }): Promise<RestoreIssuerOutput> {
  const mount = deps.settings.intermediateMount;
  await deps.pki.updateIssuer(mount, input.previousDefault, { usage: [...ISSUING_USAGE] });
  if ((await deps.pki.defaultIssuer(mount)) !== input.previousDefault) {
    await deps.pki.setDefaultIssuer(mount, input.previousDefault);
  }
  let newIssuerUsage: string[] | undefined;
  if (input.newIssuerId && input.newIssuerId !== input.previousDefault) {
    newIssuerUsage = (await deps.pki.updateIssuer(mount, input.newIssuerId, { usage: [...RETIRED_USAGE] })).usage;
  }
  const strays = await retireStrayIssuers(deps, input.previousDefault);
  deps.log.info('issuer restored', { mount, defaultIssuer: input.previousDefault, newIssuerId: input.newIssuerId, straysRetired: strays });
  // The strays are logged, not answered: a retried restore finds none left, and answers the same.
  return { runId: input.runId, defaultIssuer: input.previousDefault, ...(newIssuerUsage ? { newIssuerUsage } : {}) };
}

/**
 * After a run settles exactly one issuer of the intermediate mount may issue: the default. Any
 * other that still can (an intermediate an aborted compromise response or a preempted rotation
 * prepared or replaced, which nothing else would retire) is retired here: it keeps signing its
 * CRL and stays trusted until its leaves expire, but no role can issue from it again. Revoked
 * issuers are left as they are (revocation already blocks issuance, VAULT_API.md 4.8). Returns the
 * ids it retired.
 */
export async function retireStrayIssuers(deps: PkiStepDeps, keep: string): Promise<string[]> {
  const mount = deps.settings.intermediateMount;
  const retired: string[] = [];
  for (const summary of await deps.pki.listIssuers(mount)) {
    if (summary.issuerId === keep) continue;
    const issuer = await deps.pki.readIssuer(mount, summary.issuerId);
    if (issuer.revoked || !issuer.usage.includes('issuing-certificates')) continue;
    await deps.pki.updateIssuer(mount, summary.issuerId, { usage: [...RETIRED_USAGE] });
    retired.push(summary.issuerId);
  }
  if (retired.length) deps.log.warn('issuers left issuing by an earlier run retired', { mount, retired, keep });
  return retired;
}
