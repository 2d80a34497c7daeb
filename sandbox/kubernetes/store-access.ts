import type { ObjectKey, ResourceName, ResourceTypes } from './kube-objects';
import { parseFieldSelector } from './field-selector';
import { parseLabelSelector } from './label-selector';
import type { ChangeType, ObjectStore } from './object-store';
import { kindOf } from './resource-kinds';

/**
 * Typed, direct access to the emulator's objects for tests, seeding and sandbox controllers: no
 * HTTP, no token, no faults, and no status-subresource rules (a direct write sets `status` as a
 * controller would). Defaulting, validation, resourceVersion checks and generation still apply,
 * and errors are the same `KubernetesApiError`s the API answers with.
 */
export interface KubernetesStore {
  /** Creates an object; namespaced ones name their namespace in `metadata.namespace`. */
  create<R extends ResourceName>(resource: R, object: ResourceTypes[R]): ResourceTypes[R];
  get<R extends ResourceName>(resource: R, key: ObjectKey): ResourceTypes[R] | undefined;
  /** Sorted by namespace and name; selectors use the API's syntax (`app=web,tier!=db`). */
  list<R extends ResourceName>(resource: R, options?: { namespace?: string; labelSelector?: string; fieldSelector?: string }): ResourceTypes[R][];
  /** Replaces an object, status included; a `metadata.resourceVersion`, when given, must be current. */
  update<R extends ResourceName>(resource: R, object: ResourceTypes[R]): ResourceTypes[R];
  /** Reads, changes and writes back in one step (no conflict is possible). */
  mutate<R extends ResourceName>(resource: R, key: ObjectKey, change: (object: ResourceTypes[R]) => void): ResourceTypes[R];
  /** Returns false when there was nothing to delete. */
  delete(resource: ResourceName, key: ObjectKey): boolean;
  /** The global resourceVersion now. */
  resourceVersion(): string;
  /**
   * Called synchronously after every write, whoever made it, or only those of one resource (and
   * one object, with `namespace` and `name`); returns the unsubscribe function.
   */
  onChange(
    listener: (change: { type: ChangeType; resource: ResourceName; object: ResourceTypes[ResourceName] }) => void,
    interest?: { resource?: ResourceName; namespace?: string; name?: string },
  ): () => void;
}

export function storeAccess(store: ObjectStore): KubernetesStore {
  return {
    create: (resource, object) => store.create(kindOf(resource), object) as never,
    get: (resource, key) => store.get(kindOf(resource), key.namespace, key.name) as never,
    list(resource, options = {}) {
      return store.list(kindOf(resource), {
        namespace: options.namespace,
        labels: options.labelSelector === undefined ? undefined : parseLabelSelector(options.labelSelector),
        fields: options.fieldSelector === undefined ? undefined : parseFieldSelector(resource, options.fieldSelector),
      }) as never;
    },
    update: (resource, object) => store.update(kindOf(resource), object) as never,
    mutate(resource, key, change) {
      const kind = kindOf(resource);
      const object = store.require(kind, key.namespace, key.name);
      change(object as never);
      return store.update(kind, object) as never;
    },
    delete(resource, key) {
      const kind = kindOf(resource);
      if (store.get(kind, key.namespace, key.name) === undefined) return false;
      store.delete(kind, key.namespace, key.name);
      return true;
    },
    resourceVersion: () => store.resourceVersion(),
    onChange: (listener, interest) => store.onChange((change) => listener({ type: change.type, resource: change.kind.resource, object: change.object as never }), interest),
  };
}
