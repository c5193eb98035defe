// What the operator's Pod cache keeps of each Pod: the fields the operator
// reads and nothing else, so that watching 150,000 Pods fits in its memory
// budget (issue 14). A Pod as the API server sends it is mostly
// managedFields, the spec's containers (env, probes, volume mounts) and the
// status's conditions and per-container detail, none of which the operator
// reads. The Pod informer applies trimPod to every object it receives.
//
// Kept, and who reads it:
// - metadata.name, namespace: the cache key (keyOf), the targets' pod name,
//   the per-namespace lookups of profiles and pods.
// - metadata.uid: the targets' podUid (it names the pod's cgroup).
// - metadata.resourceVersion: the informer tells a change from a repeat by it.
// - metadata.labels, all of them: profile selectors (profileSelectsPod, the
//   cache's label-selector query) may name any label.
// - metadata.annotations kubernetes.io/config.mirror and config.hash only: a
//   static pod's uid on its node (configHashOf).
// - spec.nodeName: which node's plan the pod belongs to (PodsByNode,
//   profileTargets).
// - status.phase: only Pending and Running pods have containers to trace.
// - status.initContainerStatuses, containerStatuses and
//   ephemeralContainerStatuses: each container's name, containerID and which
//   of state.running, waiting, terminated is set, as an empty object
//   (runningTargetsOfPod reads only which one).
// Everything else is dropped, apiVersion and kind included: a cached Pod is
// never written back, nor made the subject of an Event.
//
// Reading another Pod field in the operator means keeping it here too (and in
// the Pod type); test/unit/operator-pod-cache.test.ts checks that trimmed
// pods give the same targets, selections and nodes as full ones.
import type { ObjectMeta } from '../kube/kube-object.js';
import { CONFIG_HASH_ANNOTATION, CONFIG_MIRROR_ANNOTATION, type Pod } from './pod-targets.js';

type PodStatus = NonNullable<Pod['status']>;
type ContainerStatus = NonNullable<PodStatus['containerStatuses']>[number];
type ContainerState = NonNullable<ContainerStatus['state']>;

const KEPT_ANNOTATIONS = [CONFIG_MIRROR_ANNOTATION, CONFIG_HASH_ANNOTATION];
const STATE_KEYS = ['running', 'waiting', 'terminated'] as const;

/** The Pod informer's transform: a Pod as received (list item or watch event object), trimmed to what the operator reads. */
export function trimPod(object: unknown): Pod {
  const { metadata, spec, status } = object as Pod;
  const pod: Pod = { metadata: trimMetadata(metadata ?? {}) };
  if (spec?.nodeName !== undefined) pod.spec = { nodeName: spec.nodeName };
  if (status !== undefined) pod.status = trimStatus(status);
  return pod;
}

function trimMetadata({ name, namespace, uid, resourceVersion, labels, annotations }: ObjectMeta): ObjectMeta {
  const metadata: ObjectMeta = { name, namespace, uid, resourceVersion };
  // The labels object itself is kept: nothing else of the received Pod refers to it once trimmed.
  if (labels !== undefined) metadata.labels = labels;
  const kept = KEPT_ANNOTATIONS.filter((key) => annotations?.[key] !== undefined);
  if (kept.length > 0) metadata.annotations = Object.fromEntries(kept.map((key) => [key, annotations?.[key] as string]));
  return metadata;
}

function trimStatus(status: PodStatus): PodStatus {
  const trimmed: PodStatus = {};
  if (status.phase !== undefined) trimmed.phase = status.phase;
  if (status.initContainerStatuses !== undefined) trimmed.initContainerStatuses = status.initContainerStatuses.map(trimContainerStatus);
  if (status.containerStatuses !== undefined) trimmed.containerStatuses = status.containerStatuses.map(trimContainerStatus);
  if (status.ephemeralContainerStatuses !== undefined) trimmed.ephemeralContainerStatuses = status.ephemeralContainerStatuses.map(trimContainerStatus);
  return trimmed;
}

function trimContainerStatus({ name, containerID, state }: ContainerStatus): ContainerStatus {
  const trimmed: ContainerStatus = { name };
  if (containerID !== undefined) trimmed.containerID = containerID;
  if (state !== undefined) trimmed.state = whichState(state);
  return trimmed;
}

function whichState(state: ContainerState): ContainerState {
  const which: ContainerState = {};
  for (const key of STATE_KEYS) if (state[key] !== undefined) which[key] = {};
  return which;
}
