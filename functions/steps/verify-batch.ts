import type { TargetVerdict, VerifyBatchInput, VerifyBatchOutput } from '../contracts/fanout-payloads';
import { K8sNames, type Target } from '../contracts/targets';
import { CertflowError } from '../contracts/errors';
import { checkTrust, TrustReasons } from '../domain/trust-checker';
import { countVerdicts, VerifyReasons } from '../domain/verdict-metric';
import { Metrics } from '../contracts/functions';
import { rootsOf } from '../domain/trust-bundle';
import { leafSerial, materialFromSecret } from '../domain/secret-layout';
import type { FanoutDeps } from './fanout-deps';
import { issuerCrls } from './issuer-crls';
import { mapBounded } from './bounded-map';

/** The client identity certflow presents in handshakes, issued once per cold start. */
export interface VerifierIdentity {
  certificatePem: string;
  keyPem: string;
}

/**
 * VerifyBatch (DESIGN.md step 9): for each target, the Secret parses; its chain is valid to the
 * namespace's trust bundle for both TLS usages (every service here serves and dials with it);
 * every declared name, validity and key match; the issuer is the active default; nothing on the
 * path is revoked, on each issuer's current CRL read from Vault; and a real mTLS handshake with
 * its endpoint serves that same certificate, with its intermediate (judged against the bundle's
 * root alone), and lets application data flow. One verdict per target, with the checker's reason.
 */
export async function verifyBatch(
  deps: FanoutDeps,
  input: VerifyBatchInput,
  identity: () => Promise<VerifierIdentity>,
  options: { allowServerOnly?: boolean } = {},
): Promise<VerifyBatchOutput> {
  const active = await deps.pki.readIssuer(deps.settings.intermediateMount, 'default');
  const crls = await issuerCrls(deps.pki, [deps.settings.rootMount, deps.settings.intermediateMount]);
  const client = clientIdentity(identity, options.allowServerOnly ?? false);
  // One read of each namespace's trust bundle per batch, not one per target.
  const bundles = new Map<string, Promise<string | undefined>>();
  const bundleOf = (target: Target) => {
    const key = `${target.cluster}/${target.namespace}`;
    let bundle = bundles.get(key);
    if (!bundle) {
      bundle = deps
        .cluster(target.cluster)
        .readConfigMap(target.namespace, deps.trustBundleConfigMap)
        .then((configMap) => configMap?.data[K8sNames.TrustBundleKey]);
      bundles.set(key, bundle);
    }
    return bundle;
  };
  const verdicts: TargetVerdict[] = await mapBounded(input.targets, deps.targetConcurrency ?? 1, (target) => verifyTarget(deps, target, { expectedIssuerPem: active.certificatePem, crls, bundleOf }, client));
  const allValid = verdicts.every((verdict) => verdict.valid);
  publishVerdicts(deps, verdicts);
  deps.log.info('batch verified', { allValid, verdicts: verdicts.map((verdict) => [verdict.id, verdict.reason]) });
  return { runId: input.runId, allValid, verdicts };
}

/**
 * One count per verdict present, and the refused ones in one number (0 when none, so a graph of it
 * reads 0 rather than nothing). The Verdict dimension takes the bounded set's values only: a
 * reason is a payload's string, and one it does not know is counted as Other.
 */
function publishVerdicts(deps: FanoutDeps, verdicts: readonly TargetVerdict[]): void {
  const cluster = { [Metrics.ClusterDimension]: deps.clusterId };
  for (const { verdict, count } of countVerdicts(verdicts.map((entry) => entry.reason))) {
    deps.metrics.gauge(Metrics.VerificationVerdicts, count, { ...cluster, [Metrics.VerdictDimension]: verdict });
  }
  deps.metrics.gauge(Metrics.VerificationsRefused, verdicts.filter((verdict) => !verdict.valid).length, cluster);
  deps.metrics.flush();
}

/**
 * The verifier identity, or, where a server-only check is allowed, why there is none. A rollback's
 * verification must not depend on what failed: when Vault cannot issue certflow's client
 * certificate, the rollback still verifies each restored Secret and the chain its endpoint serves,
 * and says that application data was not exchanged.
 */
type ClientIdentity = () => Promise<{ identity: VerifierIdentity } | { missing: string }>;

function clientIdentity(identity: () => Promise<VerifierIdentity>, allowServerOnly: boolean): ClientIdentity {
  return async () => {
    try {
      return { identity: await identity() };
    } catch (error) {
      if (!allowServerOnly || !(error instanceof CertflowError)) throw error;
      return { missing: `${error.name}: ${error.message}` };
    }
  };
}

async function verifyTarget(
  deps: FanoutDeps,
  target: Target,
  pki: { expectedIssuerPem: string; crls: string[]; bundleOf: (target: Target) => Promise<string | undefined> },
  identity: ClientIdentity,
): Promise<TargetVerdict> {
  const { expectedIssuerPem, crls } = pki;
  const base = { id: target.id, service: target.service };
  const cluster = deps.cluster(target.cluster);
  const now = deps.clock.now();
  const secret = await cluster.readSecret(target.namespace, target.secretName);
  if (!secret) return { ...base, valid: false, reason: VerifyReasons.SecretMissing, detail: `Secret ${target.namespace}/${target.secretName} does not exist`, handshake: false };
  const bundle = await pki.bundleOf(target);
  if (!bundle) {
    return { ...base, valid: false, reason: TrustReasons.UnknownIssuer, detail: `no trust bundle ${target.namespace}/${deps.trustBundleConfigMap}`, handshake: false };
  }
  let material;
  try {
    material = materialFromSecret(target.kind, secret.data, `Secret ${target.namespace}/${target.secretName}`);
  } catch (error) {
    return { ...base, valid: false, reason: VerifyReasons.SecretMalformed, detail: (error as Error).message, handshake: false };
  }
  const secretSerial = leafSerial(material.chainPem);
  const mesh = target.kind === 'istio-cacerts';
  const stored = await checkTrust({
    servedChain: material.chainPem,
    // A mesh CA is signed by the root, not by the active intermediate, and names no host: pin it
    // to the root, so an intermediate in the bundle cannot stand in for it.
    trustBundle: mesh ? rootsOf(bundle) : bundle,
    now,
    privateKeyPem: material.keyPem,
    crls,
    ...(mesh ? { purpose: 'ca' as const } : { hostNames: target.dnsNames, purpose: 'mtls' as const, expectedIssuerPem }),
  });
  if (!stored.valid) return { ...base, valid: false, reason: stored.reason, detail: `stored certificate: ${stored.detail}`, ...(secretSerial ? { secretSerial } : {}), handshake: false };
  if (!target.endpoint) return { ...base, valid: true, reason: stored.reason, detail: `${stored.detail} (no endpoint to handshake with)`, ...(secretSerial ? { secretSerial } : {}), handshake: false };

  const client = await identity();
  let probe;
  try {
    probe = await deps.probe.probe({
      ...target.endpoint,
      ...('identity' in client ? { clientCertificatePem: client.identity.certificatePem, clientKeyPem: client.identity.keyPem } : {}),
    });
  } catch (error) {
    const reason = error instanceof CertflowError ? error.name.replace(/Error$/, '') : VerifyReasons.EndpointUnreachable;
    return { ...base, valid: false, reason, detail: (error as Error).message, ...(secretSerial ? { secretSerial } : {}), handshake: false };
  }
  if (!probe.servedChainPem.trim()) {
    return { ...base, valid: false, reason: VerifyReasons.EndpointUnreachable, detail: `no certificate was served by ${target.endpoint.host}:${target.endpoint.port}`, ...(secretSerial ? { secretSerial } : {}), handshake: false };
  }
  const servedSerial = leafSerial(probe.servedChainPem);
  const served = await checkTrust({
    servedChain: probe.servedChainPem,
    trustBundle: rootsOf(bundle),
    hostNames: [target.endpoint.serverName, ...target.dnsNames],
    now,
    crls,
    purpose: 'mtls',
    expectedIssuerPem,
  });
  const common = { ...base, ...(servedSerial ? { servedSerial } : {}), ...(secretSerial ? { secretSerial } : {}), handshake: true };
  if (!served.valid) return { ...common, valid: false, reason: served.reason, detail: `served certificate: ${served.detail}` };
  if (servedSerial !== secretSerial) {
    // The workload still serves what it loaded before: its rollout has not happened.
    return { ...common, valid: false, reason: VerifyReasons.StaleServedCertificate, detail: `the endpoint serves ${servedSerial}, the Secret holds ${secretSerial}: the workload has not reloaded` };
  }
  if ('missing' in client) {
    return {
      ...common,
      valid: true,
      reason: TrustReasons.Valid,
      clientAuth: false,
      detail: `served ${servedSerial} over ${probe.protocol}, matching the Secret; application data not exchanged: no client identity (${client.missing})`,
    };
  }
  if (!probe.applicationData) {
    return { ...common, valid: false, reason: VerifyReasons.NoApplicationData, detail: `the handshake with ${target.endpoint.host}:${target.endpoint.port} completed but the server sent no data: it refused certflow's client certificate` };
  }
  return { ...common, valid: true, reason: TrustReasons.Valid, detail: `served ${servedSerial} over ${probe.protocol}, application data received` };
}
