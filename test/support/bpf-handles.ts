// Which BPF programs and links a process holds, from /proc/<pid>/fd and
// fdinfo, and whether the kernel still has them (bpftool). Tests use ids, not
// names, so that other Loupe processes on the machine do not confuse them.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface BpfHandles {
  progIds: number[];
  linkIds: number[];
}

function fdinfoField(pid: number, fd: string, field: string): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+)$`, 'm').exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // closed while we looked
  }
}

export function bpfHandlesOf(pid: number): BpfHandles {
  const handles: BpfHandles = { progIds: [], linkIds: [] };
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const id =
      target === 'anon_inode:bpf-prog'
        ? fdinfoField(pid, fd, 'prog_id')
        : target === 'anon_inode:bpf_link'
          ? fdinfoField(pid, fd, 'link_id')
          : undefined;
    if (id === undefined) continue;
    (target === 'anon_inode:bpf-prog' ? handles.progIds : handles.linkIds).push(id);
  }
  handles.progIds.sort((a, b) => a - b);
  handles.linkIds.sort((a, b) => a - b);
  return handles;
}

export interface KernelProgram {
  id: number;
  name: string;
  /** Nanoseconds the program has run, while BPF run-time statistics are on (absent while they are off). */
  run_time_ns?: number;
}

/** `bpftool -j prog show`: every program loaded in the kernel. */
export function kernelPrograms(): KernelProgram[] {
  return JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as KernelProgram[];
}

/** `bpftool -j link show`: every link in the kernel. */
export function kernelLinks(): { id: number; prog_id: number }[] {
  return JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { id: number; prog_id: number }[];
}

/** The programs and links of `handles` that the kernel still has. */
export function stillInKernel(handles: BpfHandles): BpfHandles {
  const progs = new Set(kernelPrograms().map((p) => p.id));
  const links = new Set(kernelLinks().map((l) => l.id));
  return { progIds: handles.progIds.filter((id) => progs.has(id)), linkIds: handles.linkIds.filter((id) => links.has(id)) };
}

/**
 * What of `handles` the kernel still has after waiting up to timeoutMs for it
 * to go: the kernel frees a program shortly after its last reference, not
 * synchronously with close().
 */
export async function remainingAfterRelease(handles: BpfHandles, timeoutMs = 5000): Promise<BpfHandles> {
  const deadline = Date.now() + timeoutMs;
  let left = stillInKernel(handles);
  while (left.progIds.length + left.linkIds.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = stillInKernel(handles);
  }
  return left;
}
