import { decideIntermediateRotation, type IntermediateRotationDecision } from '../domain/intermediate-due';
import { certificatesFromPem } from '../domain/x509-facts';
import type { PkiStepDeps } from './prepare-intermediate';

export interface IssuerPlanLine {
  issuerId: string;
  issuerName: string;
  isDefault: boolean;
  usage: string[];
  revoked: boolean;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  remainingDays: number;
}

export interface PkiPlan {
  intermediateMount: string;
  defaultIssuer?: string;
  issuers: IssuerPlanLine[];
  rotation: IntermediateRotationDecision | { due: true; reason: 'NoDefaultIssuer'; detail: string };
}

/**
 * The PKI part of `certflow plan` (gather, then decide; nothing is changed): every issuer of the
 * intermediate mount with its remaining life, which is default, and whether rotation is due and why.
 */
export async function planPki(deps: PkiStepDeps, options: { forced?: boolean } = {}): Promise<PkiPlan> {
  const { pki, settings } = deps;
  const now = deps.clock.now();
  const mount = settings.intermediateMount;
  const summaries = await pki.listIssuers(mount);
  const issuers: IssuerPlanLine[] = [];
  for (const summary of summaries) {
    const issuer = await pki.readIssuer(mount, summary.issuerId);
    const [facts] = certificatesFromPem(issuer.certificatePem, `issuer ${summary.issuerId}`);
    if (!facts) continue;
    issuers.push({
      issuerId: summary.issuerId,
      issuerName: summary.issuerName,
      isDefault: summary.isDefault,
      usage: issuer.usage,
      revoked: issuer.revoked,
      serialNumber: facts.serial,
      notBefore: facts.notBefore.toISOString(),
      notAfter: facts.notAfter.toISOString(),
      remainingDays: Math.floor((facts.notAfter.getTime() - now.getTime()) / 86_400_000),
    });
  }
  const active = issuers.find((issuer) => issuer.isDefault);
  if (!active) {
    return { intermediateMount: mount, issuers, rotation: { due: true, reason: 'NoDefaultIssuer', detail: `${mount} has no default issuer: issuance does not work until one is set (P1)` } };
  }
  const rotation = decideIntermediateRotation({
    issuer: { notBefore: new Date(active.notBefore), notAfter: new Date(active.notAfter), isDefault: true, usage: active.usage },
    now,
    rotationPeriodSeconds: settings.rotationPeriodSeconds,
    leafMaxTtlSeconds: settings.leafTtlSeconds,
    renewBeforeSeconds: settings.renewBeforeSeconds,
    forced: options.forced ?? false,
  });
  return { intermediateMount: mount, defaultIssuer: active.issuerId, issuers, rotation };
}
