import type { GroupResource } from './api-status';
import type { ResourceName } from './kube-objects';

/**
 * What the emulator knows about each kind it serves: where it lives in the REST tree, how it is
 * named in discovery (kubectl resolves `cm`, `deploy`, `cert` from these), and the storage rules
 * that differ per kind (status subresource, generation, unconditional updates).
 */
export interface ResourceKind extends GroupResource {
  readonly resource: ResourceName;
  /** `''` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /**
   * `<resource>/status` exists: writes to the main resource keep the stored status, writes to the
   * subresource change nothing but status.
   */
  readonly statusSubresource: boolean;
  /**
   * Top-level fields whose change bumps `metadata.generation` (`spec` for Deployments; for custom
   * resources everything but metadata and status); undefined for kinds without a generation.
   */
  readonly generationFields?: 'spec' | 'all-but-metadata-and-status';
  /**
   * A custom resource (served by apiextensions-apiserver), which differs from built-in kinds in
   * three ways the API server shows: a PUT without `metadata.resourceVersion` is refused (422,
   * built-ins allow unconditional updates), strategic merge patch is refused (415), and list
   * items carry `apiVersion` and `kind` (typed lists of built-ins drop them).
   */
  readonly custom: boolean;
  /** The delete answer: the object (pods, as graceful deletion does) or a `Status`. */
  readonly deleteReturnsObject: boolean;
}

export function apiVersionOf(kind: Pick<ResourceKind, 'group' | 'version'>): string {
  return kind.group === '' ? kind.version : `${kind.group}/${kind.version}`;
}

const builtIn = { custom: false, deleteReturnsObject: false, categories: [] } as const;

export const RESOURCE_KINDS: readonly ResourceKind[] = [
  { ...builtIn, resource: 'namespaces', group: '', version: 'v1', kind: 'Namespace', singular: 'namespace', namespaced: false, shortNames: ['ns'], statusSubresource: true },
  { ...builtIn, resource: 'secrets', group: '', version: 'v1', kind: 'Secret', singular: 'secret', namespaced: true, shortNames: [], statusSubresource: false },
  { ...builtIn, resource: 'configmaps', group: '', version: 'v1', kind: 'ConfigMap', singular: 'configmap', namespaced: true, shortNames: ['cm'], statusSubresource: false },
  {
    ...builtIn,
    resource: 'pods',
    group: '',
    version: 'v1',
    kind: 'Pod',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    statusSubresource: true,
    deleteReturnsObject: true,
  },
  {
    ...builtIn,
    resource: 'deployments',
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    statusSubresource: true,
    generationFields: 'spec',
  },
  {
    resource: 'certificates',
    group: 'cert-manager.io',
    version: 'v1',
    kind: 'Certificate',
    singular: 'certificate',
    namespaced: true,
    shortNames: ['cert', 'certs'],
    categories: ['cert-manager'],
    statusSubresource: true,
    generationFields: 'all-but-metadata-and-status',
    custom: true,
    deleteReturnsObject: false,
  },
];

export interface GroupVersion {
  readonly group: string;
  readonly version: string;
}

/** The group/versions served, core first, in the order discovery lists them. */
export function servedGroupVersions(): GroupVersion[] {
  const seen = new Map<string, GroupVersion>();
  for (const kind of RESOURCE_KINDS) seen.set(apiVersionOf(kind), { group: kind.group, version: kind.version });
  return [...seen.values()];
}

export function kindsIn(groupVersion: GroupVersion): ResourceKind[] {
  return RESOURCE_KINDS.filter((kind) => kind.group === groupVersion.group && kind.version === groupVersion.version);
}

export function findKind(groupVersion: GroupVersion, resource: string): ResourceKind | undefined {
  return kindsIn(groupVersion).find((kind) => kind.resource === resource);
}

export function kindOf(resource: ResourceName): ResourceKind {
  const kind = RESOURCE_KINDS.find((candidate) => candidate.resource === resource);
  if (!kind) throw new Error(`unknown resource ${resource}`);
  return kind;
}
