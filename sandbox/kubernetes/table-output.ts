import { isPlainObject, type KubeObject, type ResourceName } from './kube-objects';
import type { ResourceKind } from './resource-kinds';

/**
 * Server-side printing: `kubectl get` asks for `application/json;as=Table;v=v1;g=meta.k8s.io`
 * and prints the columns it is given. The columns are those of the API server's printers (and of
 * cert-manager's additionalPrinterColumns for Certificates), each row carrying the object's
 * metadata (`includeObject=Metadata`, the default) so kubectl can show namespaces with `-A`.
 */

export type IncludeObject = 'None' | 'Metadata' | 'Object';

interface Column {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date';
  readonly format?: string;
  readonly description: string;
  readonly priority: number;
  readonly cell: (object: KubeObject, now: Date) => string | number;
}

const field = (object: KubeObject, name: string): Record<string, unknown> => (isPlainObject(object[name]) ? (object[name] as Record<string, unknown>) : {});

/** apimachinery's duration.HumanDuration, which kubectl's AGE column shows. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  if (years < 8) return `${years}y${Math.floor(hours / 24) % 365}d`;
  return `${years}y`;
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0, cell: (object) => object.metadata.name ?? '' };
const AGE: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
  cell: (object, now) => (object.metadata.creationTimestamp ? humanDuration(now.getTime() - Date.parse(object.metadata.creationTimestamp)) : '<unknown>'),
};

const count = (value: unknown): number => (isPlainObject(value) ? Object.keys(value).length : 0);

function certificateCondition(object: KubeObject, type: string): Record<string, unknown> | undefined {
  const conditions = field(object, 'status').conditions;
  return Array.isArray(conditions) ? (conditions.find((condition) => isPlainObject(condition) && condition.type === type) as Record<string, unknown> | undefined) : undefined;
}

const COLUMNS: Readonly<Record<ResourceName, readonly Column[]>> = {
  namespaces: [NAME, { name: 'Status', type: 'string', description: 'The status of the namespace', priority: 0, cell: (object) => String(field(object, 'status').phase ?? '') }, AGE],
  secrets: [
    NAME,
    { name: 'Type', type: 'string', description: 'The type of the secret', priority: 0, cell: (object) => String(object.type ?? '') },
    { name: 'Data', type: 'integer', description: 'The number of entries in the secret', priority: 0, cell: (object) => count(object.data) },
    AGE,
  ],
  configmaps: [NAME, { name: 'Data', type: 'integer', description: 'Number of entries in the config map', priority: 0, cell: (object) => count(object.data) + count(object.binaryData) }, AGE],
  pods: [
    NAME,
    {
      name: 'Ready',
      type: 'string',
      description: 'The aggregate readiness state of this pod for accepting traffic.',
      priority: 0,
      cell: (object) => {
        const containers = Array.isArray(field(object, 'spec').containers) ? (field(object, 'spec').containers as unknown[]).length : 0;
        const statuses = field(object, 'status').containerStatuses;
        const ready = Array.isArray(statuses) ? statuses.filter((status) => isPlainObject(status) && status.ready === true).length : 0;
        return `${ready}/${containers}`;
      },
    },
    { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', priority: 0, cell: (object) => String(field(object, 'status').phase ?? '') },
    { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted.', priority: 0, cell: () => '0' },
    AGE,
    { name: 'IP', type: 'string', description: 'IP address allocated to the pod.', priority: 1, cell: (object) => String(field(object, 'status').podIP ?? '<none>') },
  ],
  deployments: [
    NAME,
    {
      name: 'Ready',
      type: 'string',
      description: 'Number of the pod with ready state',
      priority: 0,
      cell: (object) => `${Number(field(object, 'status').readyReplicas ?? 0)}/${Number(field(object, 'spec').replicas ?? 0)}`,
    },
    { name: 'Up-to-date', type: 'integer', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', priority: 0, cell: (object) => Number(field(object, 'status').updatedReplicas ?? 0) },
    { name: 'Available', type: 'integer', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', priority: 0, cell: (object) => Number(field(object, 'status').availableReplicas ?? 0) },
    AGE,
  ],
  certificates: [
    NAME,
    { name: 'Ready', type: 'string', description: '', priority: 0, cell: (object) => String(certificateCondition(object, 'Ready')?.status ?? '') },
    { name: 'Secret', type: 'string', description: '', priority: 0, cell: (object) => String(field(object, 'spec').secretName ?? '') },
    { name: 'Issuer', type: 'string', description: '', priority: 1, cell: (object) => String(field(field(object, 'spec') as KubeObject, 'issuerRef').name ?? '') },
    { name: 'Status', type: 'string', description: '', priority: 1, cell: (object) => String(certificateCondition(object, 'Ready')?.message ?? '') },
    AGE,
  ],
};

function rowObject(kind: ResourceKind, object: KubeObject, include: IncludeObject): Record<string, unknown> {
  if (include === 'None') return {};
  if (include === 'Object') return { object: { ...object, apiVersion: object.apiVersion, kind: kind.kind } };
  return { object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata } };
}

export function toTable(
  kind: ResourceKind,
  objects: readonly KubeObject[],
  listMetadata: Record<string, unknown>,
  now: Date,
  include: IncludeObject,
): Record<string, unknown> {
  const columns = COLUMNS[kind.resource];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMetadata,
    columnDefinitions: columns.map(({ cell: _cell, ...definition }) => ({ format: '', ...definition })),
    rows: objects.map((object) => ({ cells: columns.map((column) => column.cell(object, now)), ...rowObject(kind, object, include) })),
  };
}

/** True when the Accept header asks for a meta.k8s.io/v1 (or v1beta1) Table. */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((range) => {
    const params = new Map(
      range
        .split(';')
        .slice(1)
        .map((param) => param.trim().split('=') as [string, string]),
    );
    return params.get('as') === 'Table' && params.get('g') === 'meta.k8s.io';
  });
}

export function includeObjectOf(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}
