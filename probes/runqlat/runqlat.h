/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The runqlat probe's maps, shared with runqlat/kernel.ts, which reads
 * them at the offsets of layout.generated.ts (generated from this header).
 * All counters are cumulative; user space takes deltas between reads.
 */
#ifndef __RUNQLAT_H
#define __RUNQLAT_H

#define RUNQLAT_COMM_LEN 16

/* Per target slot and CPU: every run-queue wait that ended (520 bytes). */
struct runqlat_totals {
	__u64 zero;         /* waits of 0 ns: the zero bucket */
	__u64 latency[64];  /* latency[k] counts (2^(k-1), 2^k] ns */
};

/* Key of the per-thread-name counters (24 bytes). */
struct runqlat_key {
	__u32 slot; /* struct loupe_target.slot */
	char comm[RUNQLAT_COMM_LEN];
	__u32 pad;  /* 0 */
};

#endif /* __RUNQLAT_H */
