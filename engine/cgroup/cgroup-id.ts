// A cgroup v2 id is the inode number of the cgroup's directory: the value
// bpf_get_current_cgroup_id() returns in the kernel, and the key of every
// probe's targets map.
import { readdirSync, readFileSync, statSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { findCgroup2Mount, parseNamespacedCgroupPath, type Cgroup2Mount } from './mount.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;

/**
 * A target (pid, container, cgroup path) that does not resolve to a cgroup;
 * the message says why, and names the directories looked for when there are a
 * few (NodeTracePlan status shows them apart from the reason).
 */
export class CgroupNotFoundError extends Error {
  /** Why, without the directories. */
  readonly reason: string;
  constructor(
    reason: string,
    /** The directories it looked for, when there are a few to name. */
    readonly lookedIn?: readonly string[],
  ) {
    super(lookedIn === undefined || lookedIn.length === 0 ? reason : `${reason} (looked in: ${lookedIn.join(', ')})`);
    this.reason = reason;
    this.name = 'CgroupNotFoundError';
  }
}

/** The cgroup id of a directory, with no check that it is a cgroup (callers know it is). */
export function directoryInode(dir: string): bigint {
  return statSync(dir, { bigint: true }).ino;
}

/**
 * The directory of a cgroup given either as a filesystem path under the
 * cgroup2 mount or as a hierarchy path the way /proc/<pid>/cgroup shows it
 * (`/kubepods.slice/...`, relative to the mount).
 */
export function cgroupDirectory(cgroupPath: string, mount: Cgroup2Mount): string {
  const underMount = cgroupPath === mount.mountPoint || cgroupPath.startsWith(`${mount.mountPoint}/`);
  return underMount ? path.resolve(cgroupPath) : path.join(mount.mountPoint, cgroupPath);
}

/** The cgroup id of a cgroup2 directory (see cgroupDirectory for the accepted forms). */
export function cgroupIdForPath(cgroupPath: string, mount: Cgroup2Mount = findCgroup2Mount()): bigint {
  const dir = cgroupDirectory(cgroupPath, mount);
  let magic: number;
  try {
    magic = statfsSync(dir).type;
  } catch {
    throw new CgroupNotFoundError(`cgroup ${cgroupPath} does not exist (no directory ${dir})`);
  }
  if (magic !== CGROUP2_SUPER_MAGIC) {
    throw new CgroupNotFoundError(
      `cgroup ${cgroupPath}: ${dir} is not on a cgroup2 filesystem (cgroup v2 is mounted at ${mount.mountPoint})`,
    );
  }
  return directoryInode(dir);
}

/** The cgroup2 hierarchy path of a process: the `0::` line of /proc/<pid>/cgroup. */
export function cgroupPathForPid(pid: number, procRoot = '/proc'): string {
  let text: string;
  try {
    text = readFileSync(path.join(procRoot, String(pid), 'cgroup'), 'utf8');
  } catch {
    throw new CgroupNotFoundError(`pid ${pid} does not exist (no ${procRoot}/${pid}/cgroup)`);
  }
  const unified = text.split('\n').find((line) => line.startsWith('0::'));
  if (unified === undefined) {
    throw new CgroupNotFoundError(`pid ${pid} is in no cgroup v2 (no "0::" line in ${procRoot}/${pid}/cgroup)`);
  }
  return unified.slice(3);
}

/** Bounds the search for this process's cgroup namespace root in the host's hierarchy. */
const NAMESPACE_ROOT_SEARCH_MAX_DIRECTORIES = 20_000;
const namespaceRoots = new Map<string, string[]>();

function populated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(path.join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

function listsPid(dir: string, pid: number): boolean {
  try {
    return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').includes(String(pid));
  } catch {
    return false;
  }
}

/**
 * Where this process's cgroup namespace root is under a mount of an ancestor
 * of it (root `/../..`, `ups` levels up): the kernel shows the way up but not
 * the names. Found once by walking `ups` levels of populated cgroups for the
 * one holding this process at the place its own /proc/self/cgroup names.
 */
export function namespaceRootUnderMount(mount: Cgroup2Mount, procRoot = '/proc'): string[] {
  const key = `${mount.mountPoint}\0${mount.root}`;
  const cached = namespaceRoots.get(key);
  if (cached !== undefined) return cached;
  const { ups, names: rootNames } = parseNamespacedCgroupPath(mount.root);
  const own = parseNamespacedCgroupPath(cgroupPathForPid(process.pid, procRoot));
  if (rootNames.length > 0 || own.ups > 0) {
    throw new CgroupNotFoundError(
      `cannot map cgroup paths onto ${mount.mountPoint}: it shows ${mount.root}, not an ancestor of this process's cgroup namespace`,
    );
  }
  let level: string[][] = [[]];
  let visited = 0;
  for (let depth = 0; depth < ups; depth++) {
    const next: string[][] = [];
    for (const names of level) {
      let entries;
      try {
        entries = readdirSync(path.join(mount.mountPoint, ...names), { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        if (++visited > NAMESPACE_ROOT_SEARCH_MAX_DIRECTORIES) break;
        if (populated(path.join(mount.mountPoint, ...names, entry.name))) next.push([...names, entry.name]);
      }
    }
    level = next;
  }
  const found = level.find((names) => listsPid(path.join(mount.mountPoint, ...names, ...own.names), process.pid));
  if (found === undefined) {
    throw new CgroupNotFoundError(
      `cannot map cgroup paths onto ${mount.mountPoint} (root ${mount.root}): no cgroup ${ups} levels below it holds this process`,
    );
  }
  namespaceRoots.set(key, found);
  return found;
}

/**
 * The directory under the mount of a cgroup given the way this process's
 * cgroup namespace shows it (/proc/<pid>/cgroup: `/kubepods/…` on a host,
 * `/../../pod2/c1` from inside a pod's namespace).
 */
export function cgroupDirectoryForNamespacedPath(nsPath: string, mount: Cgroup2Mount, procRoot = '/proc'): string {
  const root = parseNamespacedCgroupPath(mount.root);
  const target = parseNamespacedCgroupPath(nsPath);
  const outside = () =>
    new CgroupNotFoundError(`cgroup ${nsPath} is outside the cgroup2 mount at ${mount.mountPoint}, which shows ${mount.root}`);
  if (root.ups === 0) {
    // The mount shows this namespace's root or a cgroup below it.
    if (target.ups > 0 || root.names.some((name, i) => target.names[i] !== name)) throw outside();
    return path.join(mount.mountPoint, ...target.names.slice(root.names.length));
  }
  if (target.ups > root.ups) throw outside();
  const namespaceRoot = namespaceRootUnderMount(mount, procRoot);
  return path.join(mount.mountPoint, ...namespaceRoot.slice(0, namespaceRoot.length - target.ups), ...target.names);
}

/** The cgroup2 directory of a process, under the mount. */
export function cgroupDirectoryForPid(pid: number, mount: Cgroup2Mount = findCgroup2Mount(), procRoot = '/proc'): string {
  return cgroupDirectoryForNamespacedPath(cgroupPathForPid(pid, procRoot), mount, procRoot);
}

export function cgroupIdForPid(pid: number, mount: Cgroup2Mount = findCgroup2Mount(), procRoot = '/proc'): bigint {
  const dir = cgroupDirectoryForPid(pid, mount, procRoot);
  try {
    return directoryInode(dir);
  } catch {
    throw new CgroupNotFoundError(`pid ${pid}: its cgroup ${dir} is gone (the process exited or moved)`);
  }
}
