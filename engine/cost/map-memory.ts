// Kernel memory of a BPF map as the kernel charges it: the `memlock:` line of
// the map fd's /proc/self/fdinfo entry (bytes, pages included for ring buffers).
import { readFileSync } from 'node:fs';

/** The `memlock:` bytes in an fdinfo text; undefined when it has none. */
export function memlockOf(fdinfo: string): number | undefined {
  const match = /^memlock:\s*(\d+)$/m.exec(fdinfo);
  return match === null ? undefined : Number(match[1]);
}

/** Locked bytes of the map behind `fd` in this process; 0 when the kernel does not say. */
export function mapMemoryBytes(fd: number, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): number {
  try {
    return memlockOf(read(`/proc/self/fdinfo/${fd}`)) ?? 0;
  } catch {
    return 0; // the fd closed under us (the probe unloaded): it holds nothing any more
  }
}
