// Where cgroup v2 is mounted on this node. Production nodes mount it at
// /sys/fs/cgroup, hybrid hosts at /sys/fs/cgroup/unified, containers wherever
// they like: read it from mountinfo rather than guessing.
//
// In a pod with a private cgroup namespace (containerd and CRI-O give one to
// every unprivileged container on cgroup v2 hosts) there are two cgroup2
// mounts: the runtime's at /sys/fs/cgroup, which shows only the pod's own
// subtree (root `/`), and the DaemonSet's hostPath of the host's hierarchy,
// whose root shows as `/../../..` (the way up from the namespace's root). The
// host's one is the one to use: the agent prefers the mount at or under
// HOST_CGROUP_MOUNT, and otherwise the one that shows the highest cgroup.
import { readFileSync } from 'node:fs';

export interface Cgroup2Mount {
  /** Where the hierarchy is mounted in this mount namespace. */
  mountPoint: string;
  /**
   * Which cgroup of the hierarchy is mounted there, as seen from this
   * process's cgroup namespace: '/' on a host, `/../../..` for the host's
   * hierarchy seen from inside a namespace three levels down.
   */
  root: string;
}

/** Where config/agent/daemonset.yaml mounts the host's /sys/fs/cgroup. */
export const HOST_CGROUP_MOUNT = '/host/sys/fs/cgroup';
/** Overrides HOST_CGROUP_MOUNT: a DaemonSet that mounts the host's hierarchy elsewhere sets it. */
export const CGROUP_MOUNT_ENV = 'LOUPE_CGROUP_MOUNT';

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** A cgroup path as a cgroup namespace shows it: `ups` steps above the namespace's root, then `names` down. */
export interface NamespacedCgroupPath {
  ups: number;
  names: string[];
}

/** Splits `/../../kubepods/pod1` into 2 ups and [kubepods, pod1] (the kernel writes the ups first). */
export function parseNamespacedCgroupPath(p: string): NamespacedCgroupPath {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  let ups = 0;
  while (parts[ups] === '..') ups++;
  const names = parts.slice(ups);
  if (names.includes('..')) throw new Error(`cgroup path ${JSON.stringify(p)} has ".." after a name`);
  return { ups, names };
}

/** How high in the hierarchy a mount's root is, relative to this namespace's root: lower is higher. */
function rootLevel(m: Cgroup2Mount): number {
  const { ups, names } = parseNamespacedCgroupPath(m.root);
  return names.length - ups;
}

function isUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/** Every cgroup2 mount of mountinfo text (proc(5) format) that is not hidden by a later mount over it or a parent. */
export function cgroup2MountsFromMountinfo(mountinfo: string): Cgroup2Mount[] {
  const all: { mountPoint: string; root?: string }[] = [];
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    const fields = line.trim().split(' ');
    const separator = fields.indexOf('-');
    if (separator < 6) continue;
    const mountPoint = unescapeMountPath(fields[4]!);
    all.push(fields[separator + 1] === 'cgroup2' ? { mountPoint, root: unescapeMountPath(fields[3]!) } : { mountPoint });
  }
  // mountinfo lists mounts in the order they were made: a later mount at the same
  // place or at a parent directory covers an earlier one (the container's tmpfs over /sys/fs/cgroup).
  return all.flatMap((m, i) => {
    if (m.root === undefined) return [];
    const hidden = all.slice(i + 1).some((later) => isUnder(m.mountPoint, later.mountPoint));
    return hidden ? [] : [{ mountPoint: m.mountPoint, root: m.root }];
  });
}

/** The mount that shows the highest cgroup, the first of equals. */
function highestMount(mounts: readonly Cgroup2Mount[]): Cgroup2Mount | undefined {
  return mounts.reduce<Cgroup2Mount | undefined>((best, m) => (best === undefined || rootLevel(m) < rootLevel(best) ? m : best), undefined);
}

/** The highest cgroup2 mount at or under `dir` (a hybrid host's hostPath has it at <dir>/unified). */
function mountUnder(mounts: readonly Cgroup2Mount[], dir: string): Cgroup2Mount | undefined {
  return highestMount(mounts.filter((m) => isUnder(m.mountPoint, dir)));
}

/**
 * The cgroup2 mount to use in mountinfo text, or undefined when there is none:
 * the highest one at or under `preferred` when there is one there, else the
 * one that shows the highest cgroup (the whole hierarchy on a host; the host's
 * hostPath rather than the pod's own view in a cgroup namespace).
 */
export function cgroup2MountFromMountinfo(mountinfo: string, preferred?: string): Cgroup2Mount | undefined {
  const mounts = cgroup2MountsFromMountinfo(mountinfo);
  return (preferred === undefined ? undefined : mountUnder(mounts, preferred)) ?? highestMount(mounts);
}

export class NoCgroup2MountError extends Error {
  constructor(mountinfoPath: string, required?: string) {
    super(
      required === undefined
        ? `this node has no cgroup v2 (no cgroup2 mount in ${mountinfoPath}), only cgroup v1, and Loupe tells containers apart by cgroup2 id. ` +
            'Fix: run the node with cgroup v2 (the default of current distributions; systemd.unified_cgroup_hierarchy=1)'
        : `no cgroup2 mount at or under ${required} in ${mountinfoPath}, which ${CGROUP_MOUNT_ENV} names: ` +
            "mount the host's /sys/fs/cgroup there (a hostPath volume) or unset it",
    );
    this.name = 'NoCgroup2MountError';
  }
}

/**
 * The cgroup2 mount of this process's mount namespace; throws when there is
 * none. $LOUPE_CGROUP_MOUNT, when set, must name where one is; otherwise
 * HOST_CGROUP_MOUNT wins when something is mounted there (the DaemonSet).
 */
export function findCgroup2Mount(mountinfoPath = '/proc/self/mountinfo', env: NodeJS.ProcessEnv = process.env): Cgroup2Mount {
  const text = readFileSync(mountinfoPath, 'utf8');
  const required = env[CGROUP_MOUNT_ENV] || undefined;
  const mount =
    required === undefined ? cgroup2MountFromMountinfo(text, HOST_CGROUP_MOUNT) : mountUnder(cgroup2MountsFromMountinfo(text), required);
  if (mount === undefined) throw new NoCgroup2MountError(mountinfoPath, required);
  return mount;
}
