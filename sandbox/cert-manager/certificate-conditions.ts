import type { CertificateCondition, CertificateObject } from '../kubernetes/kubernetes-emulator';

/**
 * The status vocabulary of cert-manager's Certificate, as its controllers write it
 * (cert-manager `pkg/apis/certmanager/v1/types_certificate.go` and
 * `internal/controller/certificates/policies/constants.go`): condition types, and the reasons the
 * trigger and issuing controllers give. The reasons flow unchanged into conditions and errors.
 */
export const ConditionTypes = {
  Ready: 'Ready',
  Issuing: 'Issuing',
} as const;

export const CertificateReasons = {
  /** Ready=True: the Secret holds the certificate the spec asks for. */
  Ready: 'Ready',
  /** Issuing=True: `cmctl renew` (certflow's renewal request). */
  ManuallyTriggered: 'ManuallyTriggered',
  /** Issuing=True: the Secret named by spec.secretName does not exist. */
  DoesNotExist: 'DoesNotExist',
  /** Issuing=True: the Secret lacks tls.crt or tls.key. */
  MissingData: 'MissingData',
  /** Issuing=True: tls.crt does not parse. */
  InvalidCertificate: 'InvalidCertificate',
  /** Issuing=True: the certificate has expired. */
  Expired: 'Expired',
  /** Issuing=True: the renewal time (2/3 of the lifetime, or notAfter - renewBefore) has passed. */
  Renewing: 'Renewing',
  /** Ready=False: the last issuance attempt failed; it is retried with backoff. */
  Failed: 'Failed',
} as const;

export type CertificateReason = (typeof CertificateReasons)[keyof typeof CertificateReasons];

/** metav1.Time: RFC 3339 in whole seconds. */
export function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function conditionOf(certificate: CertificateObject, type: string): CertificateCondition | undefined {
  return certificate.status?.conditions?.find((condition) => condition.type === type);
}

export function isIssuing(certificate: CertificateObject): boolean {
  return conditionOf(certificate, ConditionTypes.Issuing)?.status === 'True';
}

/**
 * Sets a condition in place, as apiutil.SetCertificateCondition does: lastTransitionTime moves
 * only when the status changes; observedGeneration is the Certificate's generation.
 */
export function setCondition(
  certificate: CertificateObject,
  condition: { type: string; status: CertificateCondition['status']; reason: string; message: string },
  now: Date,
): void {
  const status = (certificate.status ??= {});
  const conditions = (status.conditions ??= []);
  const existing = conditions.find((candidate) => candidate.type === condition.type);
  const next: CertificateCondition = {
    ...condition,
    lastTransitionTime: existing && existing.status === condition.status && existing.lastTransitionTime ? existing.lastTransitionTime : kubeTime(now),
    ...(certificate.metadata.generation === undefined ? {} : { observedGeneration: certificate.metadata.generation }),
  };
  if (existing) conditions.splice(conditions.indexOf(existing), 1, next);
  else conditions.push(next);
}

/** cert-manager removes the Issuing condition once issuance completes. */
export function removeCondition(certificate: CertificateObject, type: string): void {
  const conditions = certificate.status?.conditions;
  if (!conditions) return;
  certificate.status!.conditions = conditions.filter((condition) => condition.type !== type);
}
