// The informer's local copy of a resource, indexed by namespace, read by
// reconcilers instead of the API server.
import type { KubeObject } from './kube-object.js';
import { matchesLabelSelector, type LabelSelector } from './label-selector.js';
import { objectKey } from './resource-type.js';

export interface CacheQuery {
  namespace?: string;
  labelSelector?: LabelSelector;
}

/** Read side of a cache; what reconcilers get. */
export interface ObjectReader<T extends KubeObject> {
  get(name: string, namespace?: string): T | undefined;
  getByKey(key: string): T | undefined;
  list(query?: CacheQuery): T[];
  keys(): string[];
}

export class ObjectCache<T extends KubeObject> implements ObjectReader<T> {
  private readonly byNamespace = new Map<string, Map<string, T>>();

  get(name: string, namespace = ''): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  getByKey(key: string): T | undefined {
    const slash = key.indexOf('/');
    return slash < 0 ? this.get(key) : this.get(key.slice(slash + 1), key.slice(0, slash));
  }

  list(query: CacheQuery = {}): T[] {
    const namespaces = query.namespace === undefined ? [...this.byNamespace.values()] : [this.byNamespace.get(query.namespace) ?? new Map<string, T>()];
    const selector = query.labelSelector;
    const all: T[] = [];
    for (const objects of namespaces) {
      for (const object of objects.values()) {
        if (selector === undefined || matchesLabelSelector(selector, object.metadata?.labels)) all.push(object);
      }
    }
    return all;
  }

  keys(): string[] {
    return this.list().map(keyOf);
  }

  get size(): number {
    let size = 0;
    for (const objects of this.byNamespace.values()) size += objects.size;
    return size;
  }

  /** Stores object and returns what it replaced. */
  put(object: T): T | undefined {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    let objects = this.byNamespace.get(namespace);
    if (objects === undefined) {
      objects = new Map();
      this.byNamespace.set(namespace, objects);
    }
    const previous = objects.get(name);
    objects.set(name, object);
    return previous;
  }

  /** Removes object and returns what was cached. */
  remove(object: T): T | undefined {
    const namespace = object.metadata?.namespace ?? '';
    const objects = this.byNamespace.get(namespace);
    const name = object.metadata?.name ?? '';
    const previous = objects?.get(name);
    objects?.delete(name);
    if (objects?.size === 0) this.byNamespace.delete(namespace);
    return previous;
  }
}

export function keyOf(object: KubeObject): string {
  return objectKey({ name: object.metadata?.name ?? '', namespace: object.metadata?.namespace });
}
