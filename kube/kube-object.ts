// Objects as the API server sends them: plain JSON. client-node's generated
// types (V1ObjectMeta...) declare timestamps as Date, which is only true after
// its ObjectSerializer runs; watch events and our requests skip it, so the
// runtime uses these honest shapes and callers validate the rest with zod.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

// A type alias, not an interface, so that richer shapes built on it stay assignable to KubeManifest.
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
};

/** An object to send: metadata plus whatever fields its kind has (spec, data, status...). */
export type KubeManifest = KubeObject & { [field: string]: unknown };

export interface KubeList<T extends KubeObject> {
  apiVersion?: string;
  kind?: string;
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
}

/**
 * metav1.MicroTime on the wire: RFC 3339 with exactly six fractional digits.
 * The API server rejects Date.toISOString()'s three.
 */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
