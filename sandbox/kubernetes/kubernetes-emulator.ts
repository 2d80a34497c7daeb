import { randomBytes } from 'node:crypto';
import { KubernetesFaultPlan, type KubernetesFaultControls } from './fault-plan';
import { startApiServer } from './http-server';
import { renderKubeconfig } from './kubeconfig';
import { ObjectStore } from './object-store';
import { kindOf } from './resource-kinds';
import { RolloutController, type RolloutListener } from './rollout-controller';
import { storeAccess, type KubernetesStore } from './store-access';
import { RbacAuthorizer, SYSTEM_MASTERS, type KubernetesUser } from './rbac-authorizer';

export type { KubernetesFaultControls, KubernetesFaultSpec } from './fault-plan';
export type { RolloutEvent, RolloutListener } from './rollout-controller';
export type { KubernetesStore } from './store-access';
export { RESTARTED_AT_ANNOTATION } from './rollout-controller';
export { KubernetesApiError } from './api-status';
export type * from './kube-objects';

export interface KubernetesEmulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (OS-assigned, so parallel test files never collide) */
  port?: number;
  /**
   * The administrator's bearer token (user `kubernetes-admin`, group `system:masters`, allowed
   * everything). Every request but /version and the health checks must carry a known token: this
   * one or one of `addUser`. @default random
   */
  token?: string;
  /** Server time: creationTimestamp, condition times, the AGE column. @default () => new Date() */
  clock?: () => Date;
  /** How long a Deployment rollout takes to complete. @default 50 */
  rolloutDelayMs?: number;
  /**
   * Serve HTTPS with a fresh self-signed certificate (its PEM is `caCertificate` on the handle and
   * is written into `kubeconfig()`). Needed for kubectl, which sends no token over plain HTTP.
   * @default false (plain HTTP)
   */
  tls?: boolean;
  /** Namespaces that exist from the start, as in a fresh cluster. @default ['default', 'kube-system'] */
  namespaces?: readonly string[];
}

export interface KubernetesEmulatorHandle {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`): the cluster `server`; @kubernetes/client-node needs `skipTLSVerify: true` for http. */
  readonly url: string;
  /** The administrator's token (system:masters): seeding, kubectl, tests. */
  readonly token: string;
  /** A new bearer token for `name` (and its groups), which RBAC alone decides: what a workload's service account token is. */
  addUser(name: string, groups?: readonly string[]): string;
  /** Applies Roles, ClusterRoles and their bindings (the parsed documents of an RBAC manifest). */
  applyRbac(objects: readonly unknown[]): void;
  /** The serving certificate (PEM) to trust, with `tls`; undefined over plain HTTP. */
  readonly caCertificate?: string;
  /**
   * A kubeconfig YAML for kubectl or `KubeConfig.loadFromString`, context namespace `default` unless
   * told; with `contexts`, one cluster, user and context of each name (the first current).
   */
  kubeconfig(options?: { namespace?: string; contexts?: readonly string[] }): string;
  /** Direct, typed access to the objects (no HTTP, no faults) for seeding, assertions and sandbox controllers. */
  readonly store: KubernetesStore;
  readonly faults: KubernetesFaultControls;
  /** Called when a Deployment finishes rolling out a new pod template; returns the unsubscribe function. */
  onRollout(listener: RolloutListener): () => void;
  /** A paused Deployment's rollout never completes: its status stays behind its generation. */
  setRolloutsPaused(namespace: string, deployment: string, paused: boolean): void;
  /**
   * For the in-process controllers (cert-manager), which write to the store, not over HTTP: the
   * error an injected fault gives this Secret write, as the API server would answer it, if any.
   */
  secretWriteFault(verb: 'create' | 'update', namespace: string, name: string): Error | undefined;
  /** The most Deployments rolling out at once, in the cluster and per namespace, since the start or the last reset. */
  rolloutPeaks(): { cluster: number; namespaces: Record<string, number> };
  resetRolloutPeaks(): void;
  /** When a paused Deployment was asked to roll out and was held back (epoch ms). */
  heldRollouts(namespace: string, deployment: string): readonly number[];
  /** Every authenticated resource request so far (verb, resource, namespace, name), oldest first. */
  requests(): ReadonlyArray<{ verb: string; resource: string; namespace?: string; name?: string }>;
  /** Connections the API server accepted so far (TLS sessions with `tls`). */
  connections(): number;
  close(): Promise<void>;
}

/**
 * Starts an in-memory Kubernetes API server on loopback (DESIGN.md, The sandbox): namespaces,
 * Secrets, ConfigMaps, Pods, apps/v1 Deployments (with rollouts) and cert-manager.io/v1
 * Certificates (with the status subresource), served over the real REST protocol so that
 * @kubernetes/client-node and kubectl run against it unchanged.
 */
export async function startKubernetesEmulator(options: KubernetesEmulatorOptions = {}): Promise<KubernetesEmulatorHandle> {
  const clock = options.clock ?? (() => new Date());
  const token = options.token ?? randomBytes(24).toString('base64url');
  const store = new ObjectStore(clock);
  for (const name of options.namespaces ?? ['default', 'kube-system']) store.create(kindOf('namespaces'), { metadata: { name } });
  const rollouts = new RolloutController(store, options.rolloutDelayMs ?? 50, clock);
  const faults = new KubernetesFaultPlan();
  const host = options.host ?? '127.0.0.1';
  // Loaded only for HTTPS: @peculiar/x509 is the slow part of a start.
  const tls = options.tls ? await (await import('../x509/serving-certificate')).createServingCertificate(host) : undefined;
  const requests: Array<{ verb: string; resource: string; namespace?: string; name?: string }> = [];
  const onRequest = (target: { verb: string; kind: { resource: string }; namespace?: string; name?: string }) =>
    requests.push({ verb: target.verb, resource: target.kind.resource, ...(target.namespace ? { namespace: target.namespace } : {}), ...(target.name ? { name: target.name } : {}) });
  const users = new Map<string, KubernetesUser>([[token, { name: 'kubernetes-admin', groups: [SYSTEM_MASTERS, 'system:authenticated'] }]]);
  const rbac = new RbacAuthorizer();
  const server = await startApiServer({ host, port: options.port ?? 0, users, rbac, store, faults, clock, tls, onRequest });

  return {
    url: server.url,
    token,
    addUser: (name, groups = []) => {
      const userToken = randomBytes(24).toString('base64url');
      users.set(userToken, { name, groups: [...groups, 'system:authenticated'] });
      return userToken;
    },
    applyRbac: (objects) => rbac.apply(objects),
    ...(tls ? { caCertificate: tls.certPem } : {}),
    kubeconfig: (kubeconfigOptions = {}) => renderKubeconfig({ server: server.url, token, namespace: kubeconfigOptions.namespace, names: kubeconfigOptions.contexts, caCertificate: tls?.certPem }),
    store: storeAccess(store),
    faults: {
      inject: (fault) => faults.inject(fault),
      clear: (id) => faults.clear(id),
      active: () => faults.active(),
      firings: (id) => faults.firings(id),
    },
    onRollout: (listener) => rollouts.onRollout(listener),
    setRolloutsPaused: (namespace, deployment, paused) => rollouts.setPaused(namespace, deployment, paused),
    heldRollouts: (namespace, deployment) => rollouts.heldRollouts(namespace, deployment),
    rolloutPeaks: () => rollouts.rolloutPeaks(),
    resetRolloutPeaks: () => rollouts.resetRolloutPeaks(),
    secretWriteFault: (verb, namespace, name) => {
      const decision = faults.take({ type: 'resource', verb, kind: kindOf('secrets'), namespace, name });
      if (!decision.failure) return undefined;
      return decision.failure.kind === 'drop' ? new Error(`the connection to the API server dropped writing Secret ${namespace}/${name}`) : decision.failure.error;
    },
    requests: () => [...requests],
    connections: () => server.connections(),
    async close() {
      rollouts.close();
      await server.close();
    },
  };
}
