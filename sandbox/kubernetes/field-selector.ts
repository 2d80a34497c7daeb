import { badRequest } from './api-status';
import type { KubeObject, ResourceName } from './kube-objects';

/**
 * `?fieldSelector=`: `field=value`, `field==value`, `field!=value`, joined by commas. Each kind
 * supports `metadata.name` and `metadata.namespace` plus the few fields its registry indexes;
 * anything else is the API server's 400.
 */

export interface FieldRequirement {
  readonly field: string;
  readonly negated: boolean;
  readonly value: string;
}

type FieldReader = (object: KubeObject) => string | undefined;

const COMMON: Readonly<Record<string, FieldReader>> = {
  'metadata.name': (object) => object.metadata.name,
  'metadata.namespace': (object) => object.metadata.namespace ?? '',
};

const status = (object: KubeObject): Record<string, unknown> => (object.status ?? {}) as Record<string, unknown>;
const spec = (object: KubeObject): Record<string, unknown> => (object.spec ?? {}) as Record<string, unknown>;

const BY_RESOURCE: Readonly<Partial<Record<ResourceName, Readonly<Record<string, FieldReader>>>>> = {
  secrets: { type: (object) => (typeof object.type === 'string' ? object.type : undefined) },
  namespaces: { 'status.phase': (object) => status(object).phase as string | undefined },
  pods: {
    'status.phase': (object) => status(object).phase as string | undefined,
    'spec.nodeName': (object) => (spec(object).nodeName as string | undefined) ?? '',
  },
};

function readersFor(resource: ResourceName): Readonly<Record<string, FieldReader>> {
  return { ...COMMON, ...(BY_RESOURCE[resource] ?? {}) };
}

export function parseFieldSelector(resource: ResourceName, text: string): FieldRequirement[] {
  const readers = readersFor(resource);
  const requirements: FieldRequirement[] = [];
  for (const part of text.split(',')) {
    const term = part.trim();
    if (term === '') continue;
    const match = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!match) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, field, operator, value] = match as unknown as [string, string, string, string];
    if (!readers[field]) {
      const known = Object.keys(readers)
        .map((name) => `"${name}"`)
        .join(', ');
      throw badRequest(`"${field}" is not a known field selector: only ${known}`);
    }
    requirements.push({ field, negated: operator === '!=', value });
  }
  return requirements;
}

export function fieldsMatch(resource: ResourceName, requirements: readonly FieldRequirement[], object: KubeObject): boolean {
  const readers = readersFor(resource);
  return requirements.every((requirement) => {
    const actual = readers[requirement.field]!(object) ?? '';
    return requirement.negated ? actual !== requirement.value : actual === requirement.value;
  });
}
