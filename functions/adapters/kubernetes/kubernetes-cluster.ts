import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type V1ConfigMap,
  type V1Deployment,
  type V1Secret,
} from '@kubernetes/client-node';

/** undici's Dispatcher, as client-node's RequestContext types it (undici is not a direct dependency). */
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;
import { KubernetesConflictError } from '../../contracts/errors';
import { K8sNames } from '../../contracts/targets';
import { systemClock, type Clock } from '../../ports/clock';
import type { CertificateStatus, Cluster, PodSummary, RolloutStatus, SecretSnapshot, SecretWrite } from '../../ports/cluster';
import { describeRef, httpStatusOf, mapKubernetesError, notFound, type KubernetesObjectRef } from './kubernetes-errors';

/**
 * Where the adapter gets its KubeConfig, asked before every call: an EKS token lives 15 minutes
 * and a stored kubeconfig may be rotated, so the source decides when to hand out a new one. It
 * must return the same instance while nothing changed; the adapter keeps its API clients per
 * instance.
 */
export type KubeConfigSource = () => KubeConfig | Promise<KubeConfig>;

export interface KubernetesClusterOptions {
  /** The cluster's name in config: in every error message and target id. */
  name: string;
  kubeConfig: KubeConfigSource;
  /** The time written into condition transitions. @default systemClock */
  clock?: Clock;
  /**
   * Retries of a write answered 409 (stale resourceVersion, or created meanwhile), each after a
   * fresh read. Five absorbs a controller's burst of status writes; a longer fight means another
   * owner of the object, which a human should see. @default 5
   */
  conflictRetries?: number;
  /** First backoff before a conflict retry, doubled on each retry, jittered, capped at 1 s. @default 25 */
  conflictBackoffMs?: number;
  /**
   * Per-request timeout. A hung API server becomes a retryable KubernetesUnavailableError well
   * within the Lambda's own timeout instead of a killed invocation. @default 10000
   */
  requestTimeoutMs?: number;
  /** Page size of lists (Secrets carry their data, so pages stay small). @default 250 */
  pageSize?: number;
}

/** cert-manager.io/v1 Certificates, reached through the CustomObjectsApi. */
const certificates = { group: 'cert-manager.io', version: 'v1', plural: 'certificates' } as const;

interface CertificateCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** The fields of a Certificate the adapter reads (CustomObjectsApi returns untyped JSON). */
interface CertificateObject {
  metadata?: { name?: string; namespace?: string; generation?: number; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { secretName?: string; dnsNames?: string[] };
  status?: { conditions?: CertificateCondition[]; revision?: number; notAfter?: string };
}

interface CertificateList {
  items?: CertificateObject[];
  metadata?: { continue?: string };
}

/** The condition `cmctl renew` sets; cert-manager's trigger controller starts an issuance on it. */
const ISSUING = 'Issuing';
const MANUALLY_TRIGGERED = 'ManuallyTriggered';

function encodeData(data: Record<string, Buffer>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, value.toString('base64')]));
}

function decodeData(data: Record<string, string> | undefined): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]));
}

function snapshotOf(secret: V1Secret): SecretSnapshot {
  return {
    namespace: secret.metadata?.namespace ?? '',
    name: secret.metadata?.name ?? '',
    type: secret.type ?? 'Opaque',
    data: decodeData(secret.data),
    labels: { ...(secret.metadata?.labels ?? {}) },
    annotations: { ...(secret.metadata?.annotations ?? {}) },
    resourceVersion: secret.metadata?.resourceVersion ?? '',
  };
}

/**
 * Rollout progress as `kubectl rollout status` judges it (kubectl's DeploymentStatusViewer): the
 * controller has seen the latest spec (observedGeneration >= generation), every desired replica
 * runs the new template, no old replica is left, and every one is ready.
 */
export function rolloutOf(deployment: V1Deployment): RolloutStatus {
  const generation = deployment.metadata?.generation ?? 0;
  const observedGeneration = deployment.status?.observedGeneration ?? 0;
  const replicas = deployment.spec?.replicas ?? 1;
  const updatedReplicas = deployment.status?.updatedReplicas ?? 0;
  const readyReplicas = deployment.status?.readyReplicas ?? 0;
  const currentReplicas = deployment.status?.replicas ?? 0;
  const restartedAt = deployment.spec?.template?.metadata?.annotations?.[K8sNames.RestartedAtAnnotation];
  const complete = observedGeneration >= generation && updatedReplicas >= replicas && currentReplicas <= updatedReplicas && readyReplicas >= replicas;
  return { generation, observedGeneration, replicas, updatedReplicas, readyReplicas, ...(restartedAt !== undefined && { restartedAt }), complete };
}

function certificateStatusOf(certificate: CertificateObject): CertificateStatus {
  const conditions = certificate.status?.conditions ?? [];
  const isTrue = (type: string) => conditions.some((condition) => condition.type === type && condition.status === 'True');
  const notAfter = certificate.status?.notAfter;
  return {
    name: certificate.metadata?.name ?? '',
    namespace: certificate.metadata?.namespace ?? '',
    secretName: certificate.spec?.secretName ?? '',
    dnsNames: [...(certificate.spec?.dnsNames ?? [])],
    ready: isTrue('Ready'),
    issuing: isTrue(ISSUING),
    revision: certificate.status?.revision ?? 0,
    ...(notAfter !== undefined && { notAfter }),
  };
}

/** metav1.Time is RFC 3339 with whole seconds. */
function kubernetesTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The conditions after `cmctl renew`: Issuing=True/ManuallyTriggered replaces any Issuing
 * condition and every other condition stays as it is. As cert-manager's SetCertificateCondition
 * does, the transition time moves only when the status changes.
 */
export function withIssuingCondition(conditions: readonly CertificateCondition[], message: string, now: Date, generation: number | undefined): CertificateCondition[] {
  const existing = conditions.find((condition) => condition.type === ISSUING);
  const issuing: CertificateCondition = {
    type: ISSUING,
    status: 'True',
    reason: MANUALLY_TRIGGERED,
    message,
    lastTransitionTime: existing?.status === 'True' && existing.lastTransitionTime ? existing.lastTransitionTime : kubernetesTime(now),
    ...(generation !== undefined && { observedGeneration: generation }),
  };
  return existing ? conditions.map((condition) => (condition.type === ISSUING ? issuing : condition)) : [...conditions, issuing];
}

interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  /**
   * The one connection pool of this KubeConfig. client-node 2.0.x builds a new undici Agent in
   * every request's applySecurityAuthentication (KubeConfig.createDispatcher), so each call would
   * open, handshake and drop its own TLS connection: in AWS a network handshake to the EKS
   * endpoint per call. The first Agent it builds for this KubeConfig is kept and set on every
   * later request (RequestContext.setDispatcher, from a middleware, which runs after the auth);
   * its TLS options (CA, client certificate, proxy) are this KubeConfig's, so nothing else
   * changes. Undefined while no request has run, or when client-node uses undici's global
   * dispatcher (no TLS options), which is already one kept-alive pool.
   */
  pool?: Dispatcher;
}

/**
 * The Cluster port over @kubernetes/client-node 2.x (TOOLCHAIN.md). Every failure leaves as a
 * typed error naming the object (`Secret payments/web-tls`); reads of an absent object return
 * undefined. Writes are create-or-replace with the resourceVersion just read, so a concurrent
 * writer is never overwritten blindly: a 409 re-reads and tries again, within a budget.
 */
export class KubernetesCluster implements Cluster {
  readonly name: string;
  private readonly kubeConfig: KubeConfigSource;
  private readonly clock: Clock;
  private readonly conflictRetries: number;
  private readonly conflictBackoffMs: number;
  private readonly requestTimeoutMs: number;
  private readonly pageSize: number;
  private clients?: Clients;
  private readonly readObjects = new WeakMap<SecretSnapshot, V1Secret>();

  constructor(options: KubernetesClusterOptions) {
    this.name = options.name;
    this.kubeConfig = options.kubeConfig;
    this.clock = options.clock ?? systemClock;
    this.conflictRetries = options.conflictRetries ?? 5;
    this.conflictBackoffMs = options.conflictBackoffMs ?? 25;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.pageSize = options.pageSize ?? 250;
  }

  async readSecret(namespace: string, name: string): Promise<SecretSnapshot | undefined> {
    const secret = await this.getSecret(namespace, name);
    return secret && this.remember(secret);
  }

  /**
   * Creates the Secret, or replaces it with the resourceVersion just read. Labels and annotations,
   * when given, are the complete new sets; when absent the Secret's own are kept. Everything
   * else in its metadata (owner references, finalizers) is kept.
   */
  async writeSecret(secret: SecretWrite, known?: SecretSnapshot): Promise<SecretSnapshot> {
    const ref = this.ref('Secret', 'write', secret.namespace, secret.name);
    const data = encodeData(secret.data);
    // The object behind a snapshot this adapter handed out, when it is of this very Secret: the
    // first attempt writes against it instead of reading it again; a 409 re-reads as always.
    let reuse = known && known.namespace === secret.namespace && known.name === secret.name ? this.readObjects.get(known) : undefined;
    return this.retryingConflicts(ref, async () => {
      const { core } = await this.api();
      const current = reuse ?? (await this.getSecret(secret.namespace, secret.name));
      reuse = undefined;
      if (current === undefined) {
        return this.remember(await core.createNamespacedSecret({ namespace: secret.namespace, body: this.newSecretBody(secret, data) }, this.options()));
      }
      const { stringData: _stringData, ...rest } = current;
      const body: V1Secret = {
        ...rest,
        type: secret.type,
        data,
        metadata: {
          ...current.metadata,
          labels: secret.labels ?? current.metadata?.labels,
          annotations: secret.annotations ?? current.metadata?.annotations,
        },
      };
      return this.remember(await core.replaceNamespacedSecret({ namespace: secret.namespace, name: secret.name, body }, this.options()));
    });
  }

  /** A create answered 409 AlreadyExists means the Secret is there: left untouched, reported `exists`. */
  async createSecret(secret: SecretWrite): Promise<'created' | 'exists'> {
    const ref = this.ref('Secret', 'create', secret.namespace, secret.name);
    try {
      const { core } = await this.api();
      await core.createNamespacedSecret({ namespace: secret.namespace, body: this.newSecretBody(secret, encodeData(secret.data)) }, this.options());
      return 'created';
    } catch (error) {
      if (httpStatusOf(error) === 409) return 'exists';
      throw mapKubernetesError(error, ref);
    }
  }

  private newSecretBody(secret: SecretWrite, data: Record<string, string>): V1Secret {
    return {
      metadata: { name: secret.name, namespace: secret.namespace, ...(secret.labels && { labels: secret.labels }), ...(secret.annotations && { annotations: secret.annotations }) },
      type: secret.type,
      data,
    };
  }

  /**
   * The snapshot of a Secret read or written, remembering the object it came from (weakly: it
   * goes with the snapshot) so that writeSecret can write against it without a second read.
   */
  private remember(secret: V1Secret): SecretSnapshot {
    const snapshot = snapshotOf(secret);
    this.readObjects.set(snapshot, secret);
    return snapshot;
  }

  /** Deleting a Secret that is already gone succeeds: the end state is the same (I4). */
  async deleteSecret(namespace: string, name: string): Promise<void> {
    const ref = this.ref('Secret', 'delete', namespace, name);
    try {
      const { core } = await this.api();
      await core.deleteNamespacedSecret({ namespace, name }, this.options());
    } catch (error) {
      if (httpStatusOf(error) === 404) return;
      throw mapKubernetesError(error, ref);
    }
  }

  async listPods(namespace: string, labelSelector: string): Promise<PodSummary[]> {
    const ref = this.ref('Pod', 'list', namespace);
    const pods: PodSummary[] = [];
    let page: string | undefined;
    try {
      do {
        const { core } = await this.api();
        const list = await core.listNamespacedPod({ namespace, labelSelector: labelSelector || undefined, limit: this.pageSize, _continue: page }, this.options());
        for (const pod of list.items) {
          const owner = (pod.metadata?.ownerReferences ?? []).find((reference) => reference.controller && reference.kind === 'StatefulSet');
          pods.push({
            name: pod.metadata?.name ?? '',
            namespace,
            phase: pod.status?.phase ?? '',
            ready: (pod.status?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True'),
            ...(pod.status?.podIP ? { podIp: pod.status.podIP } : {}),
            ...(owner ? { ownerStatefulSet: owner.name } : {}),
            ports: (pod.spec?.containers ?? []).flatMap((container) => (container.ports ?? []).filter((port) => port.name).map((port) => ({ name: port.name!, port: port.containerPort }))),
          });
        }
        page = list.metadata?._continue || undefined;
      } while (page !== undefined);
    } catch (error) {
      throw mapKubernetesError(error, ref);
    }
    return pods;
  }

  async listSecrets(namespace: string | undefined, labelSelector: string): Promise<SecretSnapshot[]> {
    const ref = this.ref('Secret', 'list', namespace);
    const secrets: SecretSnapshot[] = [];
    let page: string | undefined;
    try {
      do {
        const { core } = await this.api();
        const query = { labelSelector: labelSelector || undefined, limit: this.pageSize, _continue: page };
        const list = namespace === undefined ? await core.listSecretForAllNamespaces(query, this.options()) : await core.listNamespacedSecret({ namespace, ...query }, this.options());
        // List items carry no kind; a replace built from one sends it as a GET's object would.
        secrets.push(...list.items.map((item) => this.remember({ apiVersion: 'v1', kind: 'Secret', ...item })));
        page = list.metadata?._continue || undefined;
      } while (page !== undefined);
    } catch (error) {
      throw mapKubernetesError(error, ref);
    }
    return secrets;
  }

  async readConfigMap(namespace: string, name: string): Promise<{ data: Record<string, string>; resourceVersion: string } | undefined> {
    const configMap = await this.getConfigMap(namespace, name);
    return configMap && { data: { ...(configMap.data ?? {}) }, resourceVersion: configMap.metadata?.resourceVersion ?? '' };
  }

  /** Creates or replaces the ConfigMap's `data` (binaryData is kept); labels as for Secrets. */
  async writeConfigMap(namespace: string, name: string, data: Record<string, string>, labels?: Record<string, string>): Promise<void> {
    const ref = this.ref('ConfigMap', 'write', namespace, name);
    await this.retryingConflicts(ref, async () => {
      const { core } = await this.api();
      const current = await this.getConfigMap(namespace, name);
      if (current === undefined) {
        await core.createNamespacedConfigMap({ namespace, body: { metadata: { name, namespace, ...(labels && { labels }) }, data } }, this.options());
        return;
      }
      const body: V1ConfigMap = { ...current, data, metadata: { ...current.metadata, labels: labels ?? current.metadata?.labels } };
      await core.replaceNamespacedConfigMap({ namespace, name, body }, this.options());
    });
  }

  /**
   * What `kubectl rollout restart` does: a merge patch of the pod template's restartedAt
   * annotation, which bumps the generation and starts a rollout. Restarting again with the same
   * `at` changes nothing (no new rollout), so a retried step does not restart twice.
   */
  async restartDeployment(namespace: string, name: string, at: Date): Promise<RolloutStatus> {
    const ref = this.ref('Deployment', 'restart', namespace, name);
    const body = { spec: { template: { metadata: { annotations: { [K8sNames.RestartedAtAnnotation]: at.toISOString() } } } } };
    try {
      const { apps } = await this.api();
      return rolloutOf(await apps.patchNamespacedDeployment({ namespace, name, body }, this.mergePatch()));
    } catch (error) {
      throw mapKubernetesError(error, ref);
    }
  }

  async rolloutStatus(namespace: string, name: string): Promise<RolloutStatus> {
    const ref = this.ref('Deployment', 'read', namespace, name);
    try {
      const { apps } = await this.api();
      return rolloutOf(await apps.readNamespacedDeployment({ namespace, name }, this.options()));
    } catch (error) {
      throw mapKubernetesError(error, ref);
    }
  }

  async listCertificates(namespace: string | undefined, labelSelector: string): Promise<Array<CertificateStatus & { labels: Record<string, string>; annotations: Record<string, string> }>> {
    const ref = this.ref('Certificate', 'list', namespace);
    const found: Array<CertificateStatus & { labels: Record<string, string>; annotations: Record<string, string> }> = [];
    let page: string | undefined;
    try {
      do {
        const { custom } = await this.api();
        const query = { ...certificates, labelSelector: labelSelector || undefined, limit: this.pageSize, _continue: page };
        const list = (
          namespace === undefined ? await custom.listClusterCustomObject(query, this.options()) : await custom.listNamespacedCustomObject({ ...query, namespace }, this.options())
        ) as CertificateList;
        for (const item of list.items ?? []) {
          found.push({ ...certificateStatusOf(item), labels: { ...(item.metadata?.labels ?? {}) }, annotations: { ...(item.metadata?.annotations ?? {}) } });
        }
        page = list.metadata?.continue || undefined;
      } while (page !== undefined);
    } catch (error) {
      throw mapKubernetesError(error, ref);
    }
    return found;
  }

  async readCertificate(namespace: string, name: string): Promise<CertificateStatus | undefined> {
    const certificate = await this.getCertificate(namespace, name);
    return certificate && certificateStatusOf(certificate);
  }

  /**
   * The `cmctl renew` contract: the status subresource gets Issuing=True with reason
   * ManuallyTriggered, every other condition kept. `conditions` is a list, which a merge patch
   * replaces whole, so the full list is built from a fresh read and sent with that read's
   * resourceVersion as a precondition: a controller's concurrent status write is a 409 and a
   * re-read, never lost.
   */
  async requestCertificateRenewal(namespace: string, name: string, message: string): Promise<void> {
    const ref = this.ref('Certificate', 'renew', namespace, name);
    await this.retryingConflicts(ref, async () => {
      const { custom } = await this.api();
      const current = await this.getCertificate(namespace, name);
      if (current === undefined) throw notFound(ref);
      const conditions = withIssuingCondition(current.status?.conditions ?? [], message, this.clock.now(), current.metadata?.generation);
      const body = { metadata: { resourceVersion: current.metadata?.resourceVersion }, status: { conditions } };
      await custom.patchNamespacedCustomObjectStatus({ ...certificates, namespace, name, body }, this.mergePatch());
    });
  }

  async cancelCertificateRenewal(namespace: string, name: string): Promise<boolean> {
    const ref = this.ref('Certificate', 'cancel renewal', namespace, name);
    return this.retryingConflicts(ref, async () => {
      const { custom } = await this.api();
      const current = await this.getCertificate(namespace, name);
      if (current === undefined) return false;
      const conditions = current.status?.conditions ?? [];
      if (!conditions.some((condition) => condition.type === ISSUING)) return false;
      // Merge patch replaces the whole list: the conditions without Issuing.
      const body = { metadata: { resourceVersion: current.metadata?.resourceVersion }, status: { conditions: conditions.filter((condition) => condition.type !== ISSUING) } };
      await custom.patchNamespacedCustomObjectStatus({ ...certificates, namespace, name, body }, this.mergePatch());
      return true;
    });
  }

  private ref(kind: string, operation: string, namespace?: string, name?: string): KubernetesObjectRef {
    return { cluster: this.name, kind, operation, ...(namespace !== undefined && { namespace }), ...(name !== undefined && { name }) };
  }

  /**
   * API clients for the current KubeConfig; rebuilt only when the source hands out a new one (an
   * EKS token every ten minutes), whose pool then replaces the old one. The old pool is closed
   * gracefully: requests in flight on it finish first.
   */
  private async api(): Promise<Clients> {
    const kc = await this.kubeConfig();
    if (this.clients?.kc !== kc) {
      const previous = this.clients?.pool;
      this.clients = { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
      previous?.close().catch(() => undefined);
    }
    return this.clients;
  }

  /** Per-call options: a fresh timeout signal on every request, and the KubeConfig's one pool. */
  private options(): ConfigurationOptions<ObservableMiddleware> {
    const timeoutMs = this.requestTimeoutMs;
    const clients = this.clients;
    const timeout: ObservableMiddleware = {
      pre: (context: RequestContext) => {
        context.setSignal(AbortSignal.timeout(timeoutMs));
        if (clients) {
          const built = context.getDispatcher();
          if (clients.pool === undefined) clients.pool = built;
          else if (built !== clients.pool) {
            context.setDispatcher(clients.pool);
            // The Agent client-node just built has no connection yet; closing it frees nothing but its handle.
            built?.close().catch(() => undefined);
          }
        }
        return new Observable(Promise.resolve(context));
      },
      post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
    };
    return { middleware: [timeout], middlewareMergeStrategy: 'append' };
  }

  /** Without the header client-node sends JSON Patch, and a merge-style body gets 415 (TOOLCHAIN.md). */
  private mergePatch(): ConfigurationOptions<ObservableMiddleware> {
    return setHeaderOptions('Content-Type', PatchStrategy.MergePatch, this.options());
  }

  private async getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return this.readOrUndefined(this.ref('Secret', 'read', namespace, name), async () => (await this.api()).core.readNamespacedSecret({ namespace, name }, this.options()));
  }

  private async getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    return this.readOrUndefined(this.ref('ConfigMap', 'read', namespace, name), async () => (await this.api()).core.readNamespacedConfigMap({ namespace, name }, this.options()));
  }

  private async getCertificate(namespace: string, name: string): Promise<CertificateObject | undefined> {
    return this.readOrUndefined(
      this.ref('Certificate', 'read', namespace, name),
      async () => (await (await this.api()).custom.getNamespacedCustomObject({ ...certificates, namespace, name }, this.options())) as CertificateObject,
    );
  }

  private async readOrUndefined<T>(ref: KubernetesObjectRef, read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw mapKubernetesError(error, ref);
    }
  }

  /**
   * Runs a read-then-write attempt again after a 409 (a stale resourceVersion, or an object
   * created since the read), with a jittered, doubling pause so that two writers do not collide
   * in lockstep. Past the budget the conflict is a KubernetesConflictError naming the object.
   */
  private async retryingConflicts<T>(ref: KubernetesObjectRef, attempt: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt();
      } catch (error) {
        if (httpStatusOf(error) !== 409) throw mapKubernetesError(error, ref);
        if (retry >= this.conflictRetries) {
          throw new KubernetesConflictError(
            `${ref.operation} ${describeRef(ref)} in cluster ${this.name}: still conflicting (409) after ${retry + 1} attempts, each after a fresh read; another writer keeps changing it`,
            { cause: error, details: { cluster: this.name, kind: ref.kind, namespace: ref.namespace, name: ref.name, operation: ref.operation, status: 409, attempts: retry + 1 } },
          );
        }
        const ceiling = Math.min(1000, this.conflictBackoffMs * 2 ** retry);
        await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
      }
    }
  }
}
