// The operator runtime: what reconcilers and the operator's main import.
export { ApiError, isConflict, isGone, isNotFound } from './api-error.js';
export { backoffDelayMs, reconcileRetryBackoff, watchRestartBackoff, type BackoffPolicy } from './backoff.js';
export { ManualClock, settle, sleep, systemClock, type Clock, type TimerHandle } from './clock.js';
export { EventRecorder, eventResource, type EventRecorderOptions, type EventType } from './event-recorder.js';
export {
  Informer,
  type InformerEvent,
  type InformerEventType,
  type InformerHandler,
  type InformerOptions,
  type ListResult,
  type ListWatchSource,
  type WatchHandle,
} from './informer.js';
export { KubeHttp, type KubeRequest } from './kube-http.js';
export { microTime, type KubeList, type KubeManifest, type KubeObject, type ObjectMeta, type OwnerReference } from './kube-object.js';
export { matchesLabelSelector, type LabelSelector, type LabelSelectorRequirement } from './label-selector.js';
export {
  LeaderElector,
  LeaseConflictError,
  type LeaderElectionOptions,
  type LeaseRecord,
  type LeaseStore,
  type StoredLease,
} from './leader-election.js';
export { KubeLeaseStore, leaseResource } from './lease-store.js';
export { kubeListWatch, type ListWatchScope } from './list-watch.js';
export { ObjectCache, keyOf, type CacheQuery, type ObjectReader } from './object-cache.js';
export {
  Operator,
  resourceMeta,
  type LeaderElectionConfig,
  type OperatorOptions,
  type ResourceEvent,
  type ResourceEventType,
  type ResourceMeta,
} from './operator.js';
export { ResourceClient, type ApplyOptions, type DeleteOptions, type ListOptions, type ResolvedResource } from './resource-client.js';
export { apiVersionOf, objectKey, parseObjectKey, resourcePath, type ObjectKey, type ResourceType } from './resource-type.js';
export { stopOnSignals, type Stoppable } from './shutdown.js';
export { WorkQueue, type Reconcile, type WorkQueueOptions } from './work-queue.js';
