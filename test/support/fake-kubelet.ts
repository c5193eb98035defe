// The scheduler's and kubelet's part for a control plane that has neither:
// Pods bound to a named node and reported Running with the container ids a
// node agent resolves to cgroups. Used by cluster tests and the demo.
import type { ResourceClient } from '../../operator/runtime/resource-client.js';
import { resourcePath, type ResourceType } from '../../operator/runtime/resource-type.js';

export const podResource: ResourceType = { group: '', version: 'v1', plural: 'pods' };

export interface FakePodSpec {
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

/** Creates the pod bound to its node, then reports it Running with its containers. */
export async function runPod(client: ResourceClient, pod: FakePodSpec): Promise<void> {
  const key = { namespace: pod.namespace, name: pod.name };
  await client.create(podResource, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...key, labels: pod.labels },
    spec: { nodeName: pod.node, containers: Object.keys(pod.containers).map((name) => ({ name, image: IMAGE })) },
  });
  await client.patchStatus(podResource, key, {
    phase: 'Running',
    containerStatuses: Object.entries(pod.containers).map(([name, id]) => containerStatus(name, id)),
  });
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
