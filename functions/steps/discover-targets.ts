import type { Target } from '../contracts/targets';
import { K8sNames } from '../contracts/targets';
import type { RefusedCandidate, TargetPolicy } from '../contracts/target-policy';
import { admitCandidate, declaredTargets, meshLocations, type DiscoveredObject, type KeyAlgorithm } from '../domain/target-policy';
import type { Cluster, SecretSnapshot } from '../ports/cluster';
import type { Log } from '../ports/log';

/**
 * Discovery (DESIGN.md step 3, gather): the policy's declared services are the targets; labelled
 * Secrets and Certificates (`certflow.io/managed=true`) are candidates that the policy admits or
 * refuses. Only declared namespaces are read (no cluster-wide list), and a mesh location is read
 * by its one Secret name. A refused candidate is reported with its reason and never becomes a
 * target, so nothing is written to it; a declared Certificate whose spec leaves the policy takes
 * its target out of the run.
 */
export async function discoverTargets(
  clusters: readonly Cluster[],
  policy: TargetPolicy,
  defaultKeyAlgorithm: KeyAlgorithm,
  log: Log,
): Promise<{ targets: Target[]; rejected: RefusedCandidate[]; secrets: ReadonlyMap<string, SecretSnapshot> }> {
  // Every Secret read here, with its data, by `cluster/namespace/name`: the plan decides on these
  // instead of reading each target's Secret again.
  const secrets = new Map<string, SecretSnapshot>();
  const selector = `${K8sNames.ManagedLabel}=true`;
  const found = new Map(declaredTargets(policy, defaultKeyAlgorithm).map((target) => [target.id, target]));
  const rejected: RefusedCandidate[] = [];
  const judge = (object: DiscoveredObject) => {
    const admission = admitCandidate(policy, object, defaultKeyAlgorithm);
    if ('admitted' in admission) {
      found.set(admission.admitted.id, admission.admitted);
      return;
    }
    rejected.push(admission.refused);
    // A declared Certificate whose spec leaves the policy is not renewed: cert-manager would issue its spec.
    if (object.resource === 'Certificate') found.delete(`${object.cluster}/${object.namespace}/${object.name}`);
    log.warn('candidate refused by the target policy', { ...admission.refused });
  };
  for (const cluster of clusters) {
    if (!policy.clusters.some((entry) => entry.cluster === cluster.name)) continue;
    const serviceNamespaces = policy.clusters.find((entry) => entry.cluster === cluster.name)!.namespaces.map((namespace) => namespace.name);
    for (const namespace of serviceNamespaces) {
      for (const secret of await cluster.listSecrets(namespace, selector)) {
        secrets.set(`${cluster.name}/${secret.namespace}/${secret.name}`, secret);
        if (secret.labels[K8sNames.BackupRunLabel]) continue;
        judge({ cluster: cluster.name, namespace: secret.namespace, name: secret.name, resource: 'Secret', annotations: secret.annotations });
      }
      for (const certificate of await cluster.listCertificates(namespace, selector)) {
        judge({ cluster: cluster.name, namespace: certificate.namespace, name: certificate.name, resource: 'Certificate', annotations: certificate.annotations, secretName: certificate.secretName, dnsNames: certificate.dnsNames });
      }
    }
    for (const location of meshLocations(policy).filter((entry) => entry.cluster === cluster.name)) {
      if (serviceNamespaces.includes(location.namespace)) continue; // listed above
      // Outside the service namespaces only the location's own Secret is read, and it counts once labelled.
      const secret = await cluster.readSecret(location.namespace, location.secretName);
      if (secret) secrets.set(`${cluster.name}/${secret.namespace}/${secret.name}`, secret);
      if (secret?.labels[K8sNames.ManagedLabel] === 'true') judge({ cluster: cluster.name, namespace: location.namespace, name: location.secretName, resource: 'Secret', annotations: secret.annotations });
    }
  }
  return { targets: [...found.values()].sort((a, b) => a.id.localeCompare(b.id)), rejected, secrets };
}
