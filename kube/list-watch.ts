// The Kubernetes ListWatchSource: paginated list through ResourceClient
// (yielded page by page, so an informer that trims objects holds one page of
// full ones at a time),
// watch through KubeHttp with bookmarks and a server-side timeout
// (randomised, as client-go does, so replicas do not reconnect in lockstep).
import type { ListPage, ListWatchSource, WatchHandle } from './informer.js';
import type { KubeList, KubeObject } from './kube-object.js';
import type { ResourceClient } from './resource-client.js';
import { apiVersionOf, resourcePath, type ResourceType } from './resource-type.js';

export interface ListWatchScope {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

const pageSize = 500;
const minWatchTimeoutSeconds = 300;

export function kubeListWatch<T extends KubeObject>(
  client: ResourceClient,
  resource: ResourceType,
  scope: ListWatchScope = {},
  random: () => number = Math.random,
): ListWatchSource<T> {
  const path = resourcePath(resource, { namespace: scope.namespace });
  const description = `${apiVersionOf(resource)}/${resource.plural}${scope.namespace ? ` in ${scope.namespace}` : ''}${scope.labelSelector ? ` (${scope.labelSelector})` : ''}`;

  return {
    description,

    async *list(): AsyncGenerator<ListPage<T>> {
      let continueToken: string | undefined;
      do {
        const page = await client.list<T>(resource, {
          namespace: scope.namespace,
          labelSelector: scope.labelSelector,
          fieldSelector: scope.fieldSelector,
          limit: pageSize,
          continue: continueToken,
        });
        continueToken = page.metadata?.continue || undefined;
        yield { items: page.items.map((item) => withTypeMeta(item, page)), resourceVersion: page.metadata?.resourceVersion ?? '' };
      } while (continueToken !== undefined);
    },

    async watch(resourceVersion, onEvent, onClose): Promise<WatchHandle> {
      const query: Record<string, string | number | boolean> = {
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: Math.floor(minWatchTimeoutSeconds * (1 + random())),
      };
      if (scope.labelSelector !== undefined) query.labelSelector = scope.labelSelector;
      if (scope.fieldSelector !== undefined) query.fieldSelector = scope.fieldSelector;
      return client.http.watch(path, query, onEvent, onClose);
    },
  };
}

/** Built-in resources' list items omit apiVersion and kind (watch events carry them); restore them from the list's. */
function withTypeMeta<T extends KubeObject>(item: T, list: KubeList<T>): T {
  if (item.kind !== undefined || list.kind === undefined) return item;
  return { ...item, apiVersion: list.apiVersion, kind: list.kind.replace(/List$/, '') };
}
