// A real node in the test cluster: containerd, runc, a bridge CNI network and a
// kubelet built from the Go module proxy register against the real API server,
// kube-controller-manager and kube-scheduler run a real Deployment of an image
// built here, and its container lands in a cgroup2 directory shaped as the agent
// expects, with its process in it. Then stop() leaves nothing behind: no pod
// process, cgroup, mount, network namespace, bridge or file, and the sysctls
// the kubelet changes are back; and a node whose processes were killed is
// cleaned up by the next start. Pods reach the API server at the `kubernetes`
// Service and have no route anywhere else; no traffic leaves the machine.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { kubepodsCgroups, mounts, nodeLeftovers, removeNodeLeftovers } from '../support/node-leftovers.js';
import { readSysctls } from '../support/node-sysctls.js';
import { realNodeSuiteSkip, startRealNode, WORKLOAD_IMAGE, type RealNode } from '../support/real-node.js';
import { waitFor } from '../support/wait-for.js';

const NAMESPACE = 'default';
const DEPLOYMENT = 'sleeper';

describe('a real node', { skip: await realNodeSuiteSkip() }, () => {
  let controlPlane: ControlPlane | undefined;
  let node: RealNode | undefined;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let sysctlsBefore: Record<string, string>;

  before(async () => {
    sysctlsBefore = await readSysctls();
    controlPlane = await startControlPlane({ serviceAccountAdmission: true });
    node = await startRealNode(controlPlane);
    const admin = new KubeConfig();
    admin.loadFromFile(controlPlane.kubeconfigPath);
    core = admin.makeApiClient(CoreV1Api);
    apps = admin.makeApiClient(AppsV1Api);
  });

  after(async () => {
    await node?.stop();
    await controlPlane?.stop();
  });

  const diagnostics = () => node?.logTails(15) ?? '';

  it('registers, becomes Ready and reports its runtime and version', async (t) => {
    assert.ok(node);
    t.diagnostic(`node ${node.name} Ready and untainted ${node.startMs} ms after start`);
    const registered = await core.readNode({ name: node.name });
    assert.equal(registered.status?.nodeInfo?.kubeletVersion, 'v1.37.2');
    assert.match(registered.status?.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:\/\//);
  });

  it('leaves the sysctls the kubelet sets as they were', async () => {
    assert.deepEqual(await readSysctls(), sysctlsBefore);
  });

  it("runs a Deployment's pod, whose container's process is in its cgroup2 directory", async () => {
    assert.ok(node);
    await apps.createNamespacedDeployment({
      namespace: NAMESPACE,
      body: {
        metadata: { name: DEPLOYMENT },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: DEPLOYMENT } },
          template: {
            metadata: { labels: { app: DEPLOYMENT } },
            spec: {
              terminationGracePeriodSeconds: 1,
              // The image's own command: /bin/sleep 3600, a link to busybox.
              containers: [{ name: 'main', image: WORKLOAD_IMAGE, imagePullPolicy: 'Never' }],
            },
          },
        },
      },
    });
    const pod = await waitFor('the pod to run', async () => {
      const pods = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${DEPLOYMENT}` });
      return pods.items.find((p: V1Pod) => p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.containerID);
    }, { timeoutMs: 120_000, intervalMs: 500, diagnostics });
    assert.equal(pod.spec?.nodeName, node.name);
    // The ServiceAccount admission plugin gave it a token volume, which the kubelet mounted.
    assert.ok(pod.spec?.volumes?.some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken)), 'no service-account token volume');
    // A pod IP from the CNI bridge network (no traffic is sent to it).
    assert.match(pod.status?.podIP ?? '', /^10\.213\.0\.\d+$/);

    const containerId = pod.status?.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '') ?? '';
    assert.match(containerId, /^[0-9a-f]{64}$/);
    const unified = (await mounts()).find((m) => m.fsType === 'cgroup2');
    assert.ok(unified, 'no cgroup2 mount');
    const cgroup = `/kubepods/${pod.status?.qosClass?.toLowerCase()}/pod${pod.metadata?.uid}/${containerId}`;
    const dir = join(unified.mountPoint, cgroup);
    assert.ok(existsSync(dir), `${dir} does not exist`);
    const pids = (await readFile(join(dir, 'cgroup.procs'), 'utf8')).trim().split('\n').filter(Boolean);
    assert.ok(pids.length > 0, `${dir}/cgroup.procs is empty`);
    const commands = await Promise.all(pids.map(async (pid) => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean)));
    assert.ok(commands.some((c) => c.join(' ') === '/bin/sleep 3600'), `not the container's process: ${JSON.stringify(commands)}`);
    // The process sees the same directory as its cgroup2 path.
    const procCgroup = await readFile(`/proc/${pids[0]}/cgroup`, 'utf8');
    assert.ok(procCgroup.split('\n').includes(`0::${cgroup}`), procCgroup);
  });

  it('gives pods the API server at the kubernetes Service, and no route anywhere else', async () => {
    assert.ok(node);
    const name = 'service-probe';
    // busybox: the pod's routes (no default one: nothing can leave), and a TCP
    // connect to the Service (nc runs `true` once connected).
    const script = 'ip route; nc -w 5 "$KUBERNETES_SERVICE_HOST" "$KUBERNETES_SERVICE_PORT" -e true && echo service-reached';
    const created = await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name },
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: WORKLOAD_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', script] }] },
      },
    });
    await waitFor('the pod to finish', async () => {
      const pod = await core.readNamespacedPod({ namespace: NAMESPACE, name });
      return pod.status?.phase === 'Succeeded';
    }, { timeoutMs: 60_000, intervalMs: 500, diagnostics });
    const log = await readFile(join(node.logsDir, `${NAMESPACE}_${name}_${created.metadata?.uid}`, 'main', '0.log'), 'utf8');
    const lines = log.split('\n').map((line) => line.split(' ').slice(3).join(' ')).filter(Boolean);
    assert.deepEqual(lines.filter((l) => /^\d/.test(l)).map((l) => l.split(' ')[0]).sort(), ['10.0.0.0/24', '10.213.0.0/24'], log);
    assert.ok(lines.includes('service-reached'), log);
    await core.deleteNamespacedPod({ namespace: NAMESPACE, name });
  });

  it("runs a hostNetwork DaemonSet's pod on the node", async () => {
    assert.ok(node);
    await apps.createNamespacedDaemonSet({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'per-node' },
        spec: {
          selector: { matchLabels: { app: 'per-node' } },
          template: {
            metadata: { labels: { app: 'per-node' } },
            spec: {
              hostNetwork: true,
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'main', image: WORKLOAD_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'exec sleep 3600'] }],
            },
          },
        },
      },
    });
    const pod = await waitFor('the DaemonSet pod to run', async () => {
      const pods = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=per-node' });
      return pods.items.find((p: V1Pod) => p.status?.phase === 'Running');
    }, { timeoutMs: 120_000, intervalMs: 500, diagnostics });
    assert.equal(pod.spec?.nodeName, node.name);
    assert.equal(pod.status?.podIP, pod.status?.hostIP);
  });

  it('stop() leaves no pod, process, cgroup, mount or file behind', async () => {
    assert.ok(node);
    const pids = node.processes.map((p) => p.pid);
    await node.stop();
    assert.deepEqual(await nodeLeftovers([node.dir]), []);
    assert.deepEqual(await kubepodsCgroups(), []);
    for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`), false, `process ${pid} still runs`);
    const left = (await mounts()).filter((m) => m.mountPoint.startsWith(node?.dir ?? '/nonexistent') || /kubelet|containerd|netns/.test(m.mountPoint));
    assert.deepEqual(left, []);
    for (const path of ['/var/lib/kubelet', '/run/containerd/s', '/var/lib/cni/networks/loupe-test', '/sys/class/net/loupe0']) {
      assert.equal(existsSync(path), false, `${path} is left`);
    }
    assert.deepEqual(await readSysctls(), sysctlsBefore);
  });

  it('the next start removes what a crashed node left', async () => {
    assert.ok(controlPlane);
    const crashed = await startRealNode(controlPlane);
    try {
      await apps.createNamespacedDeployment({
        namespace: NAMESPACE,
        body: {
          metadata: { name: 'crashing' },
          spec: {
            selector: { matchLabels: { app: 'crashing' } },
            template: {
              metadata: { labels: { app: 'crashing' } },
              spec: { containers: [{ name: 'main', image: WORKLOAD_IMAGE, imagePullPolicy: 'Never' }] },
            },
          },
        },
      });
      await waitFor('the pod to run', async () => {
        const pods = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=crashing' });
        return pods.items.some((p: V1Pod) => p.status?.phase === 'Running');
      }, { timeoutMs: 120_000, intervalMs: 500, diagnostics: () => crashed.logTails(15) });
      // As if the test process died: SIGKILL, no stop(). Shims, pods, cgroups, mounts,
      // the network namespace and the saved sysctls are left behind.
      for (const p of crashed.processes) process.kill(p.pid, 'SIGKILL');
      await waitFor('the processes to die', () => crashed.processes.every((p) => p.exitStatus() !== undefined));
      const left = await nodeLeftovers([crashed.dir]);
      assert.ok(left.some((line) => line.startsWith('cgroup ')), left.join('\n'));
      assert.ok(left.some((line) => line.startsWith('process ')), left.join('\n'));
      // What startRealNode does first.
      await removeNodeLeftovers();
      assert.deepEqual(await nodeLeftovers([crashed.dir]), []);
      assert.deepEqual(await readSysctls(), sysctlsBefore);
    } finally {
      await crashed.stop();
      await apps.deleteNamespacedDeployment({ namespace: NAMESPACE, name: 'crashing' }).catch(() => undefined);
    }
  });
});
