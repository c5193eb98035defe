// The scheduler's and kubelet's part of a Pod's life, for a control plane that
// has neither: Pods bound to a named node and reported Running with the
// container ids a node agent resolves to cgroups; a LocalPod (local-pod.ts)
// gives such an id a real cgroup. Used by the demo and the cluster tests.
import type { ResourceClient } from '../../kube/resource-client.js';
import { podResource, resourcePath } from '../../kube/resource-type.js';

export interface RunningPod {
  namespace: string;
  name: string;
  node: string;
  labels: Record<string, string>;
  /** Container name → id as pod status shows it (containerd://<64 hex>). */
  containers: Record<string, string>;
}

const IMAGE = 'registry.example/app:1';

function containerStatus(name: string, containerID: string, restartCount = 0) {
  return {
    name,
    containerID,
    image: IMAGE,
    imageID: 'registry.example/app@sha256:0000',
    ready: true,
    restartCount,
    started: true,
    state: { running: { startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } },
  };
}

/** Creates the pod bound to its node, as the scheduler would; returns its uid, which names its cgroup. */
export async function createPod(client: ResourceClient, pod: Omit<RunningPod, 'containers'> & { containers: string[] }): Promise<string> {
  const created = await client.create(podResource, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: pod.namespace, name: pod.name, labels: pod.labels },
    spec: { nodeName: pod.node, containers: pod.containers.map((name) => ({ name, image: IMAGE })) },
  });
  const uid = created.metadata?.uid;
  if (uid === undefined) throw new Error(`pod ${pod.namespace}/${pod.name} was created without a uid`);
  return uid;
}

/** Reports the pod Running with these containers (name → id), as the kubelet would. */
export async function reportRunning(client: ResourceClient, namespace: string, name: string, containers: Record<string, string>): Promise<void> {
  await client.patchStatus(podResource, { namespace, name }, {
    phase: 'Running',
    containerStatuses: Object.entries(containers).map(([container, id]) => containerStatus(container, id)),
  });
}

/** Creates the pod bound to its node, then reports it Running with its containers. */
export async function runPod(client: ResourceClient, pod: RunningPod): Promise<void> {
  await createPod(client, { ...pod, containers: Object.keys(pod.containers) });
  await reportRunning(client, pod.namespace, pod.name, pod.containers);
}

/** Reports a container restarted under a new id. */
export async function restartContainer(client: ResourceClient, namespace: string, pod: string, container: string, containerId: string): Promise<void> {
  await client.patchStatus(podResource, { namespace, name: pod }, { containerStatuses: [containerStatus(container, containerId, 1)] });
}

/** Deletes the pod at once, as the kubelet does once its containers stopped (without a kubelet it would stay Terminating). */
export async function deletePod(client: ResourceClient, namespace: string, name: string): Promise<void> {
  await client.http.request('DELETE', resourcePath(podResource, { namespace, name }), {
    body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 },
  });
}
