import { badRequest, methodNotAllowed, pathNotFound } from './api-status';
import { findKind, servedGroupVersions, type GroupVersion, type ResourceKind } from './resource-kinds';

/**
 * Maps a URL path and method to what the API server would serve there: a discovery document, or
 * a verb on a resource (`/api/v1/namespaces/{ns}/secrets/{name}`,
 * `/apis/cert-manager.io/v1/namespaces/{ns}/certificates/{name}/status`, the cluster-wide list
 * `/apis/apps/v1/deployments`...). Unknown paths are the API server's plain 404.
 */

export type Verb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';

export interface ResourceTarget {
  readonly type: 'resource';
  readonly verb: Verb;
  readonly kind: ResourceKind;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: 'status';
}

export type ApiTarget =
  | { readonly type: 'version' }
  | { readonly type: 'health' }
  | { readonly type: 'api-versions' }
  | { readonly type: 'group-list' }
  | { readonly type: 'group'; readonly group: string }
  | { readonly type: 'resource-list'; readonly groupVersion: GroupVersion }
  | { readonly type: 'openapi-v3'; readonly path?: string }
  | { readonly type: 'openapi-v2' }
  | ResourceTarget;

const PUBLIC_PATHS: Readonly<Record<string, ApiTarget>> = {
  '/version': { type: 'version' },
  '/healthz': { type: 'health' },
  '/livez': { type: 'health' },
  '/readyz': { type: 'health' },
};

/** The paths anonymous clients may read (the `system:public-info-viewer` role). */
export function isPublicPath(pathname: string): boolean {
  return Object.prototype.hasOwnProperty.call(PUBLIC_PATHS, pathname.replace(/\/+$/, '') || '/');
}

function segmentsOf(pathname: string): string[] {
  try {
    return pathname.split('/').filter((segment) => segment !== '').map((segment) => decodeURIComponent(segment));
  } catch {
    throw badRequest(`invalid path: ${pathname}`);
  }
}

function isServed(groupVersion: GroupVersion): boolean {
  return servedGroupVersions().some((served) => served.group === groupVersion.group && served.version === groupVersion.version);
}

function verbOf(method: string, named: boolean): Verb {
  switch (method) {
    case 'GET':
      return named ? 'get' : 'list';
    case 'POST':
      if (named) throw methodNotAllowed();
      return 'create';
    case 'PUT':
      if (!named) throw methodNotAllowed();
      return 'update';
    case 'PATCH':
      if (!named) throw methodNotAllowed();
      return 'patch';
    case 'DELETE':
      // deletecollection is not served.
      if (!named) throw methodNotAllowed();
      return 'delete';
    default:
      throw methodNotAllowed();
  }
}

function resourceTarget(method: string, groupVersion: GroupVersion, rest: string[]): ResourceTarget {
  let namespace: string | undefined;
  let parts = rest;
  const namespacedKind = rest[0] === 'namespaces' && rest.length >= 3 ? findKind(groupVersion, rest[2]!) : undefined;
  if (namespacedKind?.namespaced) {
    namespace = rest[1];
    parts = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = parts;
  const kind = resource === undefined ? undefined : findKind(groupVersion, resource);
  if (!kind || extra.length > 0) throw pathNotFound();
  // A namespaced kind is addressed by name only inside its namespace; outside it only lists.
  if (kind.namespaced && namespace === undefined && name !== undefined) throw pathNotFound();
  if (subresource !== undefined && (subresource !== 'status' || !kind.statusSubresource)) throw pathNotFound();
  const verb = verbOf(method, name !== undefined);
  if (kind.namespaced && namespace === undefined && verb !== 'list') throw methodNotAllowed();
  if (subresource === 'status' && verb !== 'get' && verb !== 'update' && verb !== 'patch') throw methodNotAllowed();
  return {
    type: 'resource',
    verb,
    kind,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(subresource === undefined ? {} : { subresource: 'status' as const }),
  };
}

export function resolveTarget(method: string, pathname: string): ApiTarget {
  const publicTarget = PUBLIC_PATHS[pathname.replace(/\/+$/, '') || '/'];
  if (publicTarget) return publicTarget;
  const segments = segmentsOf(pathname);
  const discovery = method === 'GET';
  if (segments[0] === 'openapi' && segments[1] === 'v2' && segments.length === 2 && discovery) return { type: 'openapi-v2' };
  if (segments[0] === 'openapi' && segments[1] === 'v3' && discovery) {
    return segments.length === 2 ? { type: 'openapi-v3' } : { type: 'openapi-v3', path: segments.slice(2).join('/') };
  }
  if (segments[0] === 'api') {
    if (segments.length === 1 && discovery) return { type: 'api-versions' };
    const groupVersion = { group: '', version: segments[1] ?? '' };
    if (!isServed(groupVersion)) throw pathNotFound();
    if (segments.length === 2 && discovery) return { type: 'resource-list', groupVersion };
    return resourceTarget(method, groupVersion, segments.slice(2));
  }
  if (segments[0] === 'apis') {
    if (segments.length === 1 && discovery) return { type: 'group-list' };
    const group = segments[1] ?? '';
    if (!servedGroupVersions().some((served) => served.group === group && group !== '')) throw pathNotFound();
    if (segments.length === 2 && discovery) return { type: 'group', group };
    const groupVersion = { group, version: segments[2] ?? '' };
    if (!isServed(groupVersion)) throw pathNotFound();
    if (segments.length === 3 && discovery) return { type: 'resource-list', groupVersion };
    return resourceTarget(method, groupVersion, segments.slice(3));
  }
  throw pathNotFound();
}
