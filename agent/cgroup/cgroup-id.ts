// A cgroup v2 id is the inode number of the cgroup's directory: the value
// bpf_get_current_cgroup_id() returns in the kernel, and the key of every
// probe's targets map.
import { readFileSync, statSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { findCgroup2Mount, type Cgroup2Mount } from './mount.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** A target (pid, container, cgroup path) that does not resolve to a cgroup; the message says why. */
export class CgroupNotFoundError extends Error {
  constructor(message: string) {
    super(message);
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

export function cgroupIdForPid(pid: number, mount: Cgroup2Mount = findCgroup2Mount(), procRoot = '/proc'): bigint {
  const dir = path.join(mount.mountPoint, cgroupPathForPid(pid, procRoot));
  try {
    return directoryInode(dir);
  } catch {
    throw new CgroupNotFoundError(`pid ${pid}: its cgroup ${dir} is gone (the process exited or moved)`);
  }
}
