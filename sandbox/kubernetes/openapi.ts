import { createHash } from 'node:crypto';
import { RESOURCE_KINDS, apiVersionOf, servedGroupVersions, type GroupVersion } from './resource-kinds';
import { PATCH_TYPES } from './resource-handlers';

/**
 * The OpenAPI v3 documents kubectl reads before `apply`, `create` and `replace` (it validates
 * the manifest's kinds against them). A minimal document per served group/version: each kind is
 * an object schema tagged with its group/version/kind that keeps unknown fields, so kubectl's
 * client-side validation admits any manifest of a served kind and the emulator's own validation
 * answers as the API server does. The v2 document (`/openapi/v2`) is served as JSON only:
 * kubectl asks for v2 only as protobuf, and only when v3 leaves it no patch type (it then
 * falls back, as with no document).
 */
export function openApiRoot(): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const groupVersion of servedGroupVersions()) {
    const path = pathOf(groupVersion);
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hashOf(groupVersion)}` };
  }
  return { paths };
}

/** The document of one group/version (`api/v1`, `apis/apps/v1`, ...), or undefined if not served. */
export function openApiDocument(path: string): object | undefined {
  const groupVersion = servedGroupVersions().find((candidate) => pathOf(candidate) === path);
  if (!groupVersion) return undefined;
  const schemas: Record<string, object> = {};
  const paths: Record<string, object> = {};
  for (const kind of RESOURCE_KINDS.filter((candidate) => candidate.group === groupVersion.group && candidate.version === groupVersion.version)) {
    // kubectl looks for a PATCH operation of the kind that takes `fieldValidation`: then it leaves
    // validation to the server (the emulator's own checks) instead of downloading OpenAPI v2.
    const gvk = { group: kind.group, version: kind.version, kind: kind.kind };
    const collection = `/${path}${kind.namespaced ? '/namespaces/{namespace}' : ''}/${kind.resource}`;
    // The patch types kubectl may compute from this document. Strategic merge patch is left out,
    // though built-ins take it: computing one from these schemas fails (they have no fields and no
    // merge keys; kubectl -v=5 says `unable to find api field "data"`), while without it kubectl
    // builds a built-in's patch from its compiled-in types (which carry the merge keys) and sends
    // a custom resource a merge patch, as with a real cluster.
    const content = Object.fromEntries(DOCUMENTED_PATCH_TYPES.map((type) => [type, { schema: { $ref: `#/components/schemas/${definitionName(kind.group, kind.version, kind.kind)}` } }]));
    paths[`${collection}/{name}`] = {
      patch: {
        'x-kubernetes-group-version-kind': gvk,
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string' } }],
        requestBody: { content },
        responses: { '200': { description: 'OK' } },
      },
    };
    schemas[definitionName(kind.group, kind.version, kind.kind)] = {
      type: 'object',
      description: `${kind.kind} (${apiVersionOf(kind)}), as the certflow sandbox serves it`,
      'x-kubernetes-group-version-kind': [{ group: kind.group, version: kind.version, kind: kind.kind }],
      'x-kubernetes-preserve-unknown-fields': true,
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.31.0' }, paths, components: { schemas } };
}

/** The patch types the document admits for every kind (see openApiDocument). */
const DOCUMENTED_PATCH_TYPES = [PATCH_TYPES.json, PATCH_TYPES.merge];

/**
 * The OpenAPI v2 (Swagger 2.0) document, as JSON, for clients that still read it: one definition
 * per served kind, tagged with its group/version/kind, keeping unknown fields (as the v3 schemas).
 */
export function openApiV2Document(): object {
  const definitions: Record<string, object> = {};
  for (const kind of RESOURCE_KINDS) {
    definitions[definitionName(kind.group, kind.version, kind.kind)] = {
      type: 'object',
      description: `${kind.kind} (${apiVersionOf(kind)}), as the certflow sandbox serves it`,
      'x-kubernetes-group-version-kind': [{ group: kind.group, version: kind.version, kind: kind.kind }],
      properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } },
    };
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.31.0' }, paths: {}, definitions };
}

function pathOf(groupVersion: GroupVersion): string {
  return groupVersion.group === '' ? `api/${groupVersion.version}` : `apis/${groupVersion.group}/${groupVersion.version}`;
}

/** Kubernetes names its definitions by reversed group: io.k8s.api.core.v1.Secret, io.cert-manager.v1.Certificate. */
function definitionName(group: string, version: string, kind: string): string {
  if (group === '') return `io.k8s.api.core.${version}.${kind}`;
  if (!group.includes('.')) return `io.k8s.api.${group}.${version}.${kind}`;
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

function hashOf(groupVersion: GroupVersion): string {
  return createHash('sha512').update(JSON.stringify(openApiDocument(pathOf(groupVersion)))).digest('hex').slice(0, 64).toUpperCase();
}
