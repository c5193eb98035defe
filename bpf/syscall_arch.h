/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * What differs between architectures for programs on the raw sys_enter and
 * sys_exit tracepoints: the numbers of the few syscalls probes pick out, where
 * pt_regs keeps the number at exit, and how a compat (32-bit) task is marked.
 * Raw syscall tracepoints attach by name, with no tracefs (the per-syscall
 * tracepoints syscalls/sys_enter_<name> need it to find their ids).
 * Both take BTF pointers (tp_btf arguments, bpf_get_current_task_btf()):
 * direct, CO-RE-relocated loads, no helper call.
 * Include after vmlinux.h and <bpf/bpf_tracing.h>.
 */
#ifndef __SYSCALL_ARCH_H
#define __SYSCALL_ARCH_H

#if defined(__TARGET_ARCH_x86)
/* arch/x86/entry/syscalls/syscall_64.tbl */
#define LOUPE_NR_open 2
#define LOUPE_NR_accept 43
#define LOUPE_NR_openat 257
#define LOUPE_NR_accept4 288
#define LOUPE_NR_openat2 437
/* Where pt_regs keeps the number at exit, and thread_info's compat mark
 * (arch/x86/include/asm/thread_info.h: TS_COMPAT). */
#define LOUPE_REGS_NR orig_ax
#define LOUPE_TASK_COMPAT(task) ((task)->thread_info.status & 0x0002)
#elif defined(__TARGET_ARCH_arm64)
/* include/uapi/asm-generic/unistd.h; arm64 has no open(2) */
#define LOUPE_NR_openat 56
#define LOUPE_NR_accept 202
#define LOUPE_NR_accept4 242
#define LOUPE_NR_openat2 437
/* arch/arm64/include/asm/thread_info.h: TIF_32BIT */
#define LOUPE_REGS_NR syscallno
#define LOUPE_TASK_COMPAT(task) ((task)->thread_info.flags & (1UL << 22))
#else
#error "syscall_arch.h: add this architecture's syscall numbers"
#endif

static __always_inline long loupe_syscall_nr(struct pt_regs *regs)
{
	return regs->LOUPE_REGS_NR;
}

/* Compat calls reuse the numbers for other syscalls; per-syscall tracepoints
 * ignore them too. */
static __always_inline bool loupe_task_compat(struct task_struct *task)
{
	return LOUPE_TASK_COMPAT(task);
}

#endif /* __SYSCALL_ARCH_H */
