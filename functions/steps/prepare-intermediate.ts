import type { PkiSettings } from '../contracts/env';
import type { PreparedIntermediate } from '../contracts/pki-payloads';
import { IssuerLimitReachedError, IssuerNotFoundError } from '../contracts/errors';
import { DEFAULT_MAX_ISSUERS_PER_MOUNT } from '../domain/issuer-retention';
import { issuerNameForRun, keyNameForRun, vaultTtl } from '../domain/issuer-naming';
import { checkIntermediate } from '../domain/intermediate-check';
import type { VaultPki } from '../ports/vault-pki';
import type { Clock } from '../ports/clock';
import type { Log } from '../ports/log';

export interface PkiStepDeps {
  pki: VaultPki;
  settings: PkiSettings;
  clock: Clock;
  log: Log;
}

/**
 * PrepareIntermediate (DESIGN.md Rotation step 4; VAULT_API.md 5.1 steps 1-5): a new key and CSR
 * on the intermediate mount, signed on the root mount, imported with its chain, named after the
 * run, `leaf_not_after_behavior: err`, verified; NOT made default. Idempotent per run id: a retry
 * finds the run's issuer (or its key) and reuses it instead of making a second.
 */
export async function prepareIntermediate(deps: PkiStepDeps, runId: string, purpose: 'rotation' | 'compromise' = 'rotation'): Promise<PreparedIntermediate> {
  const { pki, settings, log } = deps;
  const mount = settings.intermediateMount;
  const issuerName = issuerNameForRun(runId);
  const now = deps.clock.now();
  // The new intermediate must carry a full rotation period plus one leaf and its renewal window (I6).
  const minimumLifeSeconds = settings.rotationPeriodSeconds + settings.leafTtlSeconds + settings.renewBeforeSeconds;

  const issuers = await pki.listIssuers(mount);
  const existing = issuers.find((issuer) => issuer.issuerName === issuerName);
  if (existing) {
    const issuer = await pki.readIssuer(mount, existing.issuerId);
    const root = issuer.caChainPem[issuer.caChainPem.length - 1] ?? '';
    const facts = checkIntermediate({ intermediatePem: issuer.certificatePem, rootPem: root, caChainPem: issuer.caChainPem, now, minimumLifeSeconds });
    log.info('intermediate already prepared by an earlier attempt of this run', { issuerId: existing.issuerId, issuerName });
    return { runId, issuerId: existing.issuerId, issuerName, keyId: issuer.keyId, serialNumber: facts.serial, notAfter: facts.notAfter.toISOString(), reused: true };
  }

  // The issuer bound (hashicorp/vault#22980: a mount slows with every issuer it keeps). Checked
  // after the retry lookup, so a retried step still finds its own issuer at the bound.
  const bound = settings.maxIssuersPerMount ?? DEFAULT_MAX_ISSUERS_PER_MOUNT;
  if (issuers.length >= bound) {
    const message = `${mount} holds ${issuers.length} issuers and pki.maxIssuersPerMount is ${bound}: no new intermediate is created. Retired issuers are deleted once their last leaf expired and their CRL grace is over (pki.retiredIssuerGrace); raise the bound or wait for that`;
    if (purpose === 'rotation') throw new IssuerLimitReachedError(message, { details: { mount, issuers: issuers.length, bound } });
    log.warn('issuer bound passed for a compromise response: containment comes first', { mount, issuers: issuers.length, bound });
  }

  const rootIssuerId = await pki.defaultIssuer(settings.rootMount);
  if (!rootIssuerId) throw new IssuerNotFoundError(`the root mount ${settings.rootMount} has no default issuer to sign with`);
  const root = await pki.readIssuer(settings.rootMount, rootIssuerId);

  const keyName = keyNameForRun(runId);
  const keyRef = await pki.keyIdByName(mount, keyName);
  const commonName = `${settings.organization} Intermediate CA ${now.toISOString().slice(0, 10)} ${runId.slice(0, 12)}`;
  const csr = await pki.generateIntermediateCsr(mount, {
    commonName,
    keyType: settings.keyType,
    keyBits: settings.keyBits,
    keyName,
    organization: settings.organization,
    ...(keyRef ? { keyRef } : {}),
  });
  const signed = await pki.signIntermediate(settings.rootMount, {
    csrPem: csr.csrPem,
    commonName,
    ttl: vaultTtl(settings.intermediateTtlSeconds),
    issuerRef: rootIssuerId,
    maxPathLength: 0,
    organization: settings.organization,
  });
  if (signed.warnings.length > 0) log.warn('root mount warned while signing the intermediate', { warnings: signed.warnings });

  // Import the intermediate WITH its parent chain, or leaves lack the root (P2).
  const bundle = [signed.certificatePem, ...signed.caChainPem.slice(1), root.certificatePem].join('\n');
  const imported = await pki.importIssuers(mount, bundle);
  const issuerId = Object.entries(imported.mapping).find(([, keyId]) => keyId === csr.keyId)?.[0];
  if (!issuerId) throw new IssuerNotFoundError(`importing the signed intermediate created no issuer for key ${csr.keyId}`);

  // PATCH (merge): name it after the run, and refuse leaves that would outlive it (P3, I6).
  const issuer = await pki.updateIssuer(mount, issuerId, { issuerName, leafNotAfterBehavior: 'err' });
  const facts = checkIntermediate({ intermediatePem: issuer.certificatePem, rootPem: root.certificatePem, caChainPem: issuer.caChainPem, now, minimumLifeSeconds });
  log.info('intermediate prepared', { issuerId, issuerName, serialNumber: facts.serial, notAfter: facts.notAfter.toISOString() });
  return { runId, issuerId, issuerName, keyId: csr.keyId, serialNumber: facts.serial, notAfter: facts.notAfter.toISOString(), reused: false };
}
