/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The syscalls probe's maps, shared with syscalls/kernel.ts, which
 * reads them at the offsets of layout.generated.ts (generated from
 * this header). All counters are cumulative; user space takes deltas between reads.
 */
#ifndef __SYSCALLS_H
#define __SYSCALLS_H

/* x86_64 syscall numbers below this are counted one by one; every other
 * call (ia32, x32, out of range) is counted under SYSCALLS_MAX_NR itself. */
#define SYSCALLS_MAX_NR 512

/* Per target slot and CPU: every syscall that returned (528 bytes). */
struct syscalls_totals {
	__u64 errors;       /* returned a negative errno */
	__u64 zero;         /* latency 0 ns: the zero bucket */
	__u64 latency[64];  /* latency[k] counts (2^(k-1), 2^k] ns */
};

/* struct loupe_target.flags: a profile on this cgroup filters syscalls
 * (syscalls.only), so the marked syscalls get their own latency here. */
#define SYSCALLS_TARGET_OWN_LATENCY 1

/* Key of the per-syscall counters. */
struct syscalls_key {
	__u32 slot; /* struct loupe_target.slot */
	__u32 nr;   /* x86_64 syscall number, or SYSCALLS_MAX_NR: other */
};

/* Per (slot, syscall) and CPU (16 bytes). */
struct syscalls_count {
	__u64 calls;
	__u64 errors;
};

/* Per (slot, syscall) and CPU, only for the syscalls user space marks in
 * `latency_syscalls` (a profile's syscalls.only) and only in the cgroups
 * flagged SYSCALLS_TARGET_OWN_LATENCY: their own latency (520 bytes). */
struct syscalls_latency {
	__u64 zero;         /* latency 0 ns */
	__u64 latency[64];  /* as in struct syscalls_totals */
};

#endif /* __SYSCALLS_H */
