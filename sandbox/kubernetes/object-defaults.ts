import { badRequest } from './api-status';
import { isPlainObject, type KubeObject } from './kube-objects';
import { apiVersionOf, type ResourceKind } from './resource-kinds';

/**
 * What the API server does to every object it decodes before validation: reject what cannot be
 * decoded into the Go type (400), and apply the defaults of the kind's `SetDefaults_*` functions
 * (and, for Secrets, fold the write-only `stringData` into `data`).
 */

const BASE64_CHAR = /[A-Za-z0-9+/]/;

/** Go's base64.StdEncoding accepts only padded standard base64; returns the offending byte offset. */
function base64Problem(value: string): number | undefined {
  const text = value.replace(/[\r\n]/g, '');
  const padding = /=*$/.exec(text)![0].length;
  const body = text.slice(0, text.length - padding);
  for (let index = 0; index < body.length; index += 1) if (!BASE64_CHAR.test(body[index]!)) return index;
  if (padding > 2 || text.length % 4 !== 0) return Math.max(0, text.length - (text.length % 4 || 4));
  return undefined;
}

function cannotDecode(kind: ResourceKind, detail: string) {
  return badRequest(`${kind.kind} in version "${kind.version}" cannot be handled as a ${kind.kind}: ${detail}`);
}

function checkStringMap(kind: ResourceKind, value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw cannotDecode(kind, `json: cannot unmarshal ${typeof value} into Go struct field ${field} of type map[string]string`);
  for (const entry of Object.values(value)) {
    if (typeof entry !== 'string') throw cannotDecode(kind, `json: cannot unmarshal ${typeof entry} into Go struct field ${field} of type string`);
  }
  return value as Record<string, string>;
}

/** Base64 map values decode or the object is undecodable; stored re-encoded canonically, as Go re-encodes []byte. */
function canonicalBase64Map(kind: ResourceKind, value: unknown, field: string): Record<string, string> | undefined {
  const map = checkStringMap(kind, value, field);
  if (map === undefined) return undefined;
  const result: Record<string, string> = {};
  for (const [key, encoded] of Object.entries(map)) {
    const problem = base64Problem(encoded);
    if (problem !== undefined) throw cannotDecode(kind, `illegal base64 data at input byte ${problem}`);
    result[key] = Buffer.from(encoded, 'base64').toString('base64');
  }
  return result;
}

function defaultSecret(kind: ResourceKind, object: KubeObject): void {
  const data = canonicalBase64Map(kind, object.data, 'Secret.data') ?? {};
  const stringData = checkStringMap(kind, object.stringData, 'Secret.stringData') ?? {};
  for (const [key, text] of Object.entries(stringData)) data[key] = Buffer.from(text, 'utf8').toString('base64');
  delete object.stringData;
  if (Object.keys(data).length > 0) object.data = data;
  else delete object.data;
  if (typeof object.type !== 'string' || object.type === '') object.type = 'Opaque';
}

function defaultConfigMap(kind: ResourceKind, object: KubeObject): void {
  checkStringMap(kind, object.data, 'ConfigMap.data');
  const binaryData = canonicalBase64Map(kind, object.binaryData, 'ConfigMap.binaryData');
  if (binaryData !== undefined) object.binaryData = binaryData;
}

function defaultNamespace(object: KubeObject): void {
  const name = object.metadata.name;
  // Since 1.21 every namespace carries its own name as a label, so selectors can match it.
  if (name) object.metadata.labels = { ...(object.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
  const spec = isPlainObject(object.spec) ? object.spec : {};
  object.spec = { ...spec, finalizers: Array.isArray(spec.finalizers) ? spec.finalizers : ['kubernetes'] };
  const status = isPlainObject(object.status) ? object.status : {};
  object.status = { ...status, phase: typeof status.phase === 'string' ? status.phase : 'Active' };
}

function defaultDeployment(object: KubeObject): void {
  if (!isPlainObject(object.spec)) return;
  const spec = object.spec;
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
  if (spec.progressDeadlineSeconds === undefined) spec.progressDeadlineSeconds = 600;
  if (!isPlainObject(spec.strategy)) spec.strategy = { type: 'RollingUpdate' };
  const strategy = spec.strategy as Record<string, unknown>;
  if (strategy.type === undefined) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate' && !isPlainObject(strategy.rollingUpdate)) strategy.rollingUpdate = { maxUnavailable: '25%', maxSurge: '25%' };
}

/** Checks decodability and applies defaults in place; sets `apiVersion` and `kind` to the served ones. */
export function applyDefaults(kind: ResourceKind, object: KubeObject): void {
  if (!isPlainObject(object.metadata)) throw cannotDecode(kind, 'json: cannot unmarshal metadata into Go struct field of type v1.ObjectMeta');
  object.apiVersion = apiVersionOf(kind);
  object.kind = kind.kind;
  checkStringMap(kind, object.metadata.labels, `${kind.kind}.metadata.labels`);
  checkStringMap(kind, object.metadata.annotations, `${kind.kind}.metadata.annotations`);
  switch (kind.resource) {
    case 'secrets':
      return defaultSecret(kind, object);
    case 'configmaps':
      return defaultConfigMap(kind, object);
    case 'namespaces':
      return defaultNamespace(object);
    case 'deployments':
      return defaultDeployment(object);
    case 'pods':
    case 'certificates':
      return;
  }
}
