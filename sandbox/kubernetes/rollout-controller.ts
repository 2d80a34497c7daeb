import type { DeploymentObject, DeploymentStatus } from './kube-objects';
import { jsonEqual } from './json-values';
import type { ObjectStore, StoreChange } from './object-store';
import { kindOf } from './resource-kinds';

/**
 * The part of the deployment controller the sandbox needs. A Deployment whose generation is ahead
 * of `status.observedGeneration` (created, or its spec changed) is rolled out after a delay: the
 * status catches up (observedGeneration, replicas, updated/ready/available replicas, conditions)
 * and, when the pod template changed, listeners hear about it; that is how the sandbox's service
 * endpoints know to reload their certificate after `kubectl rollout restart`. A paused rollout
 * never completes, for tests of a rollout that hangs. No ReplicaSets or Pods are made.
 */

export interface RolloutEvent {
  readonly namespace: string;
  readonly deployment: string;
  /** The generation now rolled out (= status.observedGeneration). */
  readonly generation: number;
  /** The template's `kubectl.kubernetes.io/restartedAt` annotation, when set. */
  readonly restartedAt?: string;
}

export type RolloutListener = (event: RolloutEvent) => void;

export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

const deployments = kindOf('deployments');

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function isBehind(deployment: DeploymentObject): boolean {
  return (deployment.metadata.generation ?? 0) > (deployment.status?.observedGeneration ?? 0);
}

/** Zero counts are left out, as the API serializes them (omitempty). */
function completedStatus(deployment: DeploymentObject, now: string): DeploymentStatus {
  const replicas = deployment.spec.replicas ?? 1;
  const counts = replicas > 0 ? { replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas } : {};
  return {
    ...(deployment.status ?? {}),
    observedGeneration: deployment.metadata.generation,
    ...counts,
    conditions: [
      { type: 'Available', status: 'True', lastUpdateTime: now, lastTransitionTime: now, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
      {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: now,
        lastTransitionTime: now,
        reason: 'NewReplicaSetAvailable',
        message: `ReplicaSet "${deployment.metadata.name}" has successfully progressed.`,
      },
    ],
  };
}

export class RolloutController {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly paused = new Set<string>();
  private readonly held = new Map<string, number[]>();
  /** The generation last held back per deployment: one firing per rollout asked for. */
  private readonly heldGenerations = new Map<string, number>();
  private readonly listeners = new Set<RolloutListener>();
  /** The pod template last rolled out, per deployment: a scale alone is not a rollout. */
  private readonly rolledOutTemplates = new Map<string, unknown>();
  private readonly unsubscribe: () => void;
  /** Deployments whose rollout is under way (generation ahead of observedGeneration), for the peak counts. */
  private readonly inProgress = new Set<string>();
  private peakAll = 0;
  private readonly peakByNamespace = new Map<string, number>();

  constructor(
    private readonly store: ObjectStore,
    private readonly delayMs: number,
    private readonly clock: () => Date,
  ) {
    this.unsubscribe = store.onChange((change) => this.observe(change), { resource: 'deployments' });
  }

  onRollout(listener: RolloutListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** When a paused deployment was asked to roll out and held back (epoch ms): a fault that fired. */
  heldRollouts(namespace: string, name: string): readonly number[] {
    return this.held.get(keyOf(namespace, name)) ?? [];
  }

  /**
   * The most Deployments that were rolling out at the same moment since the start (or the last
   * reset), in the whole cluster and per namespace: what a rollout budget must keep down.
   */
  rolloutPeaks(): { cluster: number; namespaces: Record<string, number> } {
    return { cluster: this.peakAll, namespaces: Object.fromEntries(this.peakByNamespace) };
  }

  resetRolloutPeaks(): void {
    this.peakAll = this.inProgress.size;
    this.peakByNamespace.clear();
    for (const key of this.inProgress) this.notePeak(key.split('/')[0] ?? '');
  }

  private track(key: string, namespace: string, behind: boolean): void {
    if (!behind) {
      this.inProgress.delete(key);
      return;
    }
    if (this.inProgress.has(key)) return;
    this.inProgress.add(key);
    this.peakAll = Math.max(this.peakAll, this.inProgress.size);
    this.notePeak(namespace);
  }

  private notePeak(namespace: string): void {
    const inNamespace = [...this.inProgress].filter((key) => key.startsWith(`${namespace}/`)).length;
    this.peakByNamespace.set(namespace, Math.max(this.peakByNamespace.get(namespace) ?? 0, inNamespace));
  }

  setPaused(namespace: string, name: string, paused: boolean): void {
    const key = keyOf(namespace, name);
    if (paused) {
      this.paused.add(key);
      this.cancel(key);
      return;
    }
    this.paused.delete(key);
    const deployment = this.store.get(deployments, namespace, name) as DeploymentObject | undefined;
    if (deployment && isBehind(deployment)) this.schedule(key, namespace, name);
  }

  close(): void {
    this.unsubscribe();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.listeners.clear();
  }

  private observe(change: StoreChange): void {
    if (change.kind.resource !== 'deployments') return;
    const deployment = change.object as DeploymentObject;
    const namespace = deployment.metadata.namespace ?? '';
    const name = deployment.metadata.name ?? '';
    const key = keyOf(namespace, name);
    this.track(key, namespace, change.type !== 'DELETED' && isBehind(deployment));
    if (change.type === 'DELETED') {
      this.cancel(key);
      this.rolledOutTemplates.delete(key);
      return;
    }
    if (!isBehind(deployment)) {
      // Seeded already rolled out (status written directly): that template is the current one.
      if (!this.rolledOutTemplates.has(key)) this.rolledOutTemplates.set(key, deployment.spec.template);
      return;
    }
    if (this.paused.has(key)) {
      const generation = deployment.metadata.generation ?? 0;
      if (this.heldGenerations.get(key) !== generation) {
        this.heldGenerations.set(key, generation);
        this.held.set(key, [...this.heldRollouts(namespace, name), Date.now()]);
      }
      return;
    }
    // A timer already pending rolls out whatever generation is current when it fires.
    if (!this.timers.has(key)) this.schedule(key, namespace, name);
  }

  private schedule(key: string, namespace: string, name: string): void {
    this.cancel(key);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.complete(key, namespace, name);
      }, this.delayMs),
    );
  }

  private cancel(key: string): void {
    const timer = this.timers.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(key);
  }

  private complete(key: string, namespace: string, name: string): void {
    if (this.paused.has(key)) return;
    const deployment = this.store.get(deployments, namespace, name) as DeploymentObject | undefined;
    if (!deployment || !isBehind(deployment)) return;
    const template = deployment.spec.template;
    // Decided before the status write, whose change notification records the template as rolled out.
    const templateChanged = !this.rolledOutTemplates.has(key) || !jsonEqual(this.rolledOutTemplates.get(key), template);
    this.rolledOutTemplates.set(key, template);
    const now = this.clock().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const updated = this.store.update(deployments, { ...deployment, status: completedStatus(deployment, now) }) as DeploymentObject;
    if (!templateChanged) return;
    const restartedAt = template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION];
    const event: RolloutEvent = { namespace, deployment: name, generation: updated.metadata.generation ?? 0, ...(restartedAt === undefined ? {} : { restartedAt }) };
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`kubernetes emulator: a rollout listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
