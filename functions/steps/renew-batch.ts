import type { RenewBatchInput, RenewBatchOutput, RenewedTarget } from '../contracts/fanout-payloads';
import { K8sNames, type Target } from '../contracts/targets';
import { InvalidInputError, TargetRefusedError } from '../contracts/errors';
import { Metrics } from '../contracts/functions';
import type { TargetPolicy } from '../contracts/target-policy';
import { certificateRefusal, meshPermittedDnsDomains } from '../domain/target-policy';
import { certificatesFromPem } from '../domain/x509-facts';
import { backupLabels, backupSecretName, labelValue } from '../domain/backup-naming';
import { replacedLeafSerial, secretDataFor, SecretFiles, splitChain } from '../domain/secret-layout';
import { vaultTtl } from '../domain/issuer-naming';
import type { CertificateStatus, SecretSnapshot } from '../ports/cluster';
import type { FanoutDeps } from './fanout-deps';
import { mapBounded } from './bounded-map';
import { issuancePacer, type IssuancePacer } from './issuance-pacer';

/** Annotation a renewed Secret carries: which run wrote it, so a retried step does not issue twice. */
export const RenewedByRunAnnotation = 'certflow.io/renewed-by-run';

/**
 * RenewBatch (DESIGN.md steps 7-8): for each target, back up its current Secret (once per run,
 * never overwritten, so a retry cannot back up the new certificate), then renew it by kind:
 * - tls-secret: issue from Vault, write tls.crt (leaf + intermediates), tls.key, ca.crt (root), restart its workloads;
 * - istio-cacerts: the mesh CA (a CA, which no role may issue): a key and CSR made here, signed on the
 *   root mount, written in Istio's plug-in layout, istiod restarted;
 * - cert-manager: ask for renewal the `cmctl renew` way (Issuing=True); CheckBatch waits for it.
 * Keys travel only Vault -> this function's memory -> the Secret. Outputs carry serials only.
 */
export async function renewBatch(deps: FanoutDeps, input: RenewBatchInput, policy: TargetPolicy): Promise<RenewBatchOutput> {
  const pacer = issuancePacer(deps.storm?.issuancesPerSecond, () => deps.clock.now().getTime());
  const counts = { succeeded: 0, failed: 0 };
  try {
    const renewed: RenewedTarget[] = await mapBounded(input.targets, deps.targetConcurrency ?? 1, async (target) => {
      try {
        const result = await renewTarget(deps, input, target, policy, pacer);
        // A target an earlier attempt of this run renewed was counted by that attempt.
        if (result.state !== 'AlreadyRenewed') counts.succeeded += 1;
        return result;
      } catch (error) {
        counts.failed += 1;
        throw error;
      }
    });
    return { runId: input.runId, renewed };
  } finally {
    // Published when the batch fails too: that is when the failed count matters. Every target
    // started has finished by now (mapBounded waits for those in flight before it throws).
    const cluster = { [Metrics.ClusterDimension]: deps.clusterId };
    deps.metrics.gauge(Metrics.RenewalsSucceeded, counts.succeeded, cluster);
    deps.metrics.gauge(Metrics.RenewalsFailed, counts.failed, cluster);
    deps.metrics.flush();
  }
}

/**
 * With a rollout budget, RenewBatch restarts nothing: CheckBatch starts the restarts in waves
 * within the budget (check-batch.ts), so the batch's first wave is no larger than the others.
 */
function restartsHere(deps: FanoutDeps): boolean {
  return deps.storm?.restartsPerCluster === undefined && deps.storm?.restartsPerNamespace === undefined;
}

async function renewTarget(deps: FanoutDeps, input: RenewBatchInput, target: Target, policy: TargetPolicy, pacer: IssuancePacer): Promise<RenewedTarget> {
  const cluster = deps.cluster(target.cluster);
  const admittedCertificate = target.kind === 'cert-manager' ? await refuseCertificateOutsidePolicy(deps, target, policy) : undefined;
  const current = await cluster.readSecret(target.namespace, target.secretName);
  const base = { id: target.id, service: target.service, kind: target.kind, restarted: [] as string[] };
  const oldSerial = current ? replacedLeafSerial(current.data[SecretFiles[target.kind].cert]?.toString('utf8')) : undefined;

  if (current?.annotations[RenewedByRunAnnotation] === labelValue(input.runId)) {
    // An earlier attempt of this run renewed it already; only make sure the restart was asked for.
    const restarted = restartsHere(deps) ? await restartWorkloads(deps, target, input.requestedAt) : [];
    return { ...base, state: 'AlreadyRenewed', ...(oldSerial ? { newSerial: oldSerial } : {}), backupSecret: backupSecretName(target.secretName, input.runId), restarted };
  }
  const backupSecret = current ? await backup(deps, target, current, input.runId) : undefined;

  if (target.kind === 'cert-manager') {
    // The Certificate read for the policy check, a moment ago: its revision is the one to wait past.
    const certificate = admittedCertificate;
    await pacer.take();
    await cluster.requestCertificateRenewal(target.namespace, target.certificateName ?? target.secretName, `certflow run ${input.runId}`);
    deps.log.info('renewal requested from cert-manager', { target: target.id, revision: certificate?.revision });
    return {
      ...base,
      state: 'RenewalRequested',
      ...(oldSerial ? { oldSerial } : {}),
      ...(certificate ? { previousRevision: certificate.revision } : {}),
      ...(backupSecret ? { backupSecret } : {}),
    };
  }

  const rsa = target.keyAlgorithm === 'rsa-2048';
  await pacer.take();
  const leaf = target.kind === 'istio-cacerts' ? await issueMeshCa(deps, target, rsa, policy) : await issueServiceLeaf(deps, target, rsa);
  const chain = splitChain(leaf.caChainPem);
  await cluster.writeSecret(
    {
      namespace: target.namespace,
      name: target.secretName,
      // Istio's cacerts is Opaque: a kubernetes.io/tls Secret must hold tls.crt and tls.key.
      type: current?.type ?? (target.kind === 'istio-cacerts' ? 'Opaque' : 'kubernetes.io/tls'),
      data: secretDataFor(target.kind, { certificatePem: leaf.certificatePem, privateKeyPem: leaf.privateKeyPem, ...chain }),
      labels: { ...(current?.labels ?? {}) },
      annotations: { ...(current?.annotations ?? {}), [RenewedByRunAnnotation]: labelValue(input.runId) },
    },
    // Written against the read above: no second read; a writer in between is a 409 and a re-read.
    current,
  );
  const restarted = restartsHere(deps) ? await restartWorkloads(deps, target, input.requestedAt) : [];
  deps.log.info('target renewed', { target: target.id, oldSerial, newSerial: leaf.serialNumber, restarted });
  return { ...base, state: 'Renewed', ...(oldSerial ? { oldSerial } : {}), newSerial: leaf.serialNumber, ...(backupSecret ? { backupSecret } : {}), restarted };
}

async function issueServiceLeaf(deps: FanoutDeps, target: Target, rsa: boolean) {
  const leaf = await deps.pki.issueLeaf(deps.settings.intermediateMount, deps.settings.role, {
    commonName: target.dnsNames[0]!,
    altNames: target.dnsNames.slice(1),
    ttl: vaultTtl(deps.settings.leafTtlSeconds),
    keyType: rsa ? 'rsa' : 'ec',
    keyBits: rsa ? 2048 : 256,
  });
  if (!leaf.privateKeyPem) throw new InvalidInputError(`Vault returned no private key for ${target.id}`);
  return { ...leaf, privateKeyPem: leaf.privateKeyPem };
}

/**
 * Istio's plug-in CA: a CA under the root with a key Vault never holds, and as little power as
 * the mesh needs. Its name constraints permit only the mesh's DNS domains and its SPIFFE trust
 * domain (a URI constraint on spiffe://<trust domain>/...), so a stolen mesh CA cannot sign for
 * keycloak.econ-graph.svc's peers outside the mesh or for www.bank.example; path length 0, so it
 * signs only leaves; and it ends no later than the active intermediate, so nothing the mesh signs
 * outlives the PKI's own issuing CA (I6).
 */
async function issueMeshCa(deps: FanoutDeps, target: Target, rsa: boolean, policy: TargetPolicy) {
  const commonName = `${deps.settings.organization} mesh CA ${target.cluster}`;
  const request = await deps.keys.csr({ commonName, organization: deps.settings.organization, keyType: rsa ? 'rsa' : 'ec', ca: true });
  const intermediate = certificatesFromPem((await deps.pki.readIssuer(deps.settings.intermediateMount, 'default')).certificatePem, 'the default intermediate')[0];
  const wanted = new Date(deps.clock.now().getTime() + deps.settings.leafTtlSeconds * 1000);
  const notAfter = intermediate && intermediate.notAfter < wanted ? intermediate.notAfter : wanted;
  const signed = await deps.pki.signIntermediate(deps.settings.rootMount, {
    csrPem: request.csrPem,
    commonName,
    ttl: vaultTtl(deps.settings.leafTtlSeconds),
    notAfter,
    maxPathLength: 0,
    organization: deps.settings.organization,
    permittedDnsDomains: meshPermittedDnsDomains(policy),
    permittedUriDomains: [policy.mesh.trustDomain],
  });
  return { certificatePem: signed.certificatePem, privateKeyPem: request.privateKeyPem, caChainPem: signed.caChainPem.slice(1), serialNumber: signed.serialNumber };
}

/**
 * cert-manager issues what its Certificate's spec says, so a renewal certflow asks for must not
 * carry a name (or write a Secret) the policy does not admit: someone who may edit the
 * Certificate would otherwise get certflow to trigger issuance for anything. Checked before backup.
 */
async function refuseCertificateOutsidePolicy(deps: FanoutDeps, target: Target, policy: TargetPolicy): Promise<CertificateStatus | undefined> {
  const certificate = await deps.cluster(target.cluster).readCertificate(target.namespace, target.certificateName ?? target.secretName);
  const refusal = certificate ? certificateRefusal(policy, target, certificate) : undefined;
  if (refusal) throw new TargetRefusedError(`${refusal.object}: ${refusal.reason} (${refusal.detail})`, { details: { target: target.id, reason: refusal.reason } });
  return certificate;
}

/**
 * A byte-for-byte copy next to the original, labelled with the run; an existing backup is kept
 * (a retry must not back up the new certificate). One create: AlreadyExists is that backup.
 */
async function backup(deps: FanoutDeps, target: Target, current: SecretSnapshot, runId: string): Promise<string> {
  const cluster = deps.cluster(target.cluster);
  const name = backupSecretName(target.secretName, runId);
  await cluster.createSecret({
    namespace: target.namespace,
    name,
    type: current.type,
    data: current.data,
    labels: backupLabels(runId),
    annotations: {
      [K8sNames.BackupOfAnnotation]: target.secretName,
      'certflow.io/backup-labels': JSON.stringify(current.labels),
      'certflow.io/backup-annotations': JSON.stringify(current.annotations),
    },
  });
  return name;
}

/** `kubectl rollout restart` with a run-fixed time: asking twice changes the template once. */
export async function restartWorkloads(deps: FanoutDeps, target: Target, at: string): Promise<string[]> {
  const cluster = deps.cluster(target.cluster);
  for (const workload of target.workloads) await cluster.restartDeployment(target.namespace, workload, new Date(at));
  return [...target.workloads];
}
