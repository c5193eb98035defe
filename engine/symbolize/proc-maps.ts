// /proc/<pid>/maps: which file (and which offset of it) backs each executable
// address range of a process.
import { readFileSync } from 'node:fs';

export interface FileMapping {
  start: bigint;
  end: bigint;
  /** File offset mapped at `start`. */
  offset: bigint;
  /** The path as the process sees it (its own mount namespace); '[vdso]' and the like for special mappings. */
  path: string;
}

/** The executable mappings of maps text; anonymous ones (JIT code, stacks) are left out. */
export function parseProcMaps(text: string): FileMapping[] {
  const mappings: FileMapping[] = [];
  for (const line of text.split('\n')) {
    // "55d0c8a00000-55d0c8a01000 r-xp 00001000 08:01 1234   /usr/bin/x"
    const match = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ \d+\s+(.+)$/.exec(line);
    if (match === null || match[3]![2] !== 'x') continue;
    mappings.push({ start: BigInt(`0x${match[1]}`), end: BigInt(`0x${match[2]}`), offset: BigInt(`0x${match[4]}`), path: match[5]! });
  }
  return mappings;
}

/** The process's executable mappings, or undefined when it has exited. */
export function readProcMaps(pid: number): FileMapping[] | undefined {
  try {
    return parseProcMaps(readFileSync(`/proc/${pid}/maps`, 'utf8'));
  } catch {
    return undefined;
  }
}

export function findMapping(mappings: readonly FileMapping[], addr: bigint): FileMapping | undefined {
  return mappings.find((m) => addr >= m.start && addr < m.end);
}
