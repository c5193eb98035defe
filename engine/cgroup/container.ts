// Container id → cgroup, for the layouts kubelet and the runtimes create on cgroup v2:
//   systemd driver:  kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice/<runtime>-<id>.scope
//                    (guaranteed pods: kubepods.slice/kubepods-pod<uid_>.slice/<runtime>-<id>.scope)
//   cgroupfs driver: kubepods/<qos>/pod<uid>/<id>, CRI-O: kubepods/<qos>/pod<uid>/crio-<id>
//                    (guaranteed pods: kubepods/pod<uid>/…)
//   kubelet --cgroup-root=/kubelet (kind and other nodes nested in a container):
//                    kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-<qos>.slice/…, kubelet/kubepods/<qos>/…
//   crun (CRI-O's default runtime) on the systemd driver puts the processes one
//   level down, in crio-<id>.scope/container: probes match the exact cgroup a
//   task is in, so the container's cgroup is the leaf its processes are in.
// <uid> is the pod's uid as kubelet knows it: metadata.uid, except for static
// pods, whose kubelet uid is their config hash (the mirror pod's
// kubernetes.io/config.mirror annotation). With it, finding a container is a
// handful of direct lookups; without it, a bounded walk of the kubepods tree.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CgroupNotFoundError, directoryInode } from './cgroup-id.js';
import { findCgroup2Mount, type Cgroup2Mount } from './mount.js';

interface RuntimeLayout {
  /** Scope name prefix of its container cgroups under the systemd driver: <prefix>-<id>.scope. */
  scope: string;
  /** Its container cgroup's name under the cgroupfs driver, from the id. */
  cgroupfs: (id: string) => string;
}

/** Each runtime's container cgroup names, by the prefix of its container ids in pod status. */
const LAYOUT_BY_RUNTIME: Record<string, RuntimeLayout> = {
  'containerd://': { scope: 'cri-containerd', cgroupfs: (id) => id },
  'cri-o://': { scope: 'crio', cgroupfs: (id) => `crio-${id}` },
  'docker://': { scope: 'docker', cgroupfs: (id) => id },
};
const ALL_LAYOUTS = Object.values(LAYOUT_BY_RUNTIME);
/** Guaranteed pods have no QoS level; they sit directly under the kubepods root. */
const QOS_LEVELS = ['burstable', 'besteffort'];
/** Where kubelet's pod tree is under each driver, for its default cgroup root (/) and kind's (/kubelet). */
const SYSTEMD_ROOTS = [
  { dir: 'kubepods.slice', prefix: 'kubepods' },
  { dir: 'kubelet.slice/kubelet-kubepods.slice', prefix: 'kubelet-kubepods' },
];
const CGROUPFS_ROOTS = ['kubepods', 'kubelet/kubepods'];
const KUBEPODS_ROOTS = [...SYSTEMD_ROOTS.map((r) => r.dir), ...CGROUPFS_ROOTS];
/** qos → pod → container: deeper than this under a kubepods root is not a kubelet container. */
const SEARCH_DEPTH = 3;
/** Bounds the walk on a node with very many pods; a pod uid makes it a direct lookup. */
const SEARCH_MAX_DIRECTORIES = 50_000;
/** crun's sub-cgroup for the container's processes (its run.oci.systemd.subgroup default on cgroup v2). */
const CRUN_SUBGROUP = 'container';
/** How far below its runtime's cgroup a container's processes may be (crun: one level). */
const MAX_LEAF_DEPTH = 2;

export interface ContainerRef {
  /** 64 lowercase hex digits. */
  id: string;
  /** Systemd scope prefixes this container can have, narrowed by the runtime prefix when given. */
  scopePrefixes: string[];
  /** Names its cgroup can have under the cgroupfs driver, narrowed likewise. */
  cgroupfsNames: string[];
}

/** Parses a bare container id or the `containerd://…`, `cri-o://…`, `docker://…` form of pod status. */
export function parseContainerRef(ref: string): ContainerRef {
  let id = ref.trim();
  let layouts = ALL_LAYOUTS;
  for (const [runtime, layout] of Object.entries(LAYOUT_BY_RUNTIME)) {
    if (id.startsWith(runtime)) {
      id = id.slice(runtime.length);
      layouts = [layout];
    }
  }
  id = id.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(id)) {
    throw new CgroupNotFoundError(
      `container id ${JSON.stringify(ref)} is not a container id: expected 64 hex digits, ` +
        'optionally prefixed with containerd://, cri-o:// or docker:// as in pod status',
    );
  }
  return {
    id,
    scopePrefixes: layouts.map((l) => l.scope),
    cgroupfsNames: [...new Set(layouts.map((l) => l.cgroupfs(id)))],
  };
}

/** A pod's cgroup under one driver, and the names its containers' cgroups have there. */
interface PodCgroup {
  dir: string;
  containerNames: string[];
}

/** Where a pod's cgroup can be (relative to the mount), for each driver and QoS class. */
function podCgroupCandidates(container: ContainerRef, podUid: string): PodCgroup[] {
  const systemdUid = podUid.replaceAll('-', '_');
  const scopes = container.scopePrefixes.map((prefix) => `${prefix}-${container.id}.scope`);
  return [
    ...SYSTEMD_ROOTS.flatMap(({ dir, prefix }) => [
      { dir: `${dir}/${prefix}-pod${systemdUid}.slice`, containerNames: scopes },
      ...QOS_LEVELS.map((qos) => ({ dir: `${dir}/${prefix}-${qos}.slice/${prefix}-${qos}-pod${systemdUid}.slice`, containerNames: scopes })),
    ]),
    ...CGROUPFS_ROOTS.flatMap((root) => [
      { dir: `${root}/pod${podUid}`, containerNames: container.cgroupfsNames },
      ...QOS_LEVELS.map((qos) => ({ dir: `${root}/${qos}/pod${podUid}`, containerNames: container.cgroupfsNames })),
    ]),
  ];
}

/** Cgroup paths (relative to the cgroup2 mount) the runtime can give a container of pod podUid. */
export function containerCgroupCandidates(container: ContainerRef, podUid: string): string[] {
  return podCgroupCandidates(container, podUid).flatMap((pod) => pod.containerNames.map((name) => `${pod.dir}/${name}`));
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function hasProcesses(dir: string): boolean {
  try {
    return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

function childCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * The cgroup the container's processes are in, from the one its runtime made
 * for it (relative to the mount): itself while it holds processes or has no
 * sub-cgroups (a container not started yet, or between restarts); else crun's
 * `container` sub-cgroup, or the only sub-cgroup there is. A container whose
 * processes are spread over several sub-cgroups cannot be traced as one.
 */
export function processLeafOfContainer(relative: string, mount: Cgroup2Mount): string {
  let leaf = relative;
  for (let depth = 0; depth < MAX_LEAF_DEPTH; depth++) {
    const dir = path.join(mount.mountPoint, leaf);
    if (hasProcesses(dir)) return leaf;
    const children = childCgroups(dir);
    if (children.length === 0) return leaf;
    if (children.includes(CRUN_SUBGROUP)) leaf = `${leaf}/${CRUN_SUBGROUP}`;
    else if (children.length === 1) leaf = `${leaf}/${children[0]}`;
    else {
      throw new CgroupNotFoundError(
        `container cgroup ${leaf} holds no processes itself but ${children.length} sub-cgroups ` +
          `(${children.slice(0, 4).join(', ')}${children.length > 4 ? ', …' : ''}): Loupe traces one cgroup per container`,
        [dir],
      );
    }
  }
  return leaf;
}

/** Breadth-first walk of the kubepods roots for the container's directory, relative to the mount. */
function searchKubepods(container: ContainerRef, mount: Cgroup2Mount): string | undefined {
  const names = new Set([...container.cgroupfsNames, ...container.scopePrefixes.map((p) => `${p}-${container.id}.scope`)]);
  let level = KUBEPODS_ROOTS.filter((root) => isDirectory(path.join(mount.mountPoint, root)));
  let visited = 0;
  for (let depth = 1; depth <= SEARCH_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      let entries;
      try {
        entries = readdirSync(path.join(mount.mountPoint, dir), { withFileTypes: true });
      } catch {
        continue; // removed while we walked: a pod that went away
      }
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        const child = `${dir}/${entry.name}`;
        if (names.has(entry.name)) return child;
        if (++visited > SEARCH_MAX_DIRECTORIES) return undefined;
        next.push(child);
      }
    }
    level = next;
  }
  return undefined;
}

/**
 * The runtime's cgroup for the container of pod podUid (relative to the
 * mount), or the directories it looked for, absolute, as narrow as the node
 * allows: the container's names in the pod's cgroup when that exists, else the
 * pod's cgroup under each kubepods root there is, else the roots.
 */
function lookUpInPod(container: ContainerRef, podUid: string, mount: Cgroup2Mount): { found: string } | { lookedIn: string[] } {
  const abs = (rel: string) => path.join(mount.mountPoint, rel);
  const roots = KUBEPODS_ROOTS.filter((root) => isDirectory(abs(root)));
  if (roots.length === 0) return { lookedIn: KUBEPODS_ROOTS.map(abs) };
  const pods = podCgroupCandidates(container, podUid).filter((pod) => roots.some((root) => pod.dir.startsWith(`${root}/`)));
  const existing = pods.filter((pod) => isDirectory(abs(pod.dir)));
  for (const pod of existing) {
    const name = pod.containerNames.find((n) => isDirectory(abs(`${pod.dir}/${n}`)));
    if (name !== undefined) return { found: `${pod.dir}/${name}` };
  }
  if (existing.length > 0) return { lookedIn: existing.flatMap((pod) => pod.containerNames.map((n) => abs(`${pod.dir}/${n}`))) };
  return { lookedIn: pods.map((pod) => abs(pod.dir)) };
}

/**
 * The container's cgroup directory (the leaf its processes are in), relative
 * to the cgroup2 mount. podUid is the pod's uid as kubelet knows it (a static
 * pod's config hash); without it the kubepods tree is searched.
 */
export function cgroupPathForContainer(
  containerRef: string,
  podUid?: string,
  mount: Cgroup2Mount = findCgroup2Mount(),
): string {
  const container = parseContainerRef(containerRef);
  if (podUid !== undefined) {
    const result = lookUpInPod(container, podUid, mount);
    if ('found' in result) return processLeafOfContainer(result.found, mount);
    throw new CgroupNotFoundError(
      `no container ${container.id} of pod ${podUid} in the cgroup2 hierarchy at ${mount.mountPoint}: is it running on this node?`,
      result.lookedIn,
    );
  }
  const allRoots = KUBEPODS_ROOTS.map((r) => path.join(mount.mountPoint, r));
  const roots = allRoots.filter(isDirectory);
  if (roots.length === 0) {
    throw new CgroupNotFoundError(
      `no container ${container.id} under ${allRoots.join(' or ')}: none exists ` +
        '(is this a Kubernetes node, and does kubelet run on this cgroup v2 hierarchy?)',
    );
  }
  const found = searchKubepods(container, mount);
  if (found !== undefined) return processLeafOfContainer(found, mount);
  const names = [...container.scopePrefixes.map((p) => `${p}-<id>.scope`), ...container.cgroupfsNames.map((n) => n.replace(container.id, '<id>'))];
  throw new CgroupNotFoundError(
    `no container ${container.id} under ${roots.join(' or ')} ` +
      `(looked in: ${SEARCH_DEPTH} levels below each for ${names.join(', ')}); is the container running on this node?`,
  );
}

export function cgroupIdForContainer(
  containerRef: string,
  podUid?: string,
  mount: Cgroup2Mount = findCgroup2Mount(),
): bigint {
  const dir = path.join(mount.mountPoint, cgroupPathForContainer(containerRef, podUid, mount));
  try {
    return directoryInode(dir);
  } catch {
    throw new CgroupNotFoundError(`container ${containerRef}: its cgroup went away (the container stopped)`, [dir]);
  }
}
