// Which containers of which pods a TraceProfile traces: pods of the profile's
// namespace that its label selector matches, and in them the running
// containers that have a container id (optionally only those named in
// spec.containers): app containers, init containers (a native sidecar is a
// restartable one), and ephemeral debug containers alike, since a pod's
// container names are unique across the three. Pure: the reconcilers feed it
// from the informer cache.
import type { NodeTraceTarget } from '../api/nodetraceplan.js';
import type { TraceProfile } from '../api/traceprofile.js';
import type { KubeObject } from '../kube/kube-object.js';
import { matchesLabelSelector } from '../kube/label-selector.js';

interface ContainerStatus {
  name: string;
  containerID?: string;
  state?: { running?: unknown; waiting?: unknown; terminated?: unknown };
}

/** The fields of a core/v1 Pod the operator reads, as plain JSON; its Pod cache keeps only these (trimPod in pod-cache.ts). */
export type Pod = KubeObject & {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    ephemeralContainerStatuses?: ContainerStatus[];
  };
};

/** On a static pod's mirror pod: the kubelet's config hash, which is the pod's uid on its node (it names the pod's cgroup). */
export const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';
/** Init containers run while the pod is Pending; Succeeded and Failed pods run nothing. */
const PHASES_WITH_CONTAINERS = new Set(['Pending', 'Running']);

/** A static pod's uid on its node, when it is not metadata.uid. */
export function configHashOf(pod: Pod): string | undefined {
  const annotations = pod.metadata?.annotations ?? {};
  const hash = annotations[CONFIG_MIRROR_ANNOTATION] || annotations[CONFIG_HASH_ANNOTATION];
  return hash && hash !== pod.metadata?.uid ? hash : undefined;
}

/** The profile's namespace and selector admit the pod (whatever its phase). */
export function profileSelectsPod(profile: Pick<TraceProfile, 'metadata' | 'spec'>, pod: Pod): boolean {
  return pod.metadata?.namespace === profile.metadata.namespace && matchesLabelSelector(profile.spec.selector, pod.metadata?.labels);
}

/**
 * The containers to trace in a pod: none unless the pod runs on a node; one
 * per container (app, init or ephemeral) that has an id and is not waiting or
 * terminated (the id of a terminated container is the one that exited; its
 * restart brings a new id). A static pod's targets carry its config hash.
 */
export function runningTargetsOfPod(pod: Pod, containerNames?: readonly string[]): NodeTraceTarget[] {
  const { uid, name, namespace } = pod.metadata ?? {};
  const status = pod.status;
  if (!PHASES_WITH_CONTAINERS.has(status?.phase ?? '') || !pod.spec?.nodeName || !uid || !name || !namespace) return [];
  const configHash = configHashOf(pod);
  const targets: NodeTraceTarget[] = [];
  const statuses = [...(status?.initContainerStatuses ?? []), ...(status?.containerStatuses ?? []), ...(status?.ephemeralContainerStatuses ?? [])];
  for (const container of statuses) {
    if (!container.containerID) continue;
    if (container.state?.waiting !== undefined || container.state?.terminated !== undefined) continue;
    if (containerNames !== undefined && !containerNames.includes(container.name)) continue;
    targets.push({
      podUid: uid,
      ...(configHash !== undefined && { configHash }),
      namespace,
      pod: name,
      container: container.name,
      containerId: container.containerID,
    });
  }
  return targets.sort(byContainerId);
}

export function byContainerId(a: NodeTraceTarget, b: NodeTraceTarget): number {
  return a.containerId < b.containerId ? -1 : a.containerId > b.containerId ? 1 : 0;
}

/** What a profile's selector matches right now, grouped by node. */
export interface ProfileTargets {
  /** Node name → targets on it, sorted by container id; only nodes with targets. */
  byNode: Map<string, NodeTraceTarget[]>;
  pods: number;
  containers: number;
}

export function profileTargets(profile: Pick<TraceProfile, 'metadata' | 'spec'>, pods: Iterable<Pod>): ProfileTargets {
  const byNode = new Map<string, NodeTraceTarget[]>();
  let podCount = 0;
  let containers = 0;
  for (const pod of pods) {
    if (!profileSelectsPod(profile, pod)) continue;
    const targets = runningTargetsOfPod(pod, profile.spec.containers);
    if (targets.length === 0) continue;
    const node = pod.spec?.nodeName as string;
    byNode.set(node, [...(byNode.get(node) ?? []), ...targets]);
    podCount++;
    containers += targets.length;
  }
  for (const targets of byNode.values()) targets.sort(byContainerId);
  return { byNode, pods: podCount, containers };
}
