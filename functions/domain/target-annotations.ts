import { InvalidInputError } from '../contracts/errors';
import { K8sNames, TargetSchema, type Target, type TargetKind } from '../contracts/targets';

/**
 * Reads a target from what discovery found in the cluster: a Secret or a cert-manager
 * Certificate labelled `certflow.io/managed=true`, described by certflow.io/* annotations. A bad
 * annotation is refused with the object and the annotation named; the object is not guessed at.
 */
export interface DiscoveredObject {
  cluster: string;
  namespace: string;
  name: string;
  /** 'Secret' or 'Certificate'. */
  resource: 'Secret' | 'Certificate';
  annotations: Record<string, string>;
  /** A Certificate's spec.secretName and spec.dnsNames. */
  secretName?: string;
  dnsNames?: string[];
}

export function targetFromObject(object: DiscoveredObject): Target {
  const where = `${object.resource} ${object.namespace}/${object.name} in ${object.cluster}`;
  const annotations = object.annotations;
  const list = (key: string) =>
    (annotations[key] ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
  const kind: TargetKind =
    object.resource === 'Certificate' ? 'cert-manager' : ((annotations[K8sNames.KindAnnotation] as TargetKind | undefined) ?? 'tls-secret');
  const dnsNames = object.dnsNames?.length ? object.dnsNames : list(K8sNames.DnsNamesAnnotation);
  const endpointText = annotations[K8sNames.EndpointAnnotation];
  const raw = {
    id: `${object.cluster}/${object.namespace}/${object.name}`,
    cluster: object.cluster,
    namespace: object.namespace,
    service: annotations[K8sNames.ServiceAnnotation] ?? object.name,
    kind,
    secretName: object.resource === 'Certificate' ? object.secretName : object.name,
    ...(object.resource === 'Certificate' ? { certificateName: object.name } : {}),
    workloads: list(K8sNames.WorkloadsAnnotation),
    ...(endpointText ? { endpoint: parseEndpoint(endpointText, dnsNames[0], where) } : {}),
    dnsNames,
    canary: annotations[K8sNames.CanaryAnnotation] === 'true',
    ...(annotations[K8sNames.KeyAlgorithmAnnotation] ? { keyAlgorithm: annotations[K8sNames.KeyAlgorithmAnnotation] } : {}),
  };
  const parsed = TargetSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new InvalidInputError(`${where} is not a valid certflow target: ${fields}`, { details: { object: where } });
  }
  return parsed.data;
}

/** `host:port` or `host:port:serverName`; the server name defaults to the first DNS name. */
export function parseEndpoint(text: string, defaultServerName: string | undefined, where: string): { host: string; port: number; serverName: string } {
  const [host, portText, serverName] = text.split(':');
  const port = Number(portText);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidInputError(`${where}: ${K8sNames.EndpointAnnotation} must be host:port[:serverName], got "${text}"`);
  }
  const name = serverName || defaultServerName;
  if (!name) throw new InvalidInputError(`${where}: no server name for the endpoint and no DNS names`);
  return { host, port, serverName: name };
}

/** The canary targets first, in their own batch; the rest in batches of `size` (DESIGN.md steps 7-8). */
export function planBatches(targets: readonly Target[], size: number): { canary: Target[]; batches: Target[][] } {
  const sorted = [...targets].sort((a, b) => a.id.localeCompare(b.id));
  const canary = sorted.filter((target) => target.canary);
  const rest = sorted.filter((target) => !target.canary);
  const batches: Target[][] = [];
  for (let index = 0; index < rest.length; index += size) batches.push(rest.slice(index, index + size));
  return { canary, batches };
}
