/**
 * Is the intermediate CA due for rotation? (DESIGN.md Rotation step 3.) Pure: the caller gathers
 * the issuer's dates from `GET pki_int/issuer/:ref` (VAULT_API.md 4.2) and passes the clock in.
 *
 * Two schedules make an intermediate due, and `dueAt` is the earlier of them:
 *  - age:  notBefore + rotationPeriod (the configured cadence);
 *  - life: notAfter - (leafMaxTtl + renewBefore). After that moment a leaf issued with the
 *    role's max TTL would outlive its issuer, or expire inside its own renewal window: Vault then
 *    refuses to issue (`leaf_not_after_behavior: err`) or truncates the leaf (P3). Invariant I6
 *    says no leaf outlives its issuer, so the new intermediate must be active before then.
 *
 * Rotation is due at `dueAt` itself (now >= dueAt), one tick earlier than a strict reading of
 * "remaining life < leafMaxTtl + renewBefore": rotating a second early is harmless, a second late
 * is not.
 *
 * Checks, in order; the first that matches decides:
 *  1. NotDue (inactive)   not the default issuer, or its usage lacks `issuing-certificates`: a
 *                         retiring issuer is kept for CRL signing until its last leaf expires
 *                         (step 10), it is not rotated (unless forced)
 *  2. Expired             now >= notAfter: it can sign nothing
 *  3. Forced              an operator asked
 *  4. WouldOutliveIssuer  now >= notAfter - (leafMaxTtl + renewBefore)
 *  5. PastRotationPeriod  now >= notBefore + rotationPeriod
 *  6. NotDue
 */
import { InvalidInputError } from '../contracts/errors';

export const IntermediateRotationReasons = {
  Forced: 'Forced',
  PastRotationPeriod: 'PastRotationPeriod',
  WouldOutliveIssuer: 'WouldOutliveIssuer',
  Expired: 'Expired',
  NotDue: 'NotDue',
} as const;
export type IntermediateRotationReason = (typeof IntermediateRotationReasons)[keyof typeof IntermediateRotationReasons];

export interface IntermediateRotationInput {
  issuer: {
    notBefore: Date;
    notAfter: Date;
    isDefault: boolean;
    /** The issuer's `usage` as a set (Vault returns a comma-joined string, VAULT_API.md 4.2). Absent means unknown: assumed issuing. */
    usage?: string[];
  };
  now: Date;
  rotationPeriodSeconds: number;
  /** The longest TTL a leaf may be issued with (the roles' `max_ttl`). */
  leafMaxTtlSeconds: number;
  /** How long before its notAfter a leaf is renewed. */
  renewBeforeSeconds: number;
  /** @default false */
  forced?: boolean;
}

export interface IntermediateRotationDecision {
  due: boolean;
  reason: IntermediateRotationReason;
  detail: string;
  /** When rotation is (or was) due by schedule: the earlier of the age and life deadlines. */
  dueAt: Date;
}

export function decideIntermediateRotation(input: IntermediateRotationInput): IntermediateRotationDecision {
  validate(input);
  const { issuer, now } = input;
  const byAge = new Date(issuer.notBefore.getTime() + input.rotationPeriodSeconds * 1000);
  const byLife = new Date(issuer.notAfter.getTime() - (input.leafMaxTtlSeconds + input.renewBeforeSeconds) * 1000);
  const dueAt = byLife < byAge ? byLife : byAge;
  const iso = (d: Date) => d.toISOString();
  const decide = (due: boolean, reason: IntermediateRotationReason, detail: string): IntermediateRotationDecision => ({ due, reason, detail, dueAt });

  const issuing = issuer.usage === undefined || issuer.usage.includes('issuing-certificates');
  if ((!issuer.isDefault || !issuing) && !input.forced) {
    return decide(
      false,
      IntermediateRotationReasons.NotDue,
      `the issuer is ${issuer.isDefault ? 'the default' : 'not the default'}${issuing ? '' : ' and no longer issues certificates'}: only the active issuer is rotated; a retiring one is kept for CRL signing until its last leaf expires`,
    );
  }
  if (now >= issuer.notAfter) {
    return decide(true, IntermediateRotationReasons.Expired, `the intermediate expired at ${iso(issuer.notAfter)}; it can sign nothing`);
  }
  if (input.forced) {
    return decide(true, IntermediateRotationReasons.Forced, `rotation was requested; by schedule it is due at ${iso(dueAt)}`);
  }
  if (now >= byLife) {
    return decide(
      true,
      IntermediateRotationReasons.WouldOutliveIssuer,
      `a leaf issued now with the max TTL of ${input.leafMaxTtlSeconds}s plus its renewal window of ${input.renewBeforeSeconds}s would reach past the intermediate's notAfter ${iso(issuer.notAfter)} (deadline ${iso(byLife)})`,
    );
  }
  if (now >= byAge) {
    return decide(
      true,
      IntermediateRotationReasons.PastRotationPeriod,
      `the intermediate issued at ${iso(issuer.notBefore)} reached its rotation period of ${input.rotationPeriodSeconds}s at ${iso(byAge)}`,
    );
  }
  return decide(false, IntermediateRotationReasons.NotDue, `the intermediate is due for rotation at ${iso(dueAt)}`);
}

function validate(input: IntermediateRotationInput): void {
  const dates: [string, Date][] = [
    ['issuer.notBefore', input.issuer.notBefore],
    ['issuer.notAfter', input.issuer.notAfter],
    ['now', input.now],
  ];
  for (const [field, date] of dates) {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new InvalidInputError(`${field} must be a valid Date`, { details: { field } });
  }
  const durations: [string, number][] = [
    ['rotationPeriodSeconds', input.rotationPeriodSeconds],
    ['leafMaxTtlSeconds', input.leafMaxTtlSeconds],
    ['renewBeforeSeconds', input.renewBeforeSeconds],
  ];
  for (const [field, value] of durations) {
    if (!Number.isFinite(value) || value < 0) throw new InvalidInputError(`${field} must be a non-negative number of seconds, got ${value}`, { details: { field } });
  }
  if (input.rotationPeriodSeconds === 0) throw new InvalidInputError('rotationPeriodSeconds must be positive', { details: { field: 'rotationPeriodSeconds' } });
}
