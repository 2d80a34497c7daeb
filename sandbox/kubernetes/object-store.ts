import { randomUUID } from 'node:crypto';
import { alreadyExists, badRequest, conflict, invalid, KubernetesApiError, notFound } from './api-status';
import { fieldsMatch, type FieldRequirement } from './field-selector';
import type { KubeObject, ResourceName } from './kube-objects';
import { cloneJson, jsonEqual } from './json-values';
import { labelsMatch, type LabelSelector } from './label-selector';
import { applyDefaults } from './object-defaults';
import { nextGeneration } from './object-strategy';
import { validateObject } from './object-validation';
import { kindOf, type ResourceKind } from './resource-kinds';

/**
 * The emulator's etcd: every object by kind, namespace and name, a global resourceVersion bumped
 * on every write, and the system fields the API server owns (uid, creationTimestamp, generation).
 * Every write is defaulted and validated, so nothing invalid is ever stored, whoever writes it.
 * Objects go in and come out as deep copies: callers never hold the stored ones.
 */

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreChange {
  readonly type: ChangeType;
  readonly kind: ResourceKind;
  /** The object after the change (before it, for DELETED). */
  readonly object: KubeObject;
  readonly previous?: KubeObject;
}

export type ChangeListener = (change: StoreChange) => void;

/**
 * Which changes a listener wants: one resource, optionally one namespace and name. A service
 * endpoint watches its one Secret; without an interest a listener hears every change, and with N
 * endpoints every write would call N listeners (the sandbox's O(n^2)).
 */
export interface ChangeInterest {
  readonly resource?: ResourceName;
  readonly namespace?: string;
  readonly name?: string;
}

export interface ListFilter {
  /** Only this namespace; every namespace when absent. */
  readonly namespace?: string;
  readonly labels?: LabelSelector;
  readonly fields?: readonly FieldRequirement[];
}

export interface UpdateOptions {
  /**
   * Apply the kind's rule on updates without `metadata.resourceVersion` (custom resources refuse
   * them with 422). Requests through the API do; direct writes by tests and controllers do not.
   */
  readonly enforceConditionalUpdate?: boolean;
}

export interface DeletePreconditions {
  readonly uid?: string;
  readonly resourceVersion?: string;
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// Suffix alphabet of names.SimpleNameGenerator: no vowels, no look-alike digits.
const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function keyOf(kind: ResourceKind, namespace: string | undefined, name: string): string {
  return `${kind.resource}/${kind.namespaced ? (namespace ?? '') : ''}/${name}`;
}

function bucketOf(kind: ResourceKind, namespace: string | undefined): string {
  return `${kind.resource}/${kind.namespaced ? (namespace ?? '') : ''}`;
}

export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  /**
   * The same objects by resource and namespace (`secrets/payments` -> name -> object), so that a
   * list reads one namespace's objects instead of scanning, sorting and filtering all of them.
   */
  private readonly buckets = new Map<string, Map<string, KubeObject>>();
  /** The namespaces holding objects of each resource, for lists across namespaces. */
  private readonly namespacesOf = new Map<string, Set<string>>();
  /** Listeners by interest: `''` every change, `secrets` one resource, `secrets/ns/name` one object. */
  private readonly listeners = new Map<string, Set<ChangeListener>>();
  private revision = 0;

  constructor(private readonly clock: () => Date) {}

  /** The current global resourceVersion (what a list's `metadata.resourceVersion` says). */
  resourceVersion(): string {
    return String(this.revision);
  }

  get(kind: ResourceKind, namespace: string | undefined, name: string): KubeObject | undefined {
    const stored = this.objects.get(keyOf(kind, namespace, name));
    return stored === undefined ? undefined : cloneJson(stored);
  }

  /** Like {@link get}, but a missing object is the API server's 404. */
  require(kind: ResourceKind, namespace: string | undefined, name: string): KubeObject {
    const object = this.get(kind, namespace, name);
    if (object === undefined) throw notFound(kind, name);
    return object;
  }

  /** Matching objects sorted by namespace, then name (etcd key order). */
  list(kind: ResourceKind, filter: ListFilter = {}): KubeObject[] {
    const namespaces = !kind.namespaced ? [''] : filter.namespace !== undefined ? [filter.namespace] : [...(this.namespacesOf.get(kind.resource) ?? [])].sort((a, b) => byKey(`${a}/`, `${b}/`)); // etcd key order: `ns/name`
    const found: KubeObject[] = [];
    for (const namespace of namespaces) {
      const bucket = this.buckets.get(`${kind.resource}/${namespace}`);
      if (!bucket) continue;
      for (const name of [...bucket.keys()].sort(byKey)) {
        const object = bucket.get(name)!;
        if (!labelsMatch(filter.labels ?? [], object.metadata.labels)) continue;
        if (!fieldsMatch(kind.resource, filter.fields ?? [], object)) continue;
        found.push(cloneJson(object));
      }
    }
    return found;
  }

  create(kind: ResourceKind, input: KubeObject): KubeObject {
    const object = cloneJson(input);
    if (!object.metadata || typeof object.metadata !== 'object') object.metadata = {};
    const namespace = kind.namespaced ? object.metadata.namespace : undefined;
    if (kind.namespaced) {
      if (!namespace) throw badRequest('an empty namespace may not be set during creation');
      // NamespaceLifecycle admission runs before validation: a missing namespace is a 404 first.
      if (!this.objects.has(keyOf(kindOf('namespaces'), undefined, namespace))) throw notFound(kindOf('namespaces'), namespace);
    } else {
      delete object.metadata.namespace;
    }
    if (!object.metadata.name && object.metadata.generateName) object.metadata.name = this.generateName(kind, namespace, object.metadata.generateName);
    if (object.metadata.resourceVersion) {
      // storage.ErrResourceVersionSetOnCreate: a 500 without a reason, exactly as the API server answers.
      throw new KubernetesApiError(500, undefined, 'resourceVersion should not be set on objects to be created');
    }
    applyDefaults(kind, object);
    validateObject(kind, object);
    const name = object.metadata.name!;
    const key = keyOf(kind, namespace, name);
    if (this.objects.has(key)) throw alreadyExists(kind, name);

    object.metadata.uid = randomUUID();
    object.metadata.creationTimestamp = this.timestamp();
    const generation = nextGeneration(kind, object, undefined);
    if (generation === undefined) delete object.metadata.generation;
    else object.metadata.generation = generation;
    delete object.metadata.deletionTimestamp;
    object.metadata.resourceVersion = this.bump();
    this.put(kind, namespace, name, object);
    this.emit('ADDED', kind, object);
    return cloneJson(object);
  }

  /**
   * Replaces a stored object (found by the input's namespace and name). A given
   * `metadata.resourceVersion` must be the stored one (409 Conflict otherwise). A write that
   * changes nothing is not a write: no new resourceVersion, no event, as in the API server.
   */
  update(kind: ResourceKind, input: KubeObject, options: UpdateOptions = {}): KubeObject {
    const name = input.metadata?.name ?? '';
    const namespace = kind.namespaced ? input.metadata?.namespace : undefined;
    const old = this.objects.get(keyOf(kind, namespace, name));
    if (old === undefined) throw notFound(kind, name);
    const expected = input.metadata.resourceVersion;
    if (expected === undefined || expected === '') {
      if (options.enforceConditionalUpdate && kind.custom) {
        throw invalid(kind.kind, kind.group, name, [
          { type: 'FieldValueInvalid', field: 'metadata.resourceVersion', detail: 'Invalid value: 0x0: must be specified for an update' },
        ]);
      }
    } else if (expected !== old.metadata.resourceVersion) {
      throw conflict(kind, name);
    }

    const object = cloneJson(input);
    // Server-owned fields survive any update (rest.BeforeUpdate and FillObjectMetaSystemFields).
    object.metadata.uid = old.metadata.uid;
    object.metadata.creationTimestamp = old.metadata.creationTimestamp;
    if (kind.namespaced) object.metadata.namespace = old.metadata.namespace;
    else delete object.metadata.namespace;
    applyDefaults(kind, object);
    validateObject(kind, object, old);
    const generation = nextGeneration(kind, object, old);
    if (generation === undefined) delete object.metadata.generation;
    else object.metadata.generation = generation;

    object.metadata.resourceVersion = old.metadata.resourceVersion;
    if (jsonEqual(object, old)) return cloneJson(old);
    object.metadata.resourceVersion = this.bump();
    this.put(kind, namespace, name, object);
    this.emit('MODIFIED', kind, object, old);
    return cloneJson(object);
  }

  /** Removes an object; deleting a namespace removes everything in it first. Returns the deleted object. */
  delete(kind: ResourceKind, namespace: string | undefined, name: string, preconditions: DeletePreconditions = {}): KubeObject {
    const key = keyOf(kind, namespace, name);
    const old = this.objects.get(key);
    if (old === undefined) throw notFound(kind, name);
    if (preconditions.uid !== undefined && preconditions.uid !== old.metadata.uid) {
      throw conflict(kind, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(
        kind,
        name,
        `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    }
    if (kind.resource === 'namespaces') this.deleteContentsOf(name);
    this.remove(kind, namespace, name);
    this.bump();
    this.emit('DELETED', kind, old);
    return cloneJson(old);
  }

  /** Called synchronously after every write it is interested in; returns the unsubscribe function. */
  onChange(listener: ChangeListener, interest: ChangeInterest = {}): () => void {
    const key = interest.resource === undefined ? '' : interest.name === undefined ? interest.resource : `${interest.resource}/${interest.namespace ?? ''}/${interest.name}`;
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  private put(kind: ResourceKind, namespace: string | undefined, name: string, object: KubeObject): void {
    this.objects.set(keyOf(kind, namespace, name), object);
    const bucketKey = bucketOf(kind, namespace);
    let bucket = this.buckets.get(bucketKey);
    if (!bucket) {
      this.buckets.set(bucketKey, (bucket = new Map()));
      let namespaces = this.namespacesOf.get(kind.resource);
      if (!namespaces) this.namespacesOf.set(kind.resource, (namespaces = new Set()));
      namespaces.add(kind.namespaced ? (namespace ?? '') : '');
    }
    bucket.set(name, object);
  }

  private remove(kind: ResourceKind, namespace: string | undefined, name: string): void {
    this.objects.delete(keyOf(kind, namespace, name));
    const bucketKey = bucketOf(kind, namespace);
    const bucket = this.buckets.get(bucketKey);
    if (!bucket) return;
    bucket.delete(name);
    if (bucket.size === 0) {
      this.buckets.delete(bucketKey);
      this.namespacesOf.get(kind.resource)?.delete(kind.namespaced ? (namespace ?? '') : '');
    }
  }

  private deleteContentsOf(namespace: string): void {
    for (const [resource, namespaces] of [...this.namespacesOf.entries()]) {
      if (resource === 'namespaces' || !namespaces.has(namespace)) continue;
      const kind = kindOf(resource as ResourceName);
      const bucket = this.buckets.get(`${resource}/${namespace}`);
      for (const [name, object] of [...(bucket?.entries() ?? [])]) {
        this.remove(kind, namespace, name);
        this.emit('DELETED', kind, object);
      }
    }
  }

  private generateName(kind: ResourceKind, namespace: string | undefined, prefix: string): string {
    for (;;) {
      let suffix = '';
      for (let index = 0; index < 5; index += 1) suffix += GENERATE_NAME_ALPHABET[Math.floor(Math.random() * GENERATE_NAME_ALPHABET.length)];
      const name = `${prefix}${suffix}`;
      if (!this.objects.has(keyOf(kind, namespace, name))) return name;
    }
  }

  private bump(): string {
    this.revision += 1;
    return String(this.revision);
  }

  /** RFC 3339 in whole seconds, as metav1.Time serializes. */
  private timestamp(): string {
    return this.clock().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** Copies go only to interested listeners, made once per change and only when someone listens. */
  private emit(type: ChangeType, kind: ResourceKind, object: KubeObject, previous?: KubeObject): void {
    const namespace = kind.namespaced ? (object.metadata.namespace ?? '') : '';
    const interested = [
      ...(this.listeners.get('') ?? []),
      ...(this.listeners.get(kind.resource) ?? []),
      ...(this.listeners.get(`${kind.resource}/${namespace}/${object.metadata.name ?? ''}`) ?? []),
    ];
    if (interested.length === 0) return;
    const change: StoreChange = { type, kind, object: cloneJson(object), ...(previous ? { previous: cloneJson(previous) } : {}) };
    for (const listener of interested) {
      try {
        listener(change);
      } catch (error) {
        // A broken listener must not undo or hide a committed write; make it loud instead.
        process.emitWarning(`kubernetes emulator: a change listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
