// Container id → cgroup, for the layouts kubelet creates on cgroup v2:
//   systemd driver: kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice/<runtime>-<id>.scope
//                   (guaranteed pods: kubepods.slice/kubepods-pod<uid_>.slice/<runtime>-<id>.scope)
//   cgroupfs driver: kubepods/<qos>/pod<uid>/<id> (guaranteed pods: kubepods/pod<uid>/<id>)
// With the pod uid it is a handful of direct lookups; without it, a bounded
// walk of the kubepods tree.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { CgroupNotFoundError, directoryInode } from './cgroup-id.js';
import { findCgroup2Mount, type Cgroup2Mount } from './mount.js';

/** Scope name prefix of each runtime's container cgroups (systemd driver), by pod status prefix. */
const SCOPE_PREFIX_BY_RUNTIME: Record<string, string> = {
  'containerd://': 'cri-containerd',
  'cri-o://': 'crio',
  'docker://': 'docker',
};
const ALL_SCOPE_PREFIXES = Object.values(SCOPE_PREFIX_BY_RUNTIME);
/** Guaranteed pods have no QoS level; they sit directly under the kubepods root. */
const QOS_LEVELS = ['burstable', 'besteffort'];
const KUBEPODS_ROOTS = ['kubepods.slice', 'kubepods'];
/** qos → pod → container: deeper than this under a kubepods root is not a kubelet container. */
const SEARCH_DEPTH = 3;
/** Bounds the walk on a node with very many pods; a pod uid makes it a direct lookup. */
const SEARCH_MAX_DIRECTORIES = 50_000;

export interface ContainerRef {
  /** 64 lowercase hex digits. */
  id: string;
  /** Systemd scope prefixes this container can have, narrowed by the runtime prefix when given. */
  scopePrefixes: string[];
}

/** Parses a bare container id or the `containerd://…`, `cri-o://…`, `docker://…` form of pod status. */
export function parseContainerRef(ref: string): ContainerRef {
  let id = ref.trim();
  let scopePrefixes = ALL_SCOPE_PREFIXES;
  for (const [runtime, prefix] of Object.entries(SCOPE_PREFIX_BY_RUNTIME)) {
    if (id.startsWith(runtime)) {
      id = id.slice(runtime.length);
      scopePrefixes = [prefix];
    }
  }
  id = id.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(id)) {
    throw new CgroupNotFoundError(
      `container id ${JSON.stringify(ref)} is not a container id: expected 64 hex digits, ` +
        'optionally prefixed with containerd://, cri-o:// or docker:// as in pod status',
    );
  }
  return { id, scopePrefixes };
}

/** Cgroup paths (relative to the cgroup2 mount) a container of pod podUid can have. */
export function containerCgroupCandidates(container: ContainerRef, podUid: string): string[] {
  const systemdUid = podUid.replaceAll('-', '_');
  const candidates: string[] = [];
  for (const prefix of container.scopePrefixes) {
    const scope = `${prefix}-${container.id}.scope`;
    candidates.push(`kubepods.slice/kubepods-pod${systemdUid}.slice/${scope}`);
    for (const qos of QOS_LEVELS) {
      candidates.push(`kubepods.slice/kubepods-${qos}.slice/kubepods-${qos}-pod${systemdUid}.slice/${scope}`);
    }
  }
  candidates.push(`kubepods/pod${podUid}/${container.id}`);
  for (const qos of QOS_LEVELS) candidates.push(`kubepods/${qos}/pod${podUid}/${container.id}`);
  return candidates;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Breadth-first walk of the kubepods roots for the container's directory, relative to the mount. */
function searchKubepods(container: ContainerRef, mount: Cgroup2Mount): string | undefined {
  const names = new Set([container.id, ...container.scopePrefixes.map((p) => `${p}-${container.id}.scope`)]);
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

/** The container's cgroup directory, relative to the cgroup2 mount. */
export function cgroupPathForContainer(
  containerRef: string,
  podUid?: string,
  mount: Cgroup2Mount = findCgroup2Mount(),
): string {
  const container = parseContainerRef(containerRef);
  if (podUid !== undefined) {
    const candidates = containerCgroupCandidates(container, podUid);
    const found = candidates.find((c) => isDirectory(path.join(mount.mountPoint, c)));
    if (found !== undefined) return found;
    throw new CgroupNotFoundError(
      `no container ${container.id} of pod ${podUid} under ${mount.mountPoint}/kubepods.slice or ` +
        `${mount.mountPoint}/kubepods (looked in: ${candidates.join(', ')}); ` +
        'is the container running on this node?',
    );
  }
  const roots = KUBEPODS_ROOTS.map((r) => path.join(mount.mountPoint, r));
  if (!roots.some(isDirectory)) {
    throw new CgroupNotFoundError(
      `no container ${container.id} under ${roots.join(' or ')}: neither exists ` +
        '(is this a Kubernetes node, and does kubelet run on this cgroup v2 hierarchy?)',
    );
  }
  const found = searchKubepods(container, mount);
  if (found !== undefined) return found;
  const names = [...container.scopePrefixes.map((p) => `${p}-<id>.scope`), '<id>'];
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
    throw new CgroupNotFoundError(`container ${containerRef}: its cgroup ${dir} went away (the container stopped)`);
  }
}
