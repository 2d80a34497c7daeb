import { certificatesOf } from '../x509/pem-certificates';
import type { CertificateObject, SecretObject } from '../kubernetes/kubernetes-emulator';
import { CertificateReasons, conditionOf, ConditionTypes, kubeTime, type CertificateReason } from './certificate-conditions';

/**
 * Whether a Certificate needs issuing, after cert-manager's trigger controller
 * (`internal/controller/certificates/policies/checks.go`): gather one snapshot (the Certificate,
 * its Secret, the time), then run an ordered chain of small checks; the first that fires names
 * the reason written into the Issuing condition. An Issuing=True condition already present (what
 * `cmctl renew` sets) is honoured as it is. Spec drift (SANs, key type) is not checked: certflow
 * renews on its own decisions, and a rollback that restores an older but valid Secret must not
 * make the controller reissue behind its back.
 */

export interface TriggerSnapshot {
  readonly certificate: CertificateObject;
  readonly secret: SecretObject | undefined;
  readonly now: Date;
}

export interface Trigger {
  readonly reason: CertificateReason | string;
  readonly message: string;
}

type Check = (snapshot: TriggerSnapshot) => Trigger | undefined;

function decoded(secret: SecretObject, key: string): string | undefined {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

/** notAfter - renewBefore when it leaves a positive window, else 2/3 of the lifetime, in whole seconds. */
export function renewalTime(notBefore: Date, notAfter: Date, renewBefore?: string): Date {
  const lifetimeMs = notAfter.getTime() - notBefore.getTime();
  const beforeMs = renewBefore === undefined ? undefined : parseGoDuration(renewBefore);
  // cert-manager truncates to whole seconds so that the stored renewalTime (metav1.Time) and the
  // one it computes again on the next sync agree, instead of flapping on sub-second differences.
  const at = beforeMs !== undefined && beforeMs > 0 && beforeMs < lifetimeMs ? notAfter.getTime() - beforeMs : notBefore.getTime() + (lifetimeMs * 2) / 3;
  return new Date(Math.floor(at / 1000) * 1000);
}

const GO_DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
const GO_UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go `time.Duration` string (`720h`, `1h30m`) in milliseconds; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (!/^((\d+(\.\d+)?)(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(GO_DURATION_PART)) total += Number(match[1]) * (GO_UNIT_MS[match[2] as string] ?? 0);
  return total;
}

const alreadyIssuing: Check = ({ certificate }) => {
  const issuing = conditionOf(certificate, ConditionTypes.Issuing);
  if (issuing?.status !== 'True') return undefined;
  return { reason: issuing.reason ?? CertificateReasons.ManuallyTriggered, message: issuing.message ?? '' };
};

const secretDoesNotExist: Check = ({ secret }) =>
  secret === undefined ? { reason: CertificateReasons.DoesNotExist, message: 'Issuing certificate as Secret does not exist' } : undefined;

const secretMissingData: Check = ({ secret }) => {
  if (!secret) return undefined;
  const missing = ['tls.crt', 'tls.key'].filter((key) => !decoded(secret, key));
  return missing.length > 0 ? { reason: CertificateReasons.MissingData, message: `Issuing certificate as Secret does not contain ${missing.join(' or ')}` } : undefined;
};

/**
 * Leaves by the Secret's tls.crt as stored (base64): the controller looks at every Certificate on
 * every change and every resync, and three checks read the leaf, so without this each tls.crt
 * was parsed three times per look (12-13% of a rotation's CPU). Now once per content.
 */
const leaves = new Map<string, { notBefore: Date; notAfter: Date } | Trigger>();

/** The leaf of tls.crt, or the reason it cannot be read. */
function leafOf(secret: SecretObject): { notBefore: Date; notAfter: Date } | Trigger {
  const stored = secret.data?.['tls.crt'] ?? '';
  const known = leaves.get(stored);
  if (known) return known;
  const leaf = parseLeaf(secret);
  if (leaves.size >= 10_000) leaves.clear();
  leaves.set(stored, leaf);
  return leaf;
}

function parseLeaf(secret: SecretObject): { notBefore: Date; notAfter: Date } | Trigger {
  try {
    const leaf = certificatesOf(decoded(secret, 'tls.crt') ?? '')[0];
    if (leaf) return leaf;
  } catch {
    // Reported below as InvalidCertificate; the parse error itself adds nothing an operator can act on.
  }
  return { reason: CertificateReasons.InvalidCertificate, message: 'Issuing certificate as Secret contains an invalid certificate' };
}

const certificateInvalid: Check = ({ secret }) => {
  if (!secret) return undefined;
  const leaf = leafOf(secret);
  return 'reason' in leaf ? leaf : undefined;
};

const certificateExpired: Check = ({ secret, now }) => {
  if (!secret) return undefined;
  const leaf = leafOf(secret);
  if ('reason' in leaf || leaf.notAfter.getTime() > now.getTime()) return undefined;
  return { reason: CertificateReasons.Expired, message: `Certificate expired on ${leaf.notAfter.toUTCString()}` };
};

const renewalDue: Check = ({ certificate, secret, now }) => {
  if (!secret) return undefined;
  const leaf = leafOf(secret);
  if ('reason' in leaf) return undefined;
  const at = renewalTime(leaf.notBefore, leaf.notAfter, certificate.spec.renewBefore);
  return at.getTime() <= now.getTime() ? { reason: CertificateReasons.Renewing, message: `Renewing certificate as renewal was scheduled at ${kubeTime(at)}` } : undefined;
};

/** In cert-manager's order: the first check that fires decides. */
const CHECKS: readonly Check[] = [alreadyIssuing, secretDoesNotExist, secretMissingData, certificateInvalid, certificateExpired, renewalDue];

export function issuanceTrigger(snapshot: TriggerSnapshot): Trigger | undefined {
  for (const check of CHECKS) {
    const trigger = check(snapshot);
    if (trigger) return trigger;
  }
  return undefined;
}
