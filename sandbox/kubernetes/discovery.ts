import { pathNotFound } from './api-status';
import { apiVersionOf, kindsIn, servedGroupVersions, type GroupVersion, type ResourceKind } from './resource-kinds';

/**
 * The legacy (unaggregated) discovery documents kubectl walks before any request: `/api`,
 * `/apis`, `/apis/{group}`, and one APIResourceList per group/version, from which it resolves
 * `cm`, `deploy`, `cert` and `certificates.cert-manager.io`. kubectl first asks for aggregated
 * discovery (`as=APIGroupDiscoveryList`) and falls back to these when the answer is plain JSON.
 */

/** The Kubernetes release the emulator claims; gcloud's kubectl dispatcher picks its client by it. */
export const SERVER_VERSION = { major: '1', minor: '31', gitVersion: 'v1.31.0' } as const;

/** Only what the emulator implements: no watch, no deletecollection. */
const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update'] as const;
const SUBRESOURCE_VERBS = ['get', 'patch', 'update'] as const;

export function versionInfo(): Record<string, string> {
  return {
    ...SERVER_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2024-08-13T07:28:49Z',
    goVersion: 'go1.22.5',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDocument(group: string): Record<string, unknown> {
  const versions = servedGroupVersions()
    .filter((groupVersion) => groupVersion.group === group)
    .map((groupVersion) => ({ groupVersion: apiVersionOf(groupVersion), version: groupVersion.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(): Record<string, unknown> {
  const groups = [...new Set(servedGroupVersions().map((groupVersion) => groupVersion.group))].filter((group) => group !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupDocument) };
}

export function apiGroup(group: string): Record<string, unknown> {
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(group) };
}

function resourceEntries(kind: ResourceKind): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: kind.resource,
    singularName: kind.singular,
    namespaced: kind.namespaced,
    kind: kind.kind,
    verbs: [...VERBS],
    ...(kind.shortNames.length > 0 ? { shortNames: [...kind.shortNames] } : {}),
    ...(kind.categories.length > 0 ? { categories: [...kind.categories] } : {}),
  };
  if (!kind.statusSubresource) return [main];
  return [main, { name: `${kind.resource}/status`, singularName: '', namespaced: kind.namespaced, kind: kind.kind, verbs: [...SUBRESOURCE_VERBS] }];
}

export function apiResourceList(groupVersion: GroupVersion): Record<string, unknown> {
  const kinds = kindsIn(groupVersion);
  if (kinds.length === 0) throw pathNotFound();
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(groupVersion), resources: kinds.flatMap(resourceEntries) };
}
