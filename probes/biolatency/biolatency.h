/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The biolatency probe's maps, shared with biolatency/kernel.ts, which
 * reads them at the offsets of layout.generated.ts (generated from
 * this header). All counters are cumulative; user space takes deltas between reads.
 */
#ifndef __BIOLATENCY_H
#define __BIOLATENCY_H

/* Per target slot and CPU: every request that completed (552 bytes). */
struct biolatency_totals {
	__u64 ios;
	__u64 errors;        /* completed with a non-zero blk_status_t */
	__u64 bytes_read;
	__u64 bytes_written;
	__u64 zero;          /* latency 0 ns: the zero bucket */
	__u64 latency[64];   /* latency[k] counts (2^(k-1), 2^k] ns */
};

/* Key of the per-device counters. */
struct biolatency_key {
	__u32 slot; /* struct loupe_target.slot */
	__u32 dev;  /* kernel dev_t: major << 20 | minor */
};

/* Per (slot, device) and CPU (16 bytes). */
struct biolatency_count {
	__u64 ios;
	__u64 errors;
};

#endif /* __BIOLATENCY_H */
