// The processes of cgroups known only by id (the keys of a targets map): each
// id's directory is found once by a bounded walk of the cgroup2 mount and
// remembered, then its cgroup.procs lists the processes in it, exactly the
// ones whose bpf_get_current_cgroup_id() is that id.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Cgroup2Mount } from './mount.js';

/** Bounds one walk of the hierarchy; nodes have a few thousand cgroups. */
const WALK_MAX_DIRECTORIES = 50_000;

function inodeOf(dir: string): bigint | undefined {
  try {
    return statSync(dir, { bigint: true }).ino;
  } catch {
    return undefined;
  }
}

/** The pids listed in a cgroup directory's cgroup.procs; none when it is gone. */
export function cgroupProcs(dir: string): number[] {
  let text: string;
  try {
    text = readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

export class CgroupDirectories {
  private readonly known = new Map<bigint, string>();
  /** Ids the last walk did not find: gone, so not walked for again. */
  private readonly missing = new Set<bigint>();

  constructor(private readonly mount: Cgroup2Mount) {}

  /** The directory of each id that exists, walking the hierarchy when an id is new or has moved. */
  directories(ids: readonly bigint[]): Map<bigint, string> {
    const found = new Map<bigint, string>();
    const unknown = new Set<bigint>();
    for (const id of ids) {
      const dir = this.known.get(id);
      if (dir !== undefined && inodeOf(dir) === id) found.set(id, dir);
      else if (!this.missing.has(id)) unknown.add(id);
    }
    if (unknown.size > 0) {
      for (const [id, dir] of this.walk(unknown)) found.set(id, dir);
      for (const id of unknown) if (!found.has(id)) this.missing.add(id);
    }
    const wanted = new Set(ids);
    for (const id of [...this.known.keys()]) if (!wanted.has(id)) this.known.delete(id);
    for (const id of [...this.missing]) if (!wanted.has(id)) this.missing.delete(id);
    return found;
  }

  private walk(ids: ReadonlySet<bigint>): Map<bigint, string> {
    const found = new Map<bigint, string>();
    const pending = [this.mount.mountPoint];
    let visited = 0;
    while (pending.length > 0 && found.size < ids.size && visited++ < WALK_MAX_DIRECTORIES) {
      const dir = pending.pop()!;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue; // removed while we walked
      }
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        const child = path.join(dir, entry.name);
        const id = inodeOf(child);
        if (id !== undefined && ids.has(id)) {
          found.set(id, child);
          this.known.set(id, child);
        }
        pending.push(child);
      }
    }
    return found;
  }
}
