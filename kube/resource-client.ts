// Verbs on any resource, typed or custom: read, list, create, server-side
// apply, merge patches (including the status subresource) and delete.
import { PatchStrategy } from '@kubernetes/client-node';
import { isNotFound } from './api-error.js';
import type { KubeHttp } from './kube-http.js';
import type { KubeList, KubeManifest, KubeObject } from './kube-object.js';
import { groupVersionPath, resourcePath, type ObjectKey, type ResourceType } from './resource-type.js';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface ApplyOptions {
  fieldManager: string;
  /** Take ownership of fields another manager owns (controllers normally do). Default true. */
  force?: boolean;
  /** Apply to a subresource, e.g. 'status'. */
  subresource?: string;
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  /** Delete only if the object still has this uid / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ResolvedResource extends ResourceType {
  namespaced: boolean;
}

interface ApiResourceList {
  resources: Array<{ name: string; kind: string; namespaced: boolean }>;
}

export class ResourceClient {
  /** Discovery results per apiVersion, for apply() on objects that only say apiVersion and kind. */
  private readonly discovery = new Map<string, Promise<ApiResourceList>>();

  constructor(readonly http: KubeHttp) {}

  /** The object, or undefined if it does not exist. */
  async get<T extends KubeObject>(resource: ResourceType, key: ObjectKey): Promise<T | undefined> {
    try {
      return await this.http.request<T>('GET', resourcePath(resource, key));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  list<T extends KubeObject>(resource: ResourceType, options: ListOptions = {}): Promise<KubeList<T>> {
    const { namespace, ...query } = options;
    return this.http.request<KubeList<T>>('GET', resourcePath(resource, { namespace }), { query: { ...query } });
  }

  create<T extends KubeObject = KubeObject>(resource: ResourceType, object: KubeManifest, fieldManager?: string): Promise<T> {
    const path = resourcePath(resource, { namespace: object.metadata?.namespace });
    return this.http.request<T>('POST', path, { body: object, query: { fieldManager } });
  }

  /** Replaces the object (PUT); metadata.resourceVersion, when set, makes it compare-and-swap. */
  replace<T extends KubeObject = KubeObject>(resource: ResourceType, object: KubeManifest, fieldManager?: string): Promise<T> {
    const path = resourcePath(resource, { namespace: object.metadata?.namespace, name: requireName(object) });
    return this.http.request<T>('PUT', path, { body: object, query: { fieldManager } });
  }

  /**
   * Server-side apply: sends the fields this manager wants to own; the server
   * merges, tracks ownership, and leaves the object untouched (same
   * resourceVersion) when nothing changed.
   */
  async apply<T extends KubeObject = KubeObject>(object: KubeManifest, options: ApplyOptions): Promise<T> {
    if (object.apiVersion === undefined || object.kind === undefined) throw new Error('apply needs apiVersion and kind');
    const resource = await this.resolve(object.apiVersion, object.kind);
    const namespace = resource.namespaced ? object.metadata?.namespace : undefined;
    if (resource.namespaced && !namespace) throw new Error(`apply of namespaced ${object.kind} needs metadata.namespace`);
    const path = resourcePath(resource, { namespace, name: requireName(object), subresource: options.subresource });
    return this.http.request<T>('PATCH', path, {
      body: object,
      contentType: PatchStrategy.ServerSideApply,
      query: { fieldManager: options.fieldManager, force: options.force ?? true },
    });
  }

  /** JSON merge patch (RFC 7386): objects merge, lists and scalars replace, null deletes. */
  mergePatch<T extends KubeObject = KubeObject>(resource: ResourceType, key: ObjectKey, patch: unknown, subresource?: string): Promise<T> {
    return this.http.request<T>('PATCH', resourcePath(resource, { ...key, subresource }), {
      body: patch,
      contentType: PatchStrategy.MergePatch,
    });
  }

  /** Merge-patches the status subresource; spec and metadata are not touched. */
  patchStatus<T extends KubeObject = KubeObject>(resource: ResourceType, key: ObjectKey, status: unknown): Promise<T> {
    return this.mergePatch<T>(resource, key, { status }, 'status');
  }

  /** Deletes the object; returns false if it was already gone. */
  async delete(resource: ResourceType, key: ObjectKey, options: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.http.request('DELETE', resourcePath(resource, key), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', ...options },
      });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** Finds the plural and scope of apiVersion/kind through API discovery (cached). */
  async resolve(apiVersion: string, kind: string): Promise<ResolvedResource> {
    let resources = this.discovery.get(apiVersion);
    if (resources === undefined) {
      resources = this.http.request<ApiResourceList>('GET', groupVersionPath(apiVersion));
      this.discovery.set(apiVersion, resources);
      resources.catch(() => this.discovery.delete(apiVersion));
    }
    const found = (await resources).resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (found === undefined) {
      // A CRD installed after we looked: look again next time.
      this.discovery.delete(apiVersion);
      throw new Error(`the server has no resource of kind ${kind} in ${apiVersion}`);
    }
    const slash = apiVersion.indexOf('/');
    return {
      group: slash < 0 ? '' : apiVersion.slice(0, slash),
      version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1),
      plural: found.name,
      namespaced: found.namespaced,
    };
  }
}

function requireName(object: KubeObject): string {
  const name = object.metadata?.name;
  if (!name) throw new Error(`${object.kind ?? 'object'} has no metadata.name`);
  return name;
}
