// Loupe deployed on the test cluster's real node as a user deploys it: the two
// images hack/build-images.sh built, imported into the node's containerd (as
// `kind load` or a registry push would put them there), and `kubectl apply -k`
// of test/images/real-node-overlay, which is config/default with only the image
// names and pull policy changed. Around it, what a test or benchmark of the
// deployment needs: kubectl as the admin, Deployments of ground-truth workload
// pods, and the processes of a pod's container, found through its cgroup, to
// signal them.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { AGENT_IMAGE, OPERATOR_IMAGE } from './loupe-images.js';
import { mounts } from './node-leftovers.js';
import { GROUND_TRUTH, WORKLOAD_IMAGE, type RealNode } from './real-node.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');

export const OVERLAY = join(repoRoot, 'test', 'images', 'real-node-overlay');
export const SYSTEM_NAMESPACE = 'loupe-system';
export const AGENT_SELECTOR = 'app.kubernetes.io/name=loupe,app.kubernetes.io/component=agent';
export const OPERATOR_SELECTOR = 'app.kubernetes.io/name=loupe,app.kubernetes.io/component=operator';

export interface KubectlResult { code: number; stdout: string; stderr: string }

/** kubectl as the cluster's admin (auth flags such as --token override the user); never throws. */
export async function kubectl(controlPlane: ControlPlane, args: string[], options: { stdin?: string; auth?: string[] } = {}): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', ['--kubeconfig', controlPlane.kubeconfigPath, ...(options.auth ?? []), ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(options.stdin ?? '');
  });
}

/** kubectl that must succeed: its stdout, or an error with its stderr. */
export async function kubectlOk(controlPlane: ControlPlane, args: string[], stdin?: string): Promise<string> {
  const result = await kubectl(controlPlane, args, { stdin });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Imports the images into the node, applies the overlay and waits for the
 * operator Deployment and the agent DaemonSet to be rolled out.
 */
export async function deployLoupe(controlPlane: ControlPlane, node: RealNode, timeoutSeconds = 180): Promise<void> {
  for (const image of [AGENT_IMAGE, OPERATOR_IMAGE]) await node.importImage(image.archive, image.reference);
  await kubectlOk(controlPlane, ['apply', '-k', OVERLAY]);
  for (const workload of ['deployment/loupe-operator', 'daemonset/loupe-agent']) {
    const result = await kubectl(controlPlane, ['rollout', 'status', '-n', SYSTEM_NAMESPACE, workload, `--timeout=${timeoutSeconds}s`]);
    if (result.code !== 0) {
      const pods = await kubectl(controlPlane, ['describe', 'pods', '-n', SYSTEM_NAMESPACE]);
      throw new Error(`${workload} did not roll out: ${result.stderr.trim()}\n${pods.stdout.slice(-4000)}\n${node.logTails(10)}`);
    }
  }
}

export interface GroundTruthRound { execs: number; opens: number; connects: number }

/**
 * A Deployment of pods labelled app=<name> whose one container, `main`, runs
 * `command` from WORKLOAD_IMAGE (imported into the node, so never pulled).
 */
export function workloadDeployment(namespace: string, name: string, replicas: number, command: string[]): V1Deployment {
  const labels = { app: name, 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'shop' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{
            name: 'main',
            image: WORKLOAD_IMAGE,
            imagePullPolicy: 'Never',
            command,
          }],
        },
      },
    },
  };
}

/**
 * Pods that run images/ground-truth.c: each SIGUSR1 is one round of exactly
 * `round`'s execs, opens and connects; SIGUSR2 crashes it.
 */
export function groundTruthDeployment(namespace: string, name: string, replicas: number, round: GroundTruthRound): V1Deployment {
  return workloadDeployment(namespace, name, replicas, [GROUND_TRUTH, String(round.execs), String(round.opens), String(round.connects)]);
}

/** The bare id of a container of the pod (containerStatuses' containerd://<id>), or undefined before it runs. */
export function containerIdOf(pod: V1Pod, container = 'main'): string | undefined {
  const status = pod.status?.containerStatuses?.find((s) => s.name === container);
  return status?.containerID?.replace(/^[a-z-]+:\/\//, '') || undefined;
}

/**
 * The container's cgroup2 directory on this node (the kubelet's cgroupfs layout:
 * kubepods[/<qos>]/pod<uid>/<id>), which runc joins in the hybrid layout too.
 */
export async function containerCgroup(pod: V1Pod, container = 'main'): Promise<string> {
  const id = containerIdOf(pod, container);
  if (id === undefined) throw new Error(`${pod.metadata?.name}/${container} has no container id yet`);
  const unified = (await mounts()).find((m) => m.fsType === 'cgroup2');
  if (unified === undefined) throw new Error('no cgroup2 mount');
  const qos = pod.status?.qosClass === 'Guaranteed' ? '' : `/${pod.status?.qosClass?.toLowerCase()}`;
  return join(unified.mountPoint, `kubepods${qos}`, `pod${pod.metadata?.uid}`, id);
}

export async function containerPids(pod: V1Pod, container = 'main'): Promise<number[]> {
  const procs = await readFile(join(await containerCgroup(pod, container), 'cgroup.procs'), 'utf8');
  return procs.split('\n').filter(Boolean).map(Number);
}

/** Sends a signal to every process of the pod's container (a ground-truth container has one). */
export async function signalContainer(pod: V1Pod, signal: NodeJS.Signals, container = 'main'): Promise<void> {
  const pids = await containerPids(pod, container);
  if (pids.length === 0) throw new Error(`${pod.metadata?.name}/${container} has no process`);
  for (const pid of pids) process.kill(pid, signal);
}

/** The loupe_* BPF programs loaded on this machine (bpftool prog show), by name. */
export async function loupePrograms(): Promise<string[]> {
  const { stdout } = await run('bpftool', ['prog', 'show', '--json']);
  const programs = JSON.parse(stdout) as { name?: string }[];
  return programs.map((p) => p.name ?? '').filter((name) => name.startsWith('loupe_')).sort();
}
