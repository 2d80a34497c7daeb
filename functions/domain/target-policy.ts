import { K8sNames, TargetSchema, type Target } from '../contracts/targets';
import { RefusalReasons, type MeshLocation, type RefusedCandidate, type ServicePolicy, type TargetPolicy } from '../contracts/target-policy';

/**
 * Admission against the declared target policy (DESIGN.md Authority, invariant I8). The policy
 * alone makes a target: a labelled object found in a cluster is only a candidate, and what its
 * annotations say is never read into a target. Every refusal is a named reason with the object,
 * so the plan, the ledger and `Rotation Succeeded` can say what was left alone and why.
 */

export type KeyAlgorithm = Target['keyAlgorithm'];

/** What discovery found: a labelled Secret or cert-manager Certificate, as the cluster shows it. */
export interface DiscoveredObject {
  cluster: string;
  namespace: string;
  name: string;
  resource: 'Secret' | 'Certificate';
  annotations: Record<string, string>;
  /** A Certificate's spec.secretName and spec.dnsNames. */
  secretName?: string;
  dnsNames?: string[];
}

/** The two names every service gets, from its own name and namespace. */
export function derivedDnsNames(service: string, namespace: string): string[] {
  return [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

function serviceTarget(cluster: string, namespace: string, service: ServicePolicy, defaultKeyAlgorithm: KeyAlgorithm): Target {
  const dnsNames = [...new Set([...derivedDnsNames(service.name, namespace), ...service.extraDnsNames])];
  const objectName = service.kind === 'cert-manager' ? (service.certificateName ?? service.name) : (service.secretName ?? `${service.name}-tls`);
  return TargetSchema.parse({
    id: `${cluster}/${namespace}/${objectName}`,
    cluster,
    namespace,
    service: service.name,
    kind: service.kind,
    secretName: service.secretName ?? `${service.name}-tls`,
    ...(service.kind === 'cert-manager' ? { certificateName: objectName } : {}),
    workloads: service.workloads ?? [service.name],
    endpoint: {
      host: service.endpoint?.host ?? dnsNames[0],
      port: service.endpoint?.port ?? 443,
      serverName: service.endpoint?.serverName ?? dnsNames[0],
    },
    dnsNames,
    canary: service.canary,
    keyAlgorithm: service.keyAlgorithm ?? defaultKeyAlgorithm,
  });
}

/** The mesh CA locations: as declared, or istio-system/cacerts (istiod restarted) in every declared cluster. */
export function meshLocations(policy: TargetPolicy): MeshLocation[] {
  return policy.mesh.locations ?? policy.clusters.map((cluster) => ({ cluster: cluster.cluster, namespace: 'istio-system', secretName: 'cacerts', workloads: ['istiod'] }));
}

function meshTarget(location: MeshLocation, defaultKeyAlgorithm: KeyAlgorithm): Target {
  return TargetSchema.parse({
    id: `${location.cluster}/${location.namespace}/${location.secretName}`,
    cluster: location.cluster,
    namespace: location.namespace,
    service: `mesh-ca-${location.cluster}`.slice(0, 63),
    kind: 'istio-cacerts',
    secretName: location.secretName,
    workloads: location.workloads,
    // A CA names no host; the verifier checks it as a CA and dials nothing.
    dnsNames: [`istiod.${location.namespace}.svc`],
    canary: false,
    keyAlgorithm: defaultKeyAlgorithm,
  });
}

/** The policy's targets, built once per policy and key algorithm: every check looks them up, and a fleet has thousands. */
interface PolicyIndex {
  targets: Target[];
  byId: Map<string, Target>;
  /** `<cluster>/<namespace>` -> the namespace's services with their targets. */
  byNamespace: Map<string, Array<{ service: ServicePolicy; target: Target }>>;
  /** `<cluster>/<namespace>/<name>` of a Secret or (prefixed `cm:`) a Certificate -> its service. */
  byObject: Map<string, { service: ServicePolicy; target: Target }>;
  /** `<cluster>/<namespace>/<dns name or service name>` -> the service that owns it. */
  byClaim: Map<string, Target>;
}
const indexes = new WeakMap<TargetPolicy, Map<KeyAlgorithm, PolicyIndex>>();

function frozen(target: Target): Target {
  Object.freeze(target.dnsNames);
  Object.freeze(target.workloads);
  if (target.endpoint) Object.freeze(target.endpoint);
  return Object.freeze(target);
}

function indexOf(policy: TargetPolicy, defaultKeyAlgorithm: KeyAlgorithm): PolicyIndex {
  let perAlgorithm = indexes.get(policy);
  if (!perAlgorithm) indexes.set(policy, (perAlgorithm = new Map()));
  const cached = perAlgorithm.get(defaultKeyAlgorithm);
  if (cached) return cached;
  const index: PolicyIndex = { targets: [], byId: new Map(), byNamespace: new Map(), byObject: new Map(), byClaim: new Map() };
  for (const cluster of policy.clusters) {
    for (const namespace of cluster.namespaces) {
      const where = `${cluster.cluster}/${namespace.name}`;
      // Frozen: the index is shared by every caller of this cold start, so no caller may change a target in it.
      const entries = namespace.services.map((service) => ({ service, target: frozen(serviceTarget(cluster.cluster, namespace.name, service, defaultKeyAlgorithm)) }));
      index.byNamespace.set(where, entries);
      for (const entry of entries) {
        index.targets.push(entry.target);
        index.byId.set(entry.target.id, entry.target);
        index.byObject.set(`${where}/${entry.target.secretName}`, entry);
        if (entry.target.certificateName) index.byObject.set(`cm:${where}/${entry.target.certificateName}`, entry);
        for (const claim of [entry.target.service, ...entry.target.dnsNames]) index.byClaim.set(`${where}/${claim}`, entry.target);
      }
    }
  }
  index.targets.sort((a, b) => a.id.localeCompare(b.id));
  perAlgorithm.set(defaultKeyAlgorithm, index);
  return index;
}

/** Every declared service target, sorted by id. Mesh CAs are targets only where discovery finds them. */
export function declaredTargets(policy: TargetPolicy, defaultKeyAlgorithm: KeyAlgorithm): Target[] {
  return [...indexOf(policy, defaultKeyAlgorithm).targets];
}

/** The namespaces certflow may read and write in one cluster: the declared ones and the mesh locations'. */
export function declaredNamespaces(policy: TargetPolicy, cluster: string): string[] {
  const declared = policy.clusters.find((entry) => entry.cluster === cluster)?.namespaces.map((namespace) => namespace.name) ?? [];
  const mesh = meshLocations(policy).filter((location) => location.cluster === cluster).map((location) => location.namespace);
  return [...new Set([...declared, ...mesh])].sort();
}

/** Names a cert-manager Certificate may carry: the target's own, and those matching its service's patterns. */
function nameAdmitted(name: string, target: Target, patterns: readonly string[]): boolean {
  if (target.dnsNames.includes(name)) return true;
  return patterns.some((pattern) => {
    const domain = pattern.slice(1); // ".<domain>"
    return name.endsWith(domain) && !name.slice(0, -domain.length).includes('.') && name.length > domain.length;
  });
}

function servicePolicyOf(policy: TargetPolicy, target: Target): ServicePolicy | undefined {
  return policy.clusters
    .find((cluster) => cluster.cluster === target.cluster)
    ?.namespaces.find((namespace) => namespace.name === target.namespace)
    ?.services.find((service) => service.name === target.service);
}

/**
 * Whether a cert-manager Certificate's spec stays within the policy: the declared Secret, and
 * only admitted names (cert-manager issues what the spec says, so a renewal certflow triggers
 * must not issue a name the policy does not admit). Undefined when it does.
 */
export function certificateRefusal(policy: TargetPolicy, target: Target, spec: { secretName: string; dnsNames: readonly string[] }): RefusedCandidate | undefined {
  const object = `Certificate ${target.cluster}/${target.namespace}/${target.certificateName ?? target.secretName}`;
  if (spec.secretName !== target.secretName) {
    return { object, reason: RefusalReasons.TargetAltered, detail: `spec.secretName is ${spec.secretName}, the policy declares ${target.secretName}` };
  }
  const patterns = servicePolicyOf(policy, target)?.dnsNamePatterns ?? [];
  const outside = spec.dnsNames.filter((name) => !nameAdmitted(name, target, patterns));
  if (outside.length) return { object, reason: RefusalReasons.NamesNotAllowed, detail: `spec.dnsNames has ${outside.join(', ')}, outside what the policy admits for ${target.service}` };
  return undefined;
}

export type Admission = { admitted: Target } | { refused: RefusedCandidate };

/**
 * Judges one discovered candidate. Admitted: a mesh location's Secret (as the location says), or
 * a declared service's own Secret or Certificate (as the policy says: annotations are not read).
 * Refused, with the most specific reason: outside the declared clusters and namespaces, an
 * istio-cacerts claim away from the mesh locations, a claim on a declared service's names or
 * name, anything else undeclared, or a declared Certificate whose spec leaves the policy.
 */
export function admitCandidate(policy: TargetPolicy, object: DiscoveredObject, defaultKeyAlgorithm: KeyAlgorithm): Admission {
  const described = `${object.resource} ${object.cluster}/${object.namespace}/${object.name}`;
  const refuse = (reason: string, detail: string): Admission => ({ refused: { object: described, reason, detail } });
  if (!policy.clusters.some((entry) => entry.cluster === object.cluster)) return refuse(RefusalReasons.ClusterNotDeclared, `cluster ${object.cluster} is not in the target policy`);
  const claimedKind = object.resource === 'Certificate' ? 'cert-manager' : object.annotations[K8sNames.KindAnnotation];

  const location = meshLocations(policy).find((entry) => entry.cluster === object.cluster && entry.namespace === object.namespace && entry.secretName === object.name);
  if (location && object.resource === 'Secret') {
    if (claimedKind !== undefined && claimedKind !== 'istio-cacerts') return refuse(RefusalReasons.KindNotAllowed, `a mesh CA location claimed as ${claimedKind}`);
    return { admitted: meshTarget(location, defaultKeyAlgorithm) };
  }
  if (claimedKind === 'istio-cacerts') {
    return refuse(RefusalReasons.MeshLocationNotDeclared, `istio-cacerts is allowed only at ${meshLocations(policy).map((entry) => `${entry.cluster}/${entry.namespace}/${entry.secretName}`).join(', ') || 'no location'}`);
  }
  const where = `${object.cluster}/${object.namespace}`;
  if (!indexOf(policy, defaultKeyAlgorithm).byNamespace.has(where)) return refuse(RefusalReasons.NamespaceNotDeclared, `namespace ${object.namespace} is not declared for cluster ${object.cluster}`);

  const index = indexOf(policy, defaultKeyAlgorithm);
  const own = index.byObject.get(`${object.resource === 'Certificate' ? 'cm:' : ''}${where}/${object.name}`);
  if (own) {
    if (object.resource === 'Certificate') {
      const refusal = certificateRefusal(policy, own.target, { secretName: object.secretName ?? '', dnsNames: object.dnsNames ?? [] });
      if (refusal) return { refused: refusal };
    }
    if (claimedKind !== undefined && claimedKind !== own.service.kind && !(object.resource === 'Secret' && own.service.kind === 'cert-manager')) {
      return refuse(RefusalReasons.KindNotAllowed, `claims kind ${claimedKind}; the policy declares ${own.service.name} as ${own.service.kind}`);
    }
    return { admitted: own.target };
  }
  if (claimedKind !== undefined && claimedKind !== 'tls-secret' && claimedKind !== 'cert-manager') return refuse(RefusalReasons.KindNotAllowed, `claims unknown kind ${claimedKind}`);
  const claimedNames = object.dnsNames?.length ? object.dnsNames : (object.annotations[K8sNames.DnsNamesAnnotation] ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  const claimedService = object.annotations[K8sNames.ServiceAnnotation];
  const victim = [...(claimedService ? [claimedService] : []), ...claimedNames].map((claim) => index.byClaim.get(`${where}/${claim}`)).find((target) => target !== undefined);
  if (victim) return refuse(RefusalReasons.ServiceClaimRefused, `claims the service or names of ${victim.service}, whose Secret is ${victim.secretName}`);
  return refuse(RefusalReasons.NotDeclared, `no declared service in ${object.namespace} has this ${object.resource}`);
}

/**
 * The policy's own version of a target that a batch step loaded from the ledger, or a refusal:
 * RenewBatch, CheckBatch, VerifyBatch and RestoreBatch act only on what this returns, so a forged
 * or altered ledger item (another kind, another Secret, another endpoint, more names) is refused.
 */
export function recheckTarget(policy: TargetPolicy, target: Target, defaultKeyAlgorithm: KeyAlgorithm): { target: Target } | { refused: RefusedCandidate } {
  const object = `target ${target.id}`;
  const canonical =
    target.kind === 'istio-cacerts'
      ? meshLocations(policy)
          .filter((location) => `${location.cluster}/${location.namespace}/${location.secretName}` === target.id)
          .map((location) => meshTarget(location, defaultKeyAlgorithm))[0]
      : indexOf(policy, defaultKeyAlgorithm).byId.get(target.id);
  if (!canonical) {
    const reason = target.kind === 'istio-cacerts' ? RefusalReasons.MeshLocationNotDeclared : RefusalReasons.NotDeclared;
    return { refused: { object, reason, detail: `${target.kind} target ${target.id} is not in the target policy` } };
  }
  const parsed = TargetSchema.safeParse(target);
  if (!parsed.success) return { refused: { object, reason: RefusalReasons.Malformed, detail: 'the ledger item is not a target' } };
  // Schema order makes the serialisations comparable field by field.
  if (JSON.stringify(parsed.data) !== JSON.stringify(canonical)) {
    const changed = (Object.keys(canonical) as Array<keyof Target>).filter((key) => JSON.stringify(parsed.data[key]) !== JSON.stringify(canonical[key]));
    return { refused: { object, reason: RefusalReasons.TargetAltered, detail: `differs from the policy in ${changed.join(', ')}` } };
  }
  return { target: canonical };
}

/**
 * The declared Secret a backup Secret backs up, when it is one of certflow's: in a declared
 * namespace, its `certflow.io/backup-of` names a declared target's (or mesh location's) Secret,
 * and its own name is that Secret's backup name (`<secret>-cfbk-<hash>`, backup-naming.ts).
 */
export function declaredBackupOf(policy: TargetPolicy, cluster: string, backup: { namespace: string; name: string; annotations: Record<string, string> }): { secretName: string; kind: Target['kind'] } | undefined {
  const secretName = backup.annotations[K8sNames.BackupOfAnnotation];
  if (!secretName || !new RegExp(`^${secretName.slice(0, 200).replace(/[.]/g, '\\.')}-cfbk-[0-9a-f]{8}$`).test(backup.name)) return undefined;
  const service = indexOf(policy, 'ecdsa-p256').byObject.get(`${cluster}/${backup.namespace}/${secretName}`);
  if (service) return { secretName, kind: service.target.kind };
  const mesh = meshLocations(policy).find((location) => location.cluster === cluster && location.namespace === backup.namespace && location.secretName === secretName);
  return mesh ? { secretName, kind: 'istio-cacerts' } : undefined;
}

/** The services the policy declares (compromise scopes must name one of them). */
export function declaredServiceNames(policy: TargetPolicy): Set<string> {
  return new Set(policy.clusters.flatMap((cluster) => cluster.namespaces.flatMap((namespace) => namespace.services.map((service) => service.name))));
}

/** The mesh CA's DNS name constraints: as declared, or each declared namespace's service domains. */
export function meshPermittedDnsDomains(policy: TargetPolicy): string[] {
  if (policy.mesh.permittedDnsDomains) return [...policy.mesh.permittedDnsDomains];
  const namespaces = [...new Set(policy.clusters.flatMap((cluster) => cluster.namespaces.map((namespace) => namespace.name)))].sort();
  return namespaces.flatMap((namespace) => [`${namespace}.svc`, `${namespace}.svc.cluster.local`]);
}

/** The deployment's default key algorithm (pki.keyAlgorithm), from the PKI settings the functions carry. */
export function defaultKeyAlgorithmOf(settings: { keyType: 'ec' | 'rsa' }): KeyAlgorithm {
  return settings.keyType === 'rsa' ? 'rsa-2048' : 'ecdsa-p256';
}
