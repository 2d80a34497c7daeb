/**
 * Is a target's leaf certificate due for renewal? (DESIGN.md Rotation step 3.) Modelled on
 * cert-manager's trigger policy chain (internal/controller/certificates/policies): the plan step
 * gathers one snapshot per target, then this ordered chain of small pure checks decides and the
 * first that matches names the reason. The reasons flow unchanged into logs, events and state.
 *
 *  1. DoesNotExist      no certificate was found for the target
 *  2. Expired           now >= notAfter (treated as dead in its last second: renewing early is safe)
 *  3. Forced            an operator asked
 *  4. IssuerRetiring    issued by an issuer being retired (its usage lost `issuing-certificates`)
 *  5. IssuerNotDefault  issued by an issuer other than the current default (after an activation)
 *  6. SanMismatch       its DNS names differ from the desired set (order, case and duplicates ignored)
 *  7. RenewalWindow     now >= renewalTime
 *  8. UpToDate
 *
 * Retiring comes before not-default because it is the more specific fact (a retiring issuer is
 * never the default) and the one an operator acts on. An unknown `issuerId` skips checks 4-5:
 * the plan cannot tell, and a wrong guess would renew every target on every run.
 */
import { InvalidInputError } from '../contracts/errors';

export const RenewalReasons = {
  DoesNotExist: 'DoesNotExist',
  Forced: 'Forced',
  Expired: 'Expired',
  RenewalWindow: 'RenewalWindow',
  IssuerNotDefault: 'IssuerNotDefault',
  IssuerRetiring: 'IssuerRetiring',
  SanMismatch: 'SanMismatch',
  UpToDate: 'UpToDate',
} as const;
export type RenewalReason = (typeof RenewalReasons)[keyof typeof RenewalReasons];

export interface CurrentCertificate {
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  /** The Vault issuer that signed it, when the gatherer could tell (AKID or issuer DN, VAULT_API.md 5.2 d). */
  issuerId?: string;
}

export interface RenewalInput {
  /** Absent when the target has no certificate yet (no Secret, or no `tls.crt` in it). */
  certificate?: CurrentCertificate;
  desiredDnsNames: string[];
  defaultIssuerId: string;
  retiringIssuerIds: string[];
  now: Date;
  /** How long before notAfter to renew; 0, or a value not shorter than the lifetime, means 1/3 of the lifetime. */
  renewBeforeSeconds: number;
  /** @default false */
  forced?: boolean;
  /**
   * Spreads renewals over the window (issue 16, cert-manager #7572): the renewal time moves later
   * by `fraction` x renewBefore x `position`, where `position` in [0, 1) comes from the
   * certificate's serial (serialPosition). @default no jitter
   */
  jitter?: { fraction: number; position: number };
}

export interface RenewalDecision {
  due: boolean;
  reason: RenewalReason;
  /** Present whenever a certificate exists, whatever the reason. */
  renewalTime?: Date;
  detail: string;
}

type Snapshot = RenewalInput & { renewalTime?: Date };
type Check = (s: Snapshot) => Omit<RenewalDecision, 'renewalTime'> | undefined;

/**
 * When a certificate should be renewed: `renewBefore` before its notAfter. As in cert-manager's
 * pkg/util/pki/renewaltime.go, a renewBefore that is zero or not shorter than the lifetime falls
 * back to renewing 2/3 through the lifetime (otherwise every fresh certificate would be due at
 * once and renew in a loop).
 *
 * The result is truncated to whole seconds, for the reason cert-manager gives: a renewal time is
 * stored at second precision (a Kubernetes `status.renewalTime`, a schedule, an RFC 3339 field in
 * run state) and whoever wakes up at the stored time re-derives "due now?" from the certificate.
 * Certificate dates are whole seconds, but `notAfter - lifetime/3` need not be; an untruncated
 * value could lie a fraction of a second after the stored one, and the run woken at the stored
 * time would find the certificate not yet due and skip it (cert-manager/cert-manager#4399).
 * Truncating (never rounding up) keeps the stored and the computed time identical.
 */
export function renewalTime(notBefore: Date, notAfter: Date, renewBeforeSeconds: number): Date {
  const lifetimeMs = notAfter.getTime() - notBefore.getTime();
  const renewBeforeMs = renewBeforeSeconds * 1000;
  const effectiveMs = renewBeforeMs > 0 && renewBeforeMs < lifetimeMs ? renewBeforeMs : lifetimeMs / 3;
  return new Date(Math.floor((notAfter.getTime() - effectiveMs) / 1000) * 1000);
}

function normalized(names: readonly string[]): string[] {
  return [...new Set(names.map((n) => n.trim().toLowerCase().replace(/\.$/, '')))].sort();
}

const doesNotExist: Check = (s) =>
  s.certificate ? undefined : { due: true, reason: RenewalReasons.DoesNotExist, detail: 'the target has no certificate yet' };

const expired: Check = ({ certificate, now }) =>
  certificate && now >= certificate.notAfter
    ? { due: true, reason: RenewalReasons.Expired, detail: `the certificate expired at ${certificate.notAfter.toISOString()}` }
    : undefined;

const forced: Check = (s) => (s.forced ? { due: true, reason: RenewalReasons.Forced, detail: 'renewal was requested' } : undefined);

const issuerRetiring: Check = ({ certificate, retiringIssuerIds }) =>
  certificate?.issuerId !== undefined && retiringIssuerIds.includes(certificate.issuerId)
    ? { due: true, reason: RenewalReasons.IssuerRetiring, detail: `issued by ${certificate.issuerId}, which is being retired` }
    : undefined;

const issuerNotDefault: Check = ({ certificate, defaultIssuerId }) =>
  certificate?.issuerId !== undefined && certificate.issuerId !== defaultIssuerId
    ? { due: true, reason: RenewalReasons.IssuerNotDefault, detail: `issued by ${certificate.issuerId}, not by the default issuer ${defaultIssuerId}` }
    : undefined;

const sanMismatch: Check = ({ certificate, desiredDnsNames }) => {
  if (!certificate) return undefined;
  const have = normalized(certificate.dnsNames);
  const want = normalized(desiredDnsNames);
  const missing = want.filter((n) => !have.includes(n));
  const extra = have.filter((n) => !want.includes(n));
  if (missing.length === 0 && extra.length === 0) return undefined;
  const parts = [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `not wanted ${extra.join(', ')}` : ''].filter(Boolean);
  return { due: true, reason: RenewalReasons.SanMismatch, detail: `the DNS names differ from the desired ones: ${parts.join('; ')}` };
};

const inRenewalWindow: Check = ({ now, renewalTime: at }) =>
  at && now >= at ? { due: true, reason: RenewalReasons.RenewalWindow, detail: `the renewal time ${at.toISOString()} has passed` } : undefined;

/** The chain, in order: the first check that returns a decision wins. */
const CHECKS: readonly Check[] = [doesNotExist, expired, forced, issuerRetiring, issuerNotDefault, sanMismatch, inRenewalWindow];

export function decideRenewal(input: RenewalInput): RenewalDecision {
  validate(input);
  const at = input.certificate ? jittered(renewalTime(input.certificate.notBefore, input.certificate.notAfter, input.renewBeforeSeconds), input) : undefined;
  const snapshot: Snapshot = at ? { ...input, renewalTime: at } : input;
  const withTime = (d: Omit<RenewalDecision, 'renewalTime'>): RenewalDecision => (at ? { ...d, renewalTime: at } : d);
  for (const check of CHECKS) {
    const decision = check(snapshot);
    if (decision) return withTime(decision);
  }
  return withTime({ due: false, reason: RenewalReasons.UpToDate, detail: `up to date; renews at ${at?.toISOString()}` });
}

/**
 * The renewal time moved later within the window, truncated to whole seconds as renewalTime is.
 * Never past notAfter minus the unjittered share of the window: the fraction is at most 0.9, so
 * at least a tenth of renewBefore is always left to renew in.
 */
function jittered(at: Date, input: RenewalInput): Date {
  if (!input.jitter || input.jitter.fraction <= 0 || !input.certificate) return at;
  const windowMs = input.certificate.notAfter.getTime() - at.getTime();
  const shiftMs = windowMs * Math.min(input.jitter.fraction, 0.9) * Math.min(Math.max(input.jitter.position, 0), 1 - Number.EPSILON);
  return new Date(Math.floor((at.getTime() + shiftMs) / 1000) * 1000);
}

/**
 * A certificate's place in [0, 1) for the jitter, from its serial: Vault's serials are random
 * (VAULT_API.md 4.10), so the low 32 bits spread evenly, and the same certificate always lands at
 * the same place (a plan run twice decides the same).
 */
export function serialPosition(serial: string): number {
  const hex = serial.replace(/[^0-9a-f]/gi, '').slice(-8);
  return hex ? Number.parseInt(hex, 16) / 2 ** (4 * hex.length) : 0;
}

function validate(input: RenewalInput): void {
  const dates: [string, Date | undefined][] = [
    ['now', input.now],
    ['certificate.notBefore', input.certificate?.notBefore],
    ['certificate.notAfter', input.certificate?.notAfter],
  ];
  for (const [field, date] of dates) {
    if (field.startsWith('certificate') && !input.certificate) continue;
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new InvalidInputError(`${field} must be a valid Date`, { details: { field } });
  }
  if (!Number.isFinite(input.renewBeforeSeconds) || input.renewBeforeSeconds < 0) {
    throw new InvalidInputError(`renewBeforeSeconds must be a non-negative number of seconds, got ${input.renewBeforeSeconds}`, { details: { field: 'renewBeforeSeconds' } });
  }
}
