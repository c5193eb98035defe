// Which OpenSSL libraries the targeted processes really map: for each
// process of a targeted cgroup, its /proc/<pid>/maps lines for libssl.so*,
// opened through /proc/<pid>/root (the container's own filesystem), and
// deduplicated by (device, inode) so that one libssl shared by many
// containers (one image layer) gets one set of uprobes. A uprobe lives on the
// file's inode, so with pid -1 it fires in every process mapping that file;
// the programs' cgroup filter keeps the targeted ones.
import { statSync } from 'node:fs';
import path from 'node:path';
import { cgroupProcs, type CgroupDirectories } from '../../engine/cgroup/cgroup-processes.js';
import { readProcMaps, type FileMapping } from '../../engine/symbolize/proc-maps.js';

/** OpenSSL's libssl by its file name: libssl.so.3, libssl.so.1.1, libssl.so (a dev symlink's target). */
const LIBSSL_FILE = /^libssl\.so(\.\d+)*$/;
/** The kernel's suffix on a mapping whose file was unlinked (a library upgraded under a running process). */
const DELETED = ' (deleted)';

/** The distinct libssl paths (as the process sees them) among a process's executable mappings. */
export function libsslPaths(mappings: readonly FileMapping[]): string[] {
  const paths = mappings
    .map((m) => m.path)
    .filter((p) => p.startsWith('/') && !p.endsWith(DELETED) && LIBSSL_FILE.test(path.posix.basename(p)));
  return [...new Set(paths)];
}

/** One libssl file, and where this agent opens it. */
export interface LibraryFile {
  /** `/proc/<pid>/root/<path>`: the file the process maps, in its own mount namespace. */
  file: string;
  dev: bigint;
  ino: bigint;
}

export function libraryKey(library: Pick<LibraryFile, 'dev' | 'ino'>): string {
  return `${library.dev}:${library.ino}`;
}

/** The first file of each (device, inode) that is not among `known`, in order. */
export function newByInode(candidates: readonly LibraryFile[], known: ReadonlySet<string>): LibraryFile[] {
  const seen = new Set(known);
  return candidates.filter((c) => {
    const key = libraryKey(c);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function fileId(file: string): { dev: bigint; ino: bigint } | undefined {
  try {
    const st = statSync(file, { bigint: true });
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined; // the process exited, or the path is gone
  }
}

export class LibsslDiscovery {
  /** Pid → the executable it ran when its maps were read: read again only after an exec (or pid reuse). */
  private readonly scanned = new Map<number, string>();
  private readonly libraries = new Set<string>();

  constructor(private readonly cgroups: CgroupDirectories) {}

  /**
   * The libssl files mapped by the processes of these cgroups that no
   * earlier call returned. Each process's maps are read once per executable
   * (an exec, which loads libssl, makes it read again); a library a process
   * dlopens after that read is not seen (see the README).
   */
  newLibraries(cgroupIds: readonly bigint[]): LibraryFile[] {
    const live = new Set<number>();
    const candidates: LibraryFile[] = [];
    for (const dir of this.cgroups.directories(cgroupIds).values()) {
      for (const pid of cgroupProcs(dir)) {
        live.add(pid);
        const exe = fileId(`/proc/${pid}/exe`);
        if (exe === undefined) continue;
        const exeKey = libraryKey(exe);
        if (this.scanned.get(pid) === exeKey) continue;
        this.scanned.set(pid, exeKey);
        candidates.push(...this.mappedLibraries(pid));
      }
    }
    for (const pid of [...this.scanned.keys()]) if (!live.has(pid)) this.scanned.delete(pid);
    const fresh = newByInode(candidates, this.libraries);
    for (const library of fresh) this.libraries.add(libraryKey(library));
    return fresh;
  }

  private mappedLibraries(pid: number): LibraryFile[] {
    return libsslPaths(readProcMaps(pid) ?? []).flatMap((p) => {
      const file = path.join(`/proc/${pid}/root`, p);
      const id = fileId(file);
      return id === undefined ? [] : [{ file, ...id }];
    });
  }
}
