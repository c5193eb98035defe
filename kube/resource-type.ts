// Addressing resources by group/version/plural, the way the API server's
// paths do, so one client serves core, typed and custom resources alike.

export interface ResourceType {
  /** '' for the core group (Pods, ConfigMaps, Events in v1). */
  group: string;
  version: string;
  plural: string;
}

export const podResource: ResourceType = { group: '', version: 'v1', plural: 'pods' };
export const secretResource: ResourceType = { group: '', version: 'v1', plural: 'secrets' };
export const nodeResource: ResourceType = { group: '', version: 'v1', plural: 'nodes' };

export interface ObjectKey {
  name: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
}

export function apiVersionOf(resource: ResourceType): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** URL path for a collection (no name) or an object, optionally a subresource such as 'status'. */
export function resourcePath(resource: ResourceType, target: { namespace?: string; name?: string; subresource?: string } = {}): string {
  let path = groupVersionPath(apiVersionOf(resource));
  if (target.namespace) path += `/namespaces/${encodeURIComponent(target.namespace)}`;
  path += `/${resource.plural}`;
  if (target.name !== undefined) path += `/${encodeURIComponent(target.name)}`;
  if (target.subresource !== undefined) path += `/${target.subresource}`;
  return path;
}

/** The work-queue key of an object: "namespace/name", or "name" when cluster-scoped (client-go's MetaNamespaceKeyFunc). */
export function objectKey(key: ObjectKey): string {
  return key.namespace ? `${key.namespace}/${key.name}` : key.name;
}

export function parseObjectKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
