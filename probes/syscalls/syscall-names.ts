// Syscall names as Loupe knows them: one number → name table per architecture
// the agent is built for. The syscalls probe counts by number, so a node reads
// its own architecture's table; admission cannot know which node a profile
// lands on, so it accepts the names of any of them (a name its node lacks,
// such as open on arm64, is reported by that node's agent).
import { ARM64_SYSCALLS } from './syscall-table-arm64.js';
import { X86_64_SYSCALLS } from './syscall-table-x86_64.js';

export const SYSCALL_ARCHES = ['x86_64', 'arm64'] as const;
export type SyscallArch = (typeof SYSCALL_ARCHES)[number];

export const SYSCALL_TABLES: Readonly<Record<SyscallArch, ReadonlyMap<number, string>>> = {
  x86_64: new Map(X86_64_SYSCALLS),
  arm64: new Map(ARM64_SYSCALLS),
};

/** Every name in some architecture's table, sorted: what `syscalls.only` may hold. */
export const KNOWN_SYSCALL_NAMES = [...new Set(SYSCALL_ARCHES.flatMap((arch) => [...SYSCALL_TABLES[arch].values()]))].sort() as [
  string,
  ...string[],
];
