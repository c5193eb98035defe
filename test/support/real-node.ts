// A real Kubernetes node for cluster tests, on this machine: containerd and runc
// (Debian packages) with a bridge CNI network, a kubelet registered against the
// test API server, and the kube-controller-manager and kube-scheduler that make
// Deployments and DaemonSets run, and pods reach the API server at the
// `kubernetes` Service as in any cluster (node-service-proxy.ts). Images are built here (node-images.ts) and run
// with imagePullPolicy: Never. stop() removes every pod, process, cgroup, mount
// and file it made, and restores the sysctls the kubelet changes; start() first
// removes what a crashed run left. One node per machine at a time.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { startClusterControllers } from './cluster-controllers.js';
import { controlPlaneBinary } from '../../hack/local-cluster/control-plane-binaries.js';
import { controlPlaneBlocker, NODE_BINARIES } from './control-plane-blocker.js';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { freeLoopbackPorts } from '../../hack/local-cluster/loopback-ports.js';
import { startServerProcess, type ServerProcess } from '../../hack/local-cluster/server-process.js';
import { cniConfig, containerdConfig, kubeletConfig, nodePaths } from './node-config.js';
import { BUSYBOX, buildAndImportNodeImages, importImage } from './node-images.js';
import { CNI_BRIDGE, NODE_DIR_PREFIX, removeNodeLeftovers, SAVED_SYSCTLS_FILE } from './node-leftovers.js';
import { routeKubernetesServiceToLoopback } from './node-service-proxy.js';
import { saveSysctls, type SavedSysctls } from './node-sysctls.js';
import { suiteSkip } from './privileged.js';

export { GROUND_TRUTH, GROUND_TRUTH_FILE, LOAD, PAUSE_IMAGE, WORKLOAD_IMAGE } from './node-images.js';

const run = promisify(execFile);

export interface RealNode {
  readonly name: string;
  /** The node's own directory: configs, logs, containerd's and kubelet's state. */
  readonly dir: string;
  /** containerd's socket, for `ctr --address`. */
  readonly containerdSocket: string;
  /** The kubelet's podLogsDir: <namespace>_<pod>_<uid>/<container>/<restart>.log. */
  readonly logsDir: string;
  readonly processes: readonly ServerProcess[];
  /** Milliseconds from start() to the node being Ready and untainted. */
  readonly startMs: number;
  /**
   * Imports an OCI archive into the node's containerd (k8s.io namespace) as `reference`
   * (localhost/<name>:<tag>, the tag being the archive's ref.name annotation).
   */
  importImage(archive: string, reference: string): Promise<void>;
  /** The last lines of every process's log, for a failed assertion's message. */
  logTails(lines?: number): string;
  /** Deletes the node's pods, stops every process, removes everything, restores the sysctls. */
  stop(): Promise<void>;
}

export interface RealNodeOptions {
  /** Default loupe-node. */
  name?: string;
  /** Default 120 s: the kubelet registers in seconds, the not-ready taint goes within the controller's period. */
  readyTimeoutMs?: number;
}

/** Tools from Debian packages the node needs (hack/setup.sh installs them). */
const REQUIRED_FILES: Record<string, string> = {
  '/usr/bin/containerd': 'containerd',
  '/usr/bin/containerd-shim-runc-v2': 'containerd',
  '/usr/bin/ctr': 'containerd',
  '/usr/sbin/runc': 'runc',
  '/usr/lib/cni/bridge': 'containernetworking-plugins',
  '/usr/lib/cni/host-local': 'containernetworking-plugins',
  '/usr/lib/cni/loopback': 'containernetworking-plugins',
  '/usr/bin/umoci': 'umoci',
  [BUSYBOX]: 'busybox-static',
  '/usr/bin/gcc': 'gcc',
  '/usr/sbin/iptables': 'iptables',
  '/usr/sbin/ip': 'iproute2',
};

/** Why a real node cannot run here, or undefined when it can (builds missing binaries once). */
export async function realNodeBlocker(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'a real node needs root';
  const missing = Object.entries(REQUIRED_FILES).filter(([path]) => !existsSync(path));
  if (missing.length > 0) {
    return `missing ${missing.map(([path, pkg]) => `${path} (Debian package ${pkg})`).join(', ')}: run hack/setup.sh`;
  }
  return controlPlaneBlocker(NODE_BINARIES);
}

/** For `describe(name, { skip: await realNodeSuiteSkip() }, ...)`: see suiteSkip. */
export async function realNodeSuiteSkip(): Promise<string | false> {
  return suiteSkip(await realNodeBlocker());
}

export async function startRealNode(controlPlane: ControlPlane, options: RealNodeOptions = {}): Promise<RealNode> {
  const started = Date.now();
  const name = options.name ?? 'loupe-node';
  await removeNodeLeftovers();
  const dir = await mkdtemp(join(tmpdir(), NODE_DIR_PREFIX));
  const paths = nodePaths(dir);
  const processes: ServerProcess[] = [];
  let sysctls: SavedSysctls | undefined;
  const logTails = (lines = 20) => processes.map((p) => `--- ${p.name} (${p.logFile}):\n${p.logTail(lines)}`).join('\n');

  const admin = new KubeConfig();
  admin.loadFromFile(controlPlane.kubeconfigPath);
  const core = admin.makeApiClient(CoreV1Api);

  const stopAll = async () => {
    // Nothing may recreate pods while they go: controllers first.
    for (const p of processes.filter((p) => p.name === 'kube-controller-manager' || p.name === 'kube-scheduler')) await p.stop();
    const kubelet = processes.find((p) => p.name === 'kubelet');
    if (kubelet && kubelet.exitStatus() === undefined) await deleteNodePods(core, name, 60_000);
    // Reverse start order: kubelet, then containerd (its shims are killed with the leftovers).
    for (const p of [...processes].reverse()) await p.stop();
    await core.deleteNode({ name }).catch(() => undefined);
    await removeNodeLeftovers([dir]);
    await sysctls?.release();
  };

  try {
    await routeKubernetesServiceToLoopback(CNI_BRIDGE, Number(new URL(controlPlane.server).port));
    await mkdir(paths.cniConfDir, { recursive: true });
    await writeFile(join(paths.cniConfDir, '10-loupe-test.conflist'), JSON.stringify(cniConfig(paths), null, 2));
    await writeFile(paths.containerdConfig, containerdConfig(paths));
    const containerd = startServerProcess('containerd', '/usr/bin/containerd', ['--config', paths.containerdConfig], join(dir, 'containerd.log'));
    processes.push(containerd);
    await waitUntil('containerd to serve', [containerd], 30_000, async () => {
      await run('ctr', ['--address', paths.containerdSocket, 'version']);
      return true;
    });
    await buildAndImportNodeImages(join(dir, 'images'), paths.containerdSocket);

    processes.push(...startClusterControllers(controlPlane, dir));

    const [port, healthzPort] = (await freeLoopbackPorts(2)) as [number, number];
    await writeFile(paths.kubeletConfig, stringify(kubeletConfig(paths, { port, healthzPort })));
    sysctls = await saveSysctls(SAVED_SYSCTLS_FILE);
    const kubelet = startServerProcess('kubelet', controlPlaneBinary('kubelet'), [
      `--config=${paths.kubeletConfig}`,
      `--kubeconfig=${controlPlane.kubeconfigPath}`,
      `--root-dir=${paths.kubeletRootDir}`,
      // Its serving certificate: the default is /var/lib/kubelet/pki whatever --root-dir says.
      `--cert-dir=${join(paths.kubeletRootDir, 'pki')}`,
      `--hostname-override=${name}`,
      // No --node-ip: kubelet refuses a loopback one, so the node's InternalIP is the host's
      // address. Nothing connects to it: the kubelet listens on 127.0.0.1 only, and tests
      // read container logs from logsDir rather than through the API server.
      '--v=1',
    ], join(dir, 'kubelet.log'));
    processes.push(kubelet);

    await waitUntil(`node ${name} to be Ready without the not-ready taint`, processes, options.readyTimeoutMs ?? 120_000, async () => {
      const node = await core.readNode({ name });
      return isReady(node) && !(node.spec?.taints ?? []).some((taint) => taint.key === 'node.kubernetes.io/not-ready');
    });
    // The kubelet has set its sysctls by now (before it reports Ready).
    await sysctls.restore();

    let stopping: Promise<void> | undefined;
    return {
      name,
      dir,
      containerdSocket: paths.containerdSocket,
      logsDir: paths.podLogsDir,
      processes,
      startMs: Date.now() - started,
      importImage: (archive, reference) => importImage(paths.containerdSocket, archive, reference),
      logTails,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (err) {
    const logs = logTails(30);
    await stopAll().catch(() => undefined);
    throw new Error(`real node did not start: ${(err as Error).message}\n${logs}`);
  }
}

function isReady(node: V1Node): boolean {
  return (node.status?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

/** Deletes every pod bound to the node and waits until the kubelet has stopped them (their objects are gone). */
async function deleteNodePods(core: CoreV1Api, nodeName: string, timeoutMs: number): Promise<void> {
  const fieldSelector = `spec.nodeName=${nodeName}`;
  const deadline = Date.now() + timeoutMs;
  const pods = await core.listPodForAllNamespaces({ fieldSelector }).catch(() => undefined);
  for (const pod of pods?.items ?? []) {
    const { namespace, name } = pod.metadata ?? {};
    if (namespace && name) await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 2 }).catch(() => undefined);
  }
  while (Date.now() < deadline) {
    const left = await core.listPodForAllNamespaces({ fieldSelector }).catch(() => undefined);
    if (left && left.items.length === 0) return;
    await sleep(250);
  }
}

/** Polls check until it returns true; fails early when one of the processes has exited. */
async function waitUntil(what: string, processes: ServerProcess[], timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const dead = processes.find((p) => p.exitStatus() !== undefined);
    if (dead) throw new Error(`${dead.name} exited (${dead.exitStatus()}) while waiting for ${what}`);
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(250);
  }
}
