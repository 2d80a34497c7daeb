import type { CertificateSeen, TargetSeen } from '../contracts/expiry';
import type { Target } from '../contracts/targets';
import { CertflowError } from '../contracts/errors';
import { certificatesFromPem } from '../domain/x509-facts';
import { SecretFiles } from '../domain/secret-layout';
import type { Cluster } from '../ports/cluster';
import type { TlsProbe } from '../ports/tls-probe';
import type { Log } from '../ports/log';
import { mapBounded } from './bounded-map';

export interface ExpiryTargetsDeps {
  cluster(name: string): Cluster;
  probe: TlsProbe;
  log: Log;
  /** Targets looked at side by side (config policy.targetConcurrency). */
  targetConcurrency: number;
}

/**
 * ExpiryTargets (gather): for every declared target, the certificate its Secret stores and the
 * one its endpoint serves, by a handshake without a client certificate (the served chain comes
 * before the server asks for one, and presenting none issues nothing in Vault). Reads only: the
 * sweep changes nothing. Only the certificate file is read from a Secret, never its key.
 */
export async function sweepTargets(deps: ExpiryTargetsDeps, targets: readonly Target[]): Promise<TargetSeen[]> {
  const seen = await mapBounded(targets, deps.targetConcurrency, (target) => sweepTarget(deps, target));
  deps.log.info('targets swept', { targets: seen.map((entry) => [entry.id, entry.health]) });
  return seen;
}

async function sweepTarget(deps: ExpiryTargetsDeps, target: Target): Promise<TargetSeen> {
  const base = { id: target.id, service: target.service, kind: target.kind };
  const secret = await deps.cluster(target.cluster).readSecret(target.namespace, target.secretName);
  if (!secret) return { ...base, health: 'SecretMissing', detail: `Secret ${target.namespace}/${target.secretName} does not exist` };
  const file = SecretFiles[target.kind].cert;
  let stored: CertificateSeen | undefined;
  try {
    stored = firstCertificate(secret.data[file]?.toString('utf8') ?? '', `Secret ${target.namespace}/${target.secretName} ${file}`);
  } catch (error) {
    return { ...base, health: 'SecretMalformed', detail: (error as Error).message };
  }
  if (!stored) return { ...base, health: 'SecretMalformed', detail: `Secret ${target.namespace}/${target.secretName} has no certificate in ${file}` };
  if (!target.endpoint) return { ...base, health: 'NotServed', detail: 'no endpoint declared: only the stored certificate is known', stored };

  const where = `${target.endpoint.host}:${target.endpoint.port} (${target.endpoint.serverName})`;
  let servedPem: string;
  try {
    servedPem = (await deps.probe.probe(target.endpoint)).servedChainPem;
  } catch (error) {
    if (!(error instanceof CertflowError)) throw error;
    return { ...base, health: 'EndpointUnreachable', detail: error.message, stored };
  }
  const served = firstCertificate(servedPem, `the chain ${where} served`);
  if (!served) return { ...base, health: 'EndpointUnreachable', detail: `no certificate was served by ${where}`, stored };
  if (served.serial !== stored.serial) {
    return { ...base, health: 'StaleServedCertificate', detail: `${where} serves ${served.serial}, the Secret holds ${stored.serial}: the workload has not reloaded`, stored, served };
  }
  return { ...base, health: 'Healthy', detail: `${where} serves the stored certificate`, stored, served };
}

/** Serial and validity of the first certificate of a PEM text (the leaf), or undefined when there is none. */
export function firstCertificate(pem: string, what: string): CertificateSeen | undefined {
  const first = certificatesFromPem(pem, what)[0];
  if (!first) return undefined;
  return { serial: first.serial, notBefore: first.notBefore.toISOString(), notAfter: first.notAfter.toISOString() };
}
