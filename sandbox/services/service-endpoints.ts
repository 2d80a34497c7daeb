import type { KubernetesEmulatorHandle } from '../kubernetes/kubernetes-emulator';
import { ServiceEndpoint, type ManagedService, type Refusal, type ServedCertificate } from './service-endpoint';

export type { ManagedService, Refusal, ServedCertificate } from './service-endpoint';

/**
 * The sandbox's managed services (DESIGN.md, The sandbox: Services): one mTLS endpoint per
 * service on an OS-assigned loopback port, reloaded when the emulator reports that the service's
 * Deployment rolled out a new pod template (`kubectl rollout restart`, certflow's restart after a
 * Secret write). A paused rollout never completes, so its endpoint keeps the old certificate.
 * See {@link ServiceEndpoint} for the protocol an authorized client is spoken to with.
 */

export interface ServiceEndpointsOptions {
  readonly kubernetes: Pick<KubernetesEmulatorHandle, 'store' | 'onRollout'>;
  readonly services: readonly ManagedService[];
  /** @default '127.0.0.1' */
  readonly host?: string;
}

export interface ServiceEndpoints {
  /** Where the service listens. */
  endpoint(service: string): { host: string; port: number };
  /** The certificate it serves now; undefined while its Secret is missing or unusable. */
  served(service: string): ServedCertificate | undefined;
  /** How many rollouts of its Deployment made it read its Secret and trust bundle again. */
  reloads(service: string): number;
  /** Clients it turned away (newest last), with the server-side `authorizationError`. */
  refusals(service: string): readonly Refusal[];
  /** Why the service does not serve, when it does not (a missing Secret, a key that does not match). */
  loadError(service: string): string | undefined;
  readonly services: readonly ManagedService[];
  /** Fault injection: drop every connection to the service (a handshake that fails) until set back. */
  failHandshakes(service: string, failing: boolean): void;
  /** When the handshake fault dropped a connection to the service (epoch ms). */
  droppedHandshakes(service: string): readonly number[];
  /** TLS handshakes the service completed so far, with any client. */
  handshakes(service: string): number;
  close(): Promise<void>;
}

export async function startServiceEndpoints(options: ServiceEndpointsOptions): Promise<ServiceEndpoints> {
  const names = options.services.map((service) => service.name);
  if (new Set(names).size !== names.length) throw new Error('startServiceEndpoints: service names must be unique');
  const host = options.host ?? '127.0.0.1';
  const endpoints = new Map<string, ServiceEndpoint>();
  const unsubscribe = options.kubernetes.onRollout((event) => {
    for (const endpoint of endpoints.values()) {
      if (endpoint.service.namespace === event.namespace && endpoint.service.deployment === event.deployment) endpoint.rolledOut();
    }
  });
  const closeAll = async () => {
    unsubscribe();
    await Promise.all([...endpoints.values()].map((endpoint) => endpoint.close()));
  };
  try {
    for (const service of options.services) {
      const endpoint = new ServiceEndpoint(service, options.kubernetes.store);
      endpoints.set(service.name, endpoint);
      await endpoint.listen(host);
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  const of = (service: string): ServiceEndpoint => {
    const endpoint = endpoints.get(service);
    if (!endpoint) throw new Error(`no service endpoint named ${service}; known: ${[...endpoints.keys()].join(', ')}`);
    return endpoint;
  };
  let closed: Promise<void> | undefined;
  return {
    endpoint: (service) => of(service).endpoint(),
    served: (service) => of(service).served(),
    reloads: (service) => of(service).reloads(),
    refusals: (service) => of(service).refusals(),
    loadError: (service) => of(service).loadError(),
    services: options.services,
    failHandshakes: (service, failing) => {
      of(service).handshakeFault = failing;
    },
    droppedHandshakes: (service) => of(service).droppedHandshakes,
    handshakes: (service) => of(service).handshakes,
    close: () => (closed ??= closeAll()),
  };
}
