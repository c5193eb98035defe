// This node's syscall table: the syscalls probe's counters are keyed by the
// numbers of the architecture the agent runs on (its BPF object is built for
// it), so names come from that architecture's table alone.
import { SYSCALL_TABLES, type SyscallArch } from './syscall-names.js';

/** The syscall table of a Node.js `process.arch`; the agent is built for these alone. */
export function syscallArchOf(nodeArch: string): SyscallArch {
  if (nodeArch === 'x64') return 'x86_64';
  if (nodeArch === 'arm64') return 'arm64';
  throw new Error(`no syscall table for ${nodeArch}: Loupe's probes are built for x86_64 and arm64`);
}

export const NODE_SYSCALL_ARCH: SyscallArch = syscallArchOf(process.arch);

/** Number → name on this node. */
export const SYSCALL_NAMES: ReadonlyMap<number, string> = SYSCALL_TABLES[NODE_SYSCALL_ARCH];

/** The syscall's name, or `syscall_<nr>` for a number this table does not know. */
export function syscallName(nr: number): string {
  return SYSCALL_NAMES.get(nr) ?? `syscall_${nr}`;
}
