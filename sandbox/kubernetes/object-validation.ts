import { invalid, type FieldError } from './api-status';
import { isPlainObject, type KubeObject, type LabelSelectorSpec } from './kube-objects';
import { jsonEqual } from './json-values';
import { labelKeyProblem, labelsMatch, labelValueProblem, selectorFromSpec, selectorSpecProblems } from './label-selector';
import type { ResourceKind } from './resource-kinds';

/**
 * The validation the API server runs after defaulting (422 Invalid with one cause per field),
 * limited to the rules certflow's writes can break: names, labels, Secret and ConfigMap keys, the
 * TLS Secret's required keys, immutability, a Deployment's selector and template, a Pod's
 * containers, and the required fields of a cert-manager Certificate (its CRD schema).
 */

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

const required = (field: string, detail = 'Required value'): FieldError => ({ type: 'FieldValueRequired', field, detail });
const invalidValue = (field: string, value: unknown, why: string): FieldError => ({
  type: 'FieldValueInvalid',
  field,
  detail: `Invalid value: ${JSON.stringify(value)}: ${why}`,
});
const forbidden = (field: string, why: string): FieldError => ({ type: 'FieldValueForbidden', field, detail: `Forbidden: ${why}` });

function dnsSubdomainProblem(name: string): string | undefined {
  if (name.length > 253) return 'must be no more than 253 characters';
  return DNS_SUBDOMAIN.test(name) ? undefined : SUBDOMAIN_MESSAGE;
}

function validateMetadata(kind: ResourceKind, object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const { name, labels, annotations } = object.metadata;
  if (!name) {
    errors.push(required('metadata.name', 'Required value: name or generateName is required'));
  } else if (kind.resource === 'namespaces') {
    if (name.length > 63 || !DNS_LABEL.test(name)) errors.push(invalidValue('metadata.name', name, name.length > 63 ? 'must be no more than 63 characters' : LABEL_MESSAGE));
  } else {
    const problem = dnsSubdomainProblem(name);
    if (problem) errors.push(invalidValue('metadata.name', name, problem));
  }
  if (kind.namespaced && !object.metadata.namespace) errors.push(required('metadata.namespace'));
  for (const [key, value] of Object.entries(labels ?? {})) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) errors.push(invalidValue('metadata.labels', key, keyProblem));
    const valueProblem = labelValueProblem(value);
    if (valueProblem) errors.push(invalidValue('metadata.labels', value, valueProblem));
  }
  for (const key of Object.keys(annotations ?? {})) {
    const keyProblem = labelKeyProblem(key.toLowerCase());
    if (keyProblem) errors.push(invalidValue('metadata.annotations', key, keyProblem));
  }
  return errors;
}

function validateKeys(field: string, map: unknown): FieldError[] {
  if (!isPlainObject(map)) return [];
  return Object.keys(map)
    .filter((key) => !CONFIG_KEY.test(key) || key === '.' || key === '..' || key.length > 253)
    .map((key) => invalidValue(`${field}[${key}]`, key, CONFIG_KEY_MESSAGE));
}

/** `immutable: true` Secrets and ConfigMaps refuse any change to their data and to the flag. */
function validateImmutable(object: KubeObject, old: KubeObject | undefined, dataFields: readonly string[]): FieldError[] {
  if (old?.immutable !== true) return [];
  const errors: FieldError[] = [];
  for (const field of dataFields) {
    if (!jsonEqual(object[field] ?? {}, old[field] ?? {})) errors.push(forbidden(field, 'field is immutable when `immutable` is set'));
  }
  if (object.immutable !== true) errors.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  return errors;
}

function validateSecret(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors = validateKeys('data', object.data);
  const data = isPlainObject(object.data) ? object.data : {};
  if (object.type === 'kubernetes.io/tls') {
    for (const key of ['tls.crt', 'tls.key']) if (!(key in data)) errors.push(required(`data[${key}]`));
  }
  if (old !== undefined && old.type !== object.type) errors.push(invalidValue('type', object.type, 'field is immutable'));
  return [...errors, ...validateImmutable(object, old, ['data'])];
}

function validateConfigMap(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors = [...validateKeys('data', object.data), ...validateKeys('binaryData', object.binaryData)];
  const binary = isPlainObject(object.binaryData) ? object.binaryData : {};
  for (const key of Object.keys(isPlainObject(object.data) ? object.data : {})) {
    if (key in binary) errors.push(invalidValue(`data[${key}]`, key, 'duplicate of key present in binaryData'));
  }
  return [...errors, ...validateImmutable(object, old, ['data', 'binaryData'])];
}

function validatePodSpec(spec: unknown, path: string): FieldError[] {
  if (!isPlainObject(spec)) return [required(path)];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) return [required(`${path}.containers`)];
  const errors: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((container, index) => {
    const field = `${path}.containers[${index}]`;
    if (!isPlainObject(container)) return void errors.push(required(field));
    const name = container.name;
    if (typeof name !== 'string' || name === '') errors.push(required(`${field}.name`));
    else if (!DNS_LABEL.test(name) || name.length > 63) errors.push(invalidValue(`${field}.name`, name, LABEL_MESSAGE));
    else if (names.has(name)) errors.push({ type: 'FieldValueDuplicate', field: `${field}.name`, detail: `Duplicate value: ${JSON.stringify(name)}` });
    else names.add(name);
    if (typeof container.image !== 'string' || container.image === '') errors.push(required(`${field}.image`));
  });
  return errors;
}

function validateDeployment(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = object.spec;
  if (!isPlainObject(spec)) return [required('spec.selector'), required('spec.template')];
  const errors: FieldError[] = [];
  const replicas = spec.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    errors.push(invalidValue('spec.replicas', replicas, 'must be greater than or equal to 0'));
  }
  const selector = spec.selector;
  const template = isPlainObject(spec.template) ? spec.template : undefined;
  if (!isPlainObject(selector)) {
    errors.push(required('spec.selector'));
  } else if (selectorSpecProblems(selector as LabelSelectorSpec).length > 0) {
    // The API server's field validation: 422 Invalid naming the operator's field.
    for (const problem of selectorSpecProblems(selector as LabelSelectorSpec)) {
      errors.push(invalidValue(`spec.selector.matchExpressions[${problem.index}].operator`, problem.operator, problem.detail));
    }
  } else {
    const requirements = selectorFromSpec(selector as LabelSelectorSpec);
    if (requirements.length === 0) errors.push(invalidValue('spec.selector', selector, 'empty selector is invalid for deployment'));
    const templateLabels = isPlainObject(template?.metadata) ? (template.metadata.labels as Record<string, string> | undefined) : undefined;
    if (template && requirements.length > 0 && !labelsMatch(requirements, templateLabels)) {
      errors.push(invalidValue('spec.template.metadata.labels', templateLabels ?? {}, '`selector` does not match template `labels`'));
    }
    const oldSpec = old && isPlainObject(old.spec) ? old.spec : undefined;
    // apps/v1 made the selector immutable: changing it would orphan the existing ReplicaSets.
    if (oldSpec && !jsonEqual(selector, oldSpec.selector)) errors.push(invalidValue('spec.selector', selector, 'field is immutable'));
  }
  if (!template) errors.push(required('spec.template'));
  else errors.push(...validatePodSpec(template.spec, 'spec.template.spec'));
  return errors;
}

/** The Certificate CRD's schema requires `spec.secretName` and `spec.issuerRef.name`. */
function validateCertificate(object: KubeObject): FieldError[] {
  const spec = object.spec;
  if (!isPlainObject(spec)) return [required('spec')];
  const errors: FieldError[] = [];
  if (typeof spec.secretName !== 'string' || spec.secretName === '') errors.push(required('spec.secretName'));
  if (!isPlainObject(spec.issuerRef)) errors.push(required('spec.issuerRef'));
  else if (typeof spec.issuerRef.name !== 'string' || spec.issuerRef.name === '') errors.push(required('spec.issuerRef.name'));
  return errors;
}

function kindErrors(kind: ResourceKind, object: KubeObject, old: KubeObject | undefined): FieldError[] {
  switch (kind.resource) {
    case 'secrets':
      return validateSecret(object, old);
    case 'configmaps':
      return validateConfigMap(object, old);
    case 'pods':
      return validatePodSpec(object.spec, 'spec');
    case 'deployments':
      return validateDeployment(object, old);
    case 'certificates':
      return validateCertificate(object);
    case 'namespaces':
      return [];
  }
}

/** Throws 422 Invalid listing every problem; `old` is given for updates. */
export function validateObject(kind: ResourceKind, object: KubeObject, old?: KubeObject): void {
  const errors = [...validateMetadata(kind, object), ...kindErrors(kind, object, old)];
  if (errors.length > 0) throw invalid(kind.kind, kind.group, object.metadata.name ?? '', errors);
}
