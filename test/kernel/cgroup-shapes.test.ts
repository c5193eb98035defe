// Every cgroup shape a real node gives a container, on the real cgroup2
// hierarchy: a table of named cases, each a kubelet- and runtime-shaped set of
// real cgroup directories with a real process moved into the container's leaf.
// The pod goes through the operator's code (Pod → plan target) and the
// target through the agent's (plan target → cgroup id); the id must be the
// leaf directory's inode and the cgroup /proc/<pid>/cgroup names.
// Then the agent inside a private cgroup namespace, as a DaemonSet pod runs:
// a child in `unshare --cgroup --mount` with the host hierarchy bind-mounted
// at /host/sys/fs/cgroup and its own view at /sys/fs/cgroup.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { cgroupIdForPid, cgroupPathForPid, directoryInode } from '../../engine/cgroup/cgroup-id.js';
import { cgroupIdForContainer } from '../../engine/cgroup/container.js';
import { findCgroup2Mount, HOST_CGROUP_MOUNT, type Cgroup2Mount } from '../../engine/cgroup/mount.js';
import { buildProfileStatus } from '../../agent/node-status.js';
import { resolvePlanTargets, type ContainerResolver } from '../../agent/plan-targets.js';
import { ProbeManager } from '../../engine/probe-manager.js';
import { probeObjectOpener } from '../../engine/probe-objects.js';
import { exec } from '../../probes/exec/exec.js';
import { BpfObject } from '../../native/index.js';
import type { NodeProfilePlan } from '../../api/nodetraceplan.js';
import { runningTargetsOfPod, type Pod } from '../../operator/pod-targets.js';
import { kernelTestBlocker, requireKernel } from '../support/privileged.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NAMESPACE_FIXTURE = path.join(REPO, 'test/kernel/fixtures/resolve-in-cgroup-namespace.ts');

/** Real cgroup directories made by one test: removed deepest first, only those it made. */
class CgroupTree {
  private readonly made: string[] = [];
  private readonly processes: ChildProcess[] = [];
  constructor(readonly mount: Cgroup2Mount) {}

  /** Makes `rel` (relative to the mount) and its missing parents; returns its cgroup id. */
  mkdir(rel: string): bigint {
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const dir = path.join(this.mount.mountPoint, ...parts.slice(0, i));
      if (existsSync(dir)) continue;
      mkdirSync(dir);
      this.made.push(dir);
    }
    return directoryInode(path.join(this.mount.mountPoint, rel));
  }

  /** A process that sleeps in cgroup `rel` until cleanup. */
  sleeperIn(rel: string): number {
    const sleeper = spawn('/bin/sleep', ['600'], { stdio: 'ignore' });
    this.processes.push(sleeper);
    writeFileSync(path.join(this.mount.mountPoint, rel, 'cgroup.procs'), String(sleeper.pid));
    return sleeper.pid!;
  }

  async cleanup(): Promise<void> {
    await Promise.all(
      this.processes.map((p) =>
        p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((resolve) => p.once('exit', resolve).kill('SIGKILL')),
      ),
    );
    for (const dir of this.made.sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EBUSY') throw err;
      }
    }
  }
}

const slice = (uid: string) => uid.replaceAll('-', '_');
const systemdPod = (qos: string, uid: string) =>
  qos === 'guaranteed'
    ? `kubepods.slice/kubepods-pod${slice(uid)}.slice`
    : `kubepods.slice/kubepods-${qos}.slice/kubepods-${qos}-pod${slice(uid)}.slice`;
const cgroupfsPod = (qos: string, uid: string) => (qos === 'guaranteed' ? `kubepods/pod${uid}` : `kubepods/${qos}/pod${uid}`);

type ContainerKind = 'app' | 'init' | 'sidecar' | 'ephemeral';

interface ShapeCase {
  name: string;
  runtime: 'containerd' | 'cri-o' | 'docker';
  /** A static pod: the kubelet names its cgroup after the config hash, not the API uid. */
  static?: boolean;
  /** Which of the pod's container lists it is in (default app). */
  kind?: ContainerKind;
  /**
   * The cgroups the runtime makes for the container of pod `uid` (kubelet's
   * uid), relative to the mount: the one its processes are in (the leaf),
   * and others that hold processes of the pod but are not the container.
   */
  layout(uid: string, id: string): { leaf: string; others?: string[] };
}

const CASES: ShapeCase[] = [
  { name: 'containerd, systemd driver, burstable', runtime: 'containerd',
    layout: (uid, id) => ({ leaf: `${systemdPod('burstable', uid)}/cri-containerd-${id}.scope` }) },
  { name: 'containerd, systemd driver, guaranteed', runtime: 'containerd',
    layout: (uid, id) => ({ leaf: `${systemdPod('guaranteed', uid)}/cri-containerd-${id}.scope` }) },
  { name: 'containerd, cgroupfs driver, besteffort', runtime: 'containerd',
    layout: (uid, id) => ({ leaf: `${cgroupfsPod('besteffort', uid)}/${id}` }) },
  { name: 'containerd, cgroupfs driver, guaranteed', runtime: 'containerd',
    layout: (uid, id) => ({ leaf: `${cgroupfsPod('guaranteed', uid)}/${id}` }) },
  { name: 'CRI-O with runc, systemd driver: crio-<id>.scope beside conmon', runtime: 'cri-o',
    layout: (uid, id) => ({ leaf: `${systemdPod('burstable', uid)}/crio-${id}.scope`, others: [`${systemdPod('burstable', uid)}/crio-conmon-${id}.scope`] }) },
  { name: 'CRI-O with crun, systemd driver: the processes in crio-<id>.scope/container', runtime: 'cri-o',
    layout: (uid, id) => ({ leaf: `${systemdPod('besteffort', uid)}/crio-${id}.scope/container`, others: [`${systemdPod('besteffort', uid)}/crio-conmon-${id}.scope`] }) },
  { name: 'CRI-O, cgroupfs driver: crio-<id>', runtime: 'cri-o',
    layout: (uid, id) => ({ leaf: `${cgroupfsPod('burstable', uid)}/crio-${id}`, others: [`${cgroupfsPod('burstable', uid)}/crio-conmon-${id}`] }) },
  { name: 'Docker through cri-dockerd, systemd driver: docker-<id>.scope', runtime: 'docker',
    layout: (uid, id) => ({ leaf: `${systemdPod('burstable', uid)}/docker-${id}.scope` }) },
  { name: 'Docker through cri-dockerd, cgroupfs driver', runtime: 'docker',
    layout: (uid, id) => ({ leaf: `${cgroupfsPod('besteffort', uid)}/${id}` }) },
  { name: 'static pod, containerd, systemd driver: the config hash names the pod', runtime: 'containerd', static: true,
    layout: (uid, id) => ({ leaf: `${systemdPod('burstable', uid)}/cri-containerd-${id}.scope` }) },
  { name: 'static pod, CRI-O, cgroupfs driver', runtime: 'cri-o', static: true,
    layout: (uid, id) => ({ leaf: `${cgroupfsPod('guaranteed', uid)}/crio-${id}` }) },
  { name: 'kind node (kubelet --cgroup-root=/kubelet), containerd, systemd driver', runtime: 'containerd',
    layout: (uid, id) => ({ leaf: `kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${slice(uid)}.slice/cri-containerd-${id}.scope` }) },
  { name: 'kubelet --cgroup-root=/kubelet, CRI-O, cgroupfs driver', runtime: 'cri-o',
    layout: (uid, id) => ({ leaf: `kubelet/kubepods/burstable/pod${uid}/crio-${id}` }) },
  { name: 'init container of a Pending pod, containerd, cgroupfs driver', runtime: 'containerd', kind: 'init',
    layout: (uid, id) => ({ leaf: `${cgroupfsPod('burstable', uid)}/${id}` }) },
  { name: 'native sidecar (restartable init container), CRI-O with crun, systemd driver', runtime: 'cri-o', kind: 'sidecar',
    layout: (uid, id) => ({ leaf: `${systemdPod('burstable', uid)}/crio-${id}.scope/container` }) },
  { name: 'ephemeral debug container, containerd, systemd driver', runtime: 'containerd', kind: 'ephemeral',
    layout: (uid, id) => ({ leaf: `${systemdPod('besteffort', uid)}/cri-containerd-${id}.scope` }) },
];

const CONTAINER_NAME: Record<ContainerKind, string> = { app: 'app', init: 'migrate', sidecar: 'istio-proxy', ephemeral: 'debugger' };

/** The Pod the API server would show for the case: uid, annotations and the status list the container is in. */
function podFor(c: ShapeCase, apiUid: string, configHash: string | undefined, containerID: string): Pod {
  const kind = c.kind ?? 'app';
  const running = { name: CONTAINER_NAME[kind], containerID, state: { running: {} } };
  const appWaiting = { name: 'app', state: { waiting: { reason: 'PodInitializing' } } };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `shape-${apiUid.slice(0, 8)}`,
      namespace: 'shop',
      uid: apiUid,
      ...(configHash !== undefined && {
        annotations: { 'kubernetes.io/config.hash': configHash, 'kubernetes.io/config.mirror': configHash, 'kubernetes.io/config.source': 'file' },
      }),
    },
    spec: { nodeName: 'node-a' },
    status: {
      phase: kind === 'init' ? 'Pending' : 'Running',
      containerStatuses: [kind === 'app' ? running : kind === 'init' ? appWaiting : { ...running, name: 'app', containerID: 'containerd://other' }],
      ...(kind === 'init' || kind === 'sidecar' ? { initContainerStatuses: [running] } : {}),
      ...(kind === 'ephemeral' ? { ephemeralContainerStatuses: [running] } : {}),
    },
  };
}

const STATUS_PLAN: NodeProfilePlan = {
  uid: 'p-1', namespace: 'shop', name: 'p', generation: 1, probes: [{ name: 'exec' }], interval: '10s', topN: 5, active: true, targets: [],
};

describe('every cgroup shape a real node has, on the real cgroup2 hierarchy', () => {
  for (const c of CASES) {
    it(c.name, async (t) => {
      if (!requireKernel(t)) return;
      const mount = findCgroup2Mount();
      const tree = new CgroupTree(mount);
      try {
        const apiUid = randomUUID();
        const configHash = c.static ? randomBytes(16).toString('hex') : undefined;
        const kubeletUid = configHash ?? apiUid;
        const id = randomBytes(32).toString('hex');
        const { leaf, others = [] } = c.layout(kubeletUid, id);
        const leafId = tree.mkdir(leaf);
        for (const other of others) tree.mkdir(other);
        const pid = tree.sleeperIn(leaf);
        for (const other of others) tree.sleeperIn(other);

        // What the kernel says: the process's cgroup is the leaf, and its id is the leaf's inode.
        assert.equal(cgroupPathForPid(pid), `/${leaf}`);
        assert.equal(cgroupIdForPid(pid, mount), leafId);

        // Operator: the pod as the API shows it → the plan's target, picked by container name.
        const pod = podFor(c, apiUid, configHash, `${c.runtime}://${id}`);
        const targets = runningTargetsOfPod(pod, [CONTAINER_NAME[c.kind ?? 'app']]);
        assert.equal(targets.length, 1, 'the container is a target, by its name');
        assert.equal(targets[0]!.configHash, configHash);

        // Agent: the target → the cgroup id its probes filter on, exactly as agent-command wires it.
        const resolve: ContainerResolver = (containerId, podUid) => cgroupIdForContainer(containerId, podUid, mount);
        const resolution = resolvePlanTargets(targets, resolve);
        assert.deepEqual(resolution.unresolved, []);
        assert.equal(resolution.resolved[0]!.cgroupId, leafId);
        // `loupe trace --container` has no pod uid: it searches the kubepods tree.
        assert.equal(cgroupIdForContainer(id, undefined, mount), leafId);
        // And the runtime's other cgroups (conmon, the crun scope above the leaf) are not it.
        for (const other of [...others, path.dirname(leaf)]) assert.notEqual(directoryInode(path.join(mount.mountPoint, other)), leafId);

        if (c.static) {
          // Without the hash the API uid names no cgroup on the node: reported, with where the agent looked.
          const withoutHash = resolvePlanTargets([{ ...targets[0]!, configHash: undefined }], resolve);
          assert.equal(withoutHash.resolved.length, 0);
          assert.ok(withoutHash.unresolved[0]!.lookedIn!.every((dir) => dir.includes(`pod${apiUid}`) || dir.includes(`pod${slice(apiUid)}`)));
        }
      } finally {
        await tree.cleanup();
      }
    });
  }

  it('a container the agent cannot find is reported per container with the directories it looked in, never Running', async (t) => {
    if (!requireKernel(t)) return;
    const mount = findCgroup2Mount();
    const tree = new CgroupTree(mount);
    try {
      const uid = randomUUID();
      const present = randomBytes(32).toString('hex');
      const missing = randomBytes(32).toString('hex');
      const podDir = cgroupfsPod('burstable', uid);
      tree.mkdir(`${podDir}/${present}`);
      tree.sleeperIn(`${podDir}/${present}`);
      const pod = podFor({ name: 'x', runtime: 'containerd', layout: () => ({ leaf: '' }) }, uid, undefined, `containerd://${missing}`);
      const targets = runningTargetsOfPod(pod);
      const resolution = resolvePlanTargets(targets, (containerId, podUid) => cgroupIdForContainer(containerId, podUid, mount));
      const status = buildProfileStatus({ plan: STATUS_PLAN, state: { profileId: 'p-1', slot: 0, active: ['exec'], failed: [] }, targets: resolution, errors: [], shuttingDown: false });
      assert.equal(status.state, 'Pending', 'nothing it could trace: not Running with zeros');
      assert.equal(status.targets.resolved, 0);
      assert.deepEqual(status.targets.unresolved, [
        {
          containerId: `containerd://${missing}`,
          pod: `shop/${pod.metadata!.name}`,
          container: 'app',
          reason: `no container ${missing} of pod ${uid} in the cgroup2 hierarchy at ${mount.mountPoint}: is it running on this node?`,
          // The pod's cgroup exists, so the one place the container's would be.
          lookedIn: [path.join(mount.mountPoint, podDir, missing)],
        },
      ]);
    } finally {
      await tree.cleanup();
    }
  });
});

/** Runs /bin/true n times in cgroup dir: a shell moves itself in first, so only the n execs are the cgroup's. */
function execTimesIn(dir: string, n: number): Promise<void> {
  const script = `echo $$ > "$0/cgroup.procs" && i=0 && while [ $i -lt ${n} ]; do /bin/true; i=$((i+1)); done`;
  const child = spawn('/bin/sh', ['-c', script, dir], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exec loop in ${dir} exited with ${code}`))));
  });
}

describe('the id the agent resolves is the one the kernel reports', () => {
  it('CRI-O with crun: the exec probe counts the container’s execs under the resolved id, none under its scope', async (t) => {
    if (!requireKernel(t)) return;
    const mount = findCgroup2Mount();
    const tree = new CgroupTree(mount);
    const manager = new ProbeManager({ catalog: { exec: exec.kernel }, openObject: probeObjectOpener((file) => BpfObject.open(file)) });
    try {
      const uid = randomUUID();
      const id = randomBytes(32).toString('hex');
      const scope = `${systemdPod('burstable', uid)}/crio-${id}.scope`;
      const leafId = tree.mkdir(`${scope}/container`);
      const scopeId = directoryInode(path.join(mount.mountPoint, scope));
      tree.sleeperIn(`${scope}/container`);
      const pod = podFor({ name: 'crun', runtime: 'cri-o', layout: () => ({ leaf: '' }) }, uid, undefined, `cri-o://${id}`);
      const resolution = resolvePlanTargets(runningTargetsOfPod(pod), (containerId, podUid) => cgroupIdForContainer(containerId, podUid, mount));
      assert.equal(resolution.resolved[0]?.cgroupId, leafId);
      // Both ids in the filter: were the scope the container's cgroup, its execs would count there.
      assert.deepEqual((await manager.register('p', { probes: [{ name: 'exec' }], targets: [leafId, scopeId] })).active, ['exec']);
      await execTimesIn(path.join(mount.mountPoint, scope, 'container'), 7);
      manager.collect();
      const execs = new Map([...(manager.results('p').exec ?? new Map())].map(([cgroup, r]) => [cgroup, r.execs]));
      assert.deepEqual(execs, new Map([[leafId, 7]]));
    } finally {
      manager.close();
      await tree.cleanup();
    }
  });
});

/**
 * Runs the namespace fixture as a DaemonSet pod would run the agent; resolves
 * with its view and, when `during` is given, the execs its exec probe counted
 * while `during` ran.
 */
function runInCgroupNamespace(
  agentCgroup: string,
  input: object,
  during?: () => Promise<void>,
): Promise<{ view: NamespaceView; execs?: Record<string, number> }> {
  // The host's hostPath: kubelet bind-mounts recursively, so on a hybrid host
  // cgroup2 shows at /host/sys/fs/cgroup/unified.
  const script = [
    'echo $$ > "$1/cgroup.procs"',
    // From here on this shell's cgroup is the namespace's root, as the pod's is.
    `exec unshare --cgroup --mount --propagation private /bin/sh -ec '
      mount --rbind /sys/fs/cgroup ${HOST_CGROUP_MOUNT}
      mount -t tmpfs -o size=64k loupe-pod-sysfs-cgroup /sys/fs/cgroup
      mount -t cgroup2 none /sys/fs/cgroup
      exec "$0" --import tsx "$@"' "$2" "$3" "$4"`,
  ].join('\n');
  const args = { ...input, ...(during !== undefined && { countExecs: true }) };
  const child = spawn('/bin/sh', ['-ec', script, 'sh', agentCgroup, process.execPath, NAMESPACE_FIXTURE, JSON.stringify(args)], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LOUPE_CGROUP_MOUNT: '' },
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  let duringRun: Promise<void> | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      if (line === 'ready' && during !== undefined) duringRun = during().finally(() => child.stdin.end());
    }
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  if (during === undefined) child.stdin.end();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`namespace fixture exited ${code}: ${stderr}`));
      const view = JSON.parse(lines[0]!) as NamespaceView;
      if (during === undefined) return resolve({ view });
      if (duringRun === undefined) return reject(new Error(`the fixture never got ready: ${lines.join('\n')} ${stderr}`));
      duringRun.then(() => resolve({ view, execs: JSON.parse(lines[2]!) as Record<string, number> }), reject);
    });
  });
}

type Attempt = { value: string } | { error: string };
interface NamespaceView {
  mounts: Cgroup2Mount[];
  mount: Cgroup2Mount;
  mountRootId: string;
  ownPath: string;
  ownId: Attempt;
  containers: Attempt[];
  containersInOwnView: Attempt[];
  pids: { nsPath: string; dir: Attempt; id: Attempt }[];
}

function unshareBlocker(): string | undefined {
  const blocker = kernelTestBlocker();
  if (blocker !== undefined) return blocker;
  return spawnSync('unshare', ['--version']).status === 0 ? undefined : 'needs unshare(1) from util-linux';
}

describe('the agent inside a private cgroup namespace (a DaemonSet pod on a cgroup v2 node)', () => {
  it('picks the host hierarchy at /host/sys/fs/cgroup over its own view, maps containers and pids onto it, and counts their execs', async (t) => {
    if (!requireKernel(t, unshareBlocker())) return;
    const mount = findCgroup2Mount();
    if (!mount.mountPoint.startsWith('/sys/fs/cgroup')) {
      assert.fail(`the host's cgroup2 is at ${mount.mountPoint}, not under /sys/fs/cgroup, where the DaemonSet's hostPath takes it from`);
    }
    const tree = new CgroupTree(mount);
    const madeHostDirs: string[] = [];
    try {
      // The mount point the DaemonSet's volumeMount makes in the container (here on the host's root, left empty).
      for (let dir = HOST_CGROUP_MOUNT; !existsSync(dir); dir = path.dirname(dir)) madeHostDirs.unshift(dir);
      for (const dir of madeHostDirs) mkdirSync(dir);

      // The agent's own container, and three targets of the shapes that need most care.
      const agentCgroup = `${cgroupfsPod('burstable', randomUUID())}/${randomBytes(32).toString('hex')}`;
      tree.mkdir(agentCgroup);
      const apiUid = randomUUID();
      const hash = randomBytes(16).toString('hex');
      const ids = [0, 1, 2].map(() => randomBytes(32).toString('hex'));
      const targets = [
        { ref: `cri-o://${ids[0]}`, podUid: apiUid, leaf: `${systemdPod('burstable', apiUid)}/crio-${ids[0]}.scope/container` },
        { ref: `containerd://${ids[1]}`, podUid: apiUid, leaf: `${cgroupfsPod('besteffort', apiUid)}/${ids[1]}` },
        { ref: `containerd://${ids[2]}`, podUid: hash, leaf: `${cgroupfsPod('guaranteed', hash)}/${ids[2]}` },
      ];
      const leafIds = targets.map((target) => tree.mkdir(target.leaf));
      const pids = targets.map((target) => tree.sleeperIn(target.leaf));

      const execTimes = [3, 5, 2];
      const { view, execs } = await runInCgroupNamespace(
        path.join(mount.mountPoint, agentCgroup),
        { containers: targets.map((target) => ({ containerId: target.ref, podUid: target.podUid })), pids },
        // While the agent in the namespace traces them: execs in each target, from the host.
        async () => {
          for (const [i, target] of targets.entries()) await execTimesIn(path.join(mount.mountPoint, target.leaf), execTimes[i]!);
        },
      );

      const depth = agentCgroup.split('/').length;
      const expected = { mountPoint: HOST_CGROUP_MOUNT + mount.mountPoint.slice('/sys/fs/cgroup'.length), root: `/${Array(depth).fill('..').join('/')}` };
      // The trap is there: the pod's own view, root `/`, beside the host's.
      assert.deepEqual(view.mounts.find((m) => m.mountPoint === '/sys/fs/cgroup'), { mountPoint: '/sys/fs/cgroup', root: '/' });
      assert.deepEqual(view.mount, expected, 'the host hierarchy at the DaemonSet’s mount');
      assert.equal(BigInt(view.mountRootId), directoryInode(mount.mountPoint), 'its root is the host’s root cgroup (netbytes attaches there)');
      assert.equal(view.ownPath, '/', 'the agent is at its namespace’s root');
      assert.deepEqual(view.ownId, { value: String(directoryInode(path.join(mount.mountPoint, agentCgroup))) });

      assert.deepEqual(view.containers, leafIds.map((id) => ({ value: String(id) })));
      for (const attempt of view.containersInOwnView) assert.match('error' in attempt ? attempt.error : 'resolved', /none exists|no container/);

      targets.forEach((target, i) => {
        const seen = view.pids[i]!;
        assert.match(seen.nsPath, /^\/\.\.\//, 'from inside, another pod’s cgroup is up and over');
        assert.deepEqual(seen.dir, { value: path.join(expected.mountPoint, target.leaf) });
        assert.deepEqual(seen.id, { value: String(leafIds[i]) });
        assert.equal(cgroupIdForPid(pids[i]!, mount), leafIds[i], 'the same id the host sees');
      });
      // The probe, loaded from inside the namespace, counted each target's execs under the id resolved there.
      assert.deepEqual(execs, Object.fromEntries(leafIds.map((id, i) => [String(id), execTimes[i]])));
    } finally {
      await tree.cleanup();
      for (const dir of madeHostDirs.reverse()) rmdirSync(dir);
    }
  });
});
