import * as z from 'zod';
import { ClusterNameSchema } from './clusters';

/**
 * The declared target policy (DESIGN.md Authority; issue 11): what certflow may touch. Per
 * cluster the namespaces, per namespace the services with their kind, Secret, workloads, endpoint
 * and key algorithm. A service's DNS names are derived from it (`<svc>.<ns>.svc` and
 * `<svc>.<ns>.svc.cluster.local`) plus explicit extras; patterns only admit names a cert-manager
 * Certificate already carries. The Istio plug-in CA is allowed only at the mesh locations.
 *
 * One schema: lib/config.ts embeds it as `kubernetes.targets`, the stack hands it to the rotation
 * functions (RotationEnvNames.TargetPolicy), and functions/domain/target-policy.ts decides with it.
 * Labels and annotations in a cluster propose candidates; this policy alone admits them.
 */

const DnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a DNS-1123 label');
/** A Kubernetes object name (DNS-1123 subdomain). */
const ObjectName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'a Kubernetes object name (DNS-1123 subdomain)');
/** A host name as a certificate carries it: lower-case DNS labels, no wildcard. */
export const DnsNameSchema = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/, 'a lower-case DNS name with at least two labels, no wildcard');
/** `*.<domain>`: one leftmost label of any value under a domain that has at least two labels. */
const DnsPattern = z
  .string()
  .max(253)
  .regex(/^\*\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/, 'a pattern *.<domain> (one leftmost wildcard label)');
const KeyAlgorithm = z.enum(['ecdsa-p256', 'rsa-2048']);

/** Where the TLS probe dials: defaults to the service's cluster address on 443. */
const EndpointPolicySchema = z
  .object({
    /** @default `<svc>.<ns>.svc` */
    host: z.string().min(1).max(253).optional(),
    /** @default 443 */
    port: z.number().int().min(1).max(65535).optional(),
    /** SNI and the name the served certificate must carry. @default `<svc>.<ns>.svc` */
    serverName: DnsNameSchema.optional(),
  })
  .strict();

export const ServicePolicySchema = z
  .object({
    name: DnsLabel,
    /** istio-cacerts is not a service kind: the mesh CA is allowed only at `mesh.locations`. */
    kind: z.enum(['cert-manager', 'tls-secret']),
    /** @default `<name>-tls` */
    secretName: ObjectName.optional(),
    /** cert-manager only. @default the service name */
    certificateName: ObjectName.optional(),
    /** Deployments restarted after the Secret changes. @default [the service name] */
    workloads: z.array(ObjectName).max(20).optional(),
    endpoint: EndpointPolicySchema.optional(),
    /** @default pki.keyAlgorithm */
    keyAlgorithm: KeyAlgorithm.optional(),
    canary: z.boolean().default(false),
    /** Names issued besides the two derived ones. */
    extraDnsNames: z.array(DnsNameSchema).max(50).default([]),
    /** cert-manager only: further names its Certificate may carry (never issued by certflow itself). */
    dnsNamePatterns: z.array(DnsPattern).max(20).default([]),
  })
  .strict();
export type ServicePolicy = z.infer<typeof ServicePolicySchema>;

export const NamespacePolicySchema = z.object({ name: DnsLabel, services: z.array(ServicePolicySchema).min(1) }).strict();

export const ClusterPolicySchema = z.object({ cluster: ClusterNameSchema, namespaces: z.array(NamespacePolicySchema).min(1) }).strict();

export const MeshLocationSchema = z
  .object({
    cluster: ClusterNameSchema,
    namespace: DnsLabel.default('istio-system'),
    secretName: ObjectName.default('cacerts'),
    /** @default ['istiod'] */
    workloads: z.array(ObjectName).max(20).default(['istiod']),
  })
  .strict();
export type MeshLocation = z.infer<typeof MeshLocationSchema>;

export const MeshPolicySchema = z
  .object({
    /** Where an Istio plug-in CA may be written. @default istio-system/cacerts in each declared cluster */
    locations: z.array(MeshLocationSchema).optional(),
    /** The SPIFFE trust domain the mesh CA may sign for (its URI name constraint). @default cluster.local */
    trustDomain: DnsLabel.or(DnsNameSchema).default('cluster.local'),
    /** DNS domains the mesh CA may sign for (its DNS name constraints). @default the declared namespaces' `<ns>.svc` and `<ns>.svc.cluster.local` */
    permittedDnsDomains: z.array(DnsNameSchema).max(100).optional(),
  })
  .strict();
export type MeshPolicy = z.infer<typeof MeshPolicySchema>;

export const TargetPolicySchema = z
  .object({
    clusters: z.array(ClusterPolicySchema).min(1),
    mesh: MeshPolicySchema.default({ trustDomain: 'cluster.local' }),
  })
  .strict()
  .superRefine((policy, ctx) => {
    const clusters = new Set<string>();
    policy.clusters.forEach((cluster, c) => {
      if (clusters.has(cluster.cluster)) ctx.addIssue({ code: 'custom', path: ['clusters', c, 'cluster'], message: `cluster ${cluster.cluster} is declared twice` });
      clusters.add(cluster.cluster);
      const namespaces = new Set<string>();
      cluster.namespaces.forEach((namespace, n) => {
        if (namespaces.has(namespace.name)) ctx.addIssue({ code: 'custom', path: ['clusters', c, 'namespaces', n, 'name'], message: `namespace ${namespace.name} is declared twice` });
        namespaces.add(namespace.name);
        const names = new Set<string>();
        const secrets = new Set<string>();
        namespace.services.forEach((service, s) => {
          const at = ['clusters', c, 'namespaces', n, 'services', s];
          if (names.has(service.name)) ctx.addIssue({ code: 'custom', path: [...at, 'name'], message: `service ${service.name} is declared twice in ${namespace.name}` });
          names.add(service.name);
          const secret = service.secretName ?? `${service.name}-tls`;
          if (secrets.has(secret)) ctx.addIssue({ code: 'custom', path: [...at, 'secretName'], message: `Secret ${secret} belongs to two services` });
          secrets.add(secret);
          if (service.kind !== 'cert-manager' && (service.certificateName || service.dnsNamePatterns.length)) {
            ctx.addIssue({ code: 'custom', path: [...at, 'kind'], message: 'certificateName and dnsNamePatterns are for cert-manager services only' });
          }
        });
      });
    });
    policy.mesh.locations?.forEach((location, l) => {
      if (!clusters.has(location.cluster)) ctx.addIssue({ code: 'custom', path: ['mesh', 'locations', l, 'cluster'], message: `cluster ${location.cluster} is not declared in clusters` });
      const clash = policy.clusters.find((cluster) => cluster.cluster === location.cluster)?.namespaces.find((namespace) => namespace.name === location.namespace);
      if (clash?.services.some((service) => (service.secretName ?? `${service.name}-tls`) === location.secretName)) {
        ctx.addIssue({ code: 'custom', path: ['mesh', 'locations', l, 'secretName'], message: 'a mesh location cannot be a service Secret' });
      }
    });
  });
export type TargetPolicy = z.infer<typeof TargetPolicySchema>;
/** The policy as written in a config file (defaults not yet applied). */
export type TargetPolicyInput = z.input<typeof TargetPolicySchema>;

/** Why a candidate or a target was refused: named reasons that flow into the plan, ledger and events. */
export const RefusalReasons = {
  ClusterNotDeclared: 'ClusterNotDeclared',
  NamespaceNotDeclared: 'NamespaceNotDeclared',
  NotDeclared: 'NotDeclared',
  MeshLocationNotDeclared: 'MeshLocationNotDeclared',
  KindNotAllowed: 'KindNotAllowed',
  NamesNotAllowed: 'NamesNotAllowed',
  ServiceClaimRefused: 'ServiceClaimRefused',
  EndpointNotAllowed: 'EndpointNotAllowed',
  TargetAltered: 'TargetAltered',
  Malformed: 'Malformed',
} as const;
export type RefusalReason = (typeof RefusalReasons)[keyof typeof RefusalReasons];

/** A refused candidate as the plan, the ledger and `Rotation Succeeded` report it. */
export const RefusedCandidateSchema = z.object({ object: z.string(), reason: z.string(), detail: z.string() });
export type RefusedCandidate = z.infer<typeof RefusedCandidateSchema>;
