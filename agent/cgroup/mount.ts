// Where cgroup v2 is mounted on this node. Production nodes mount it at
// /sys/fs/cgroup, hybrid hosts at /sys/fs/cgroup/unified, containers wherever
// they like: read it from mountinfo rather than guessing.
import { readFileSync } from 'node:fs';

export interface Cgroup2Mount {
  /** Where the hierarchy is mounted in this mount namespace. */
  mountPoint: string;
  /** Which cgroup of the hierarchy is mounted there ('/' unless a cgroup namespace cuts it). */
  root: string;
}

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * The cgroup2 mount in mountinfo text (proc(5) format), or undefined when there
 * is none. With several, the one that shows the whole hierarchy wins.
 */
export function cgroup2MountFromMountinfo(mountinfo: string): Cgroup2Mount | undefined {
  const mounts: Cgroup2Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    const fields = line.trim().split(' ');
    const separator = fields.indexOf('-');
    if (separator < 6 || fields[separator + 1] !== 'cgroup2') continue;
    mounts.push({ root: unescapeMountPath(fields[3]!), mountPoint: unescapeMountPath(fields[4]!) });
  }
  return mounts.find((m) => m.root === '/') ?? mounts[0];
}

export class NoCgroup2MountError extends Error {
  constructor(mountinfoPath: string) {
    super(
      `no cgroup2 mount in ${mountinfoPath}: Loupe needs the unified cgroup hierarchy ` +
        '(mount it with `mount -t cgroup2 none /sys/fs/cgroup`, or boot with systemd.unified_cgroup_hierarchy=1)',
    );
    this.name = 'NoCgroup2MountError';
  }
}

/** The cgroup2 mount of this process's mount namespace; throws when there is none. */
export function findCgroup2Mount(mountinfoPath = '/proc/self/mountinfo'): Cgroup2Mount {
  const mount = cgroup2MountFromMountinfo(readFileSync(mountinfoPath, 'utf8'));
  if (mount === undefined) throw new NoCgroup2MountError(mountinfoPath);
  return mount;
}
