/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Shared by every Loupe probe object: the `targets` map that says which
 * cgroups are traced and for which profiles, and the log2 histogram slot.
 * Include after vmlinux.h and <bpf/bpf_helpers.h>.
 */
#ifndef __LOUPE_H
#define __LOUPE_H

#ifndef LOUPE_MAX_TARGETS
#define LOUPE_MAX_TARGETS 1024 /* user space may resize before load */
#endif

/* Slots of a log2 histogram; see api/histogram.ts. */
#define LOUPE_HIST_SLOTS 64

struct loupe_target {
	__u64 profiles; /* bitmask of profile slots that target this cgroup */
	__u32 slot;     /* dense per-object index assigned by user space */
	__u32 flags;    /* the probe's own bits (e.g. syscalls.h), else 0 */
};

/* cgroup id (the cgroup2 directory's inode) -> who wants it traced. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LOUPE_MAX_TARGETS);
	__type(key, __u64);
	__type(value, struct loupe_target);
} targets SEC(".maps");

/*
 * The one place probes ask "is this cgroup traced?" by cgroup id. `targets`
 * stays the source of truth; see loupe_task_target for the fast path.
 */
static __always_inline struct loupe_target *loupe_target_lookup(__u64 cgroup_id)
{
	return bpf_map_lookup_elem(&targets, &cgroup_id);
}

#ifdef LOUPE_TARGET_STORAGE
/*
 * For probes on the hottest hooks (the syscalls probe: every syscall): a
 * copy of each `targets` entry in the cgroup's own local storage (kernel >=
 * 6.2), written by user space next to the hash entry. An untraced cgroup then
 * costs one load instead of a hash lookup. User space sets use_target_storage
 * before load; when it is off, target_storage is not created and the
 * verifier drops the branch that names it.
 */
const volatile bool use_target_storage = false;

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct loupe_target);
} target_storage SEC(".maps");

/* The target of the task's cgroup2 cgroup, or NULL when it is not traced. */
static __always_inline struct loupe_target *loupe_task_target(struct task_struct *task)
{
	struct cgroup *cgrp = task->cgroups->dfl_cgrp;

	if (!use_target_storage)
		return loupe_target_lookup(cgrp->kn->id);
	/* No program stored anything on this cgroup: skip the helper call. */
	if (!cgrp->bpf_cgrp_storage)
		return NULL;
	return bpf_cgrp_storage_get(&target_storage, cgrp, 0, 0);
}
#endif

#ifdef LOUPE_RINGBUF_DROPS
/*
 * For probes that post events to a ring buffer: bpf_ringbuf_reserve fails
 * silently when the ring is full (user space fell behind), so each failure is
 * counted here and the agent reports it as cost (engine/cost/ringbuf-drops.ts).
 * Per-CPU, so the count needs no atomic: tracing programs do not nest on a CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ringbuf_drops SEC(".maps");

static __always_inline void loupe_ringbuf_dropped(void)
{
	__u32 zero = 0;
	__u64 *drops = bpf_map_lookup_elem(&ringbuf_drops, &zero);

	if (drops)
		*drops += 1;
}
#endif

/*
 * floor(log2 v) for v >= 1, by binary search: clang 14's BPF backend crashes
 * on __builtin_clzll, and BPF has no count-leading-zeros instruction.
 */
static __always_inline __u32 loupe_floor_log2(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	return r | (__u32)(v >> 1);
}

/*
 * Slot k = ceil(log2 v) = 64 - clz(v - 1) for v >= 1, so slot k holds
 * (2^(k-1), 2^k] and slot 0 holds exactly 1; slot 63 also holds everything
 * above 2^63 (see api/histogram.ts). v == 0 belongs to the zero bucket, which
 * the caller counts separately.
 */
static __always_inline __u32 loupe_log2_slot(__u64 v)
{
	if (v <= 1)
		return 0;
	__u32 k = loupe_floor_log2(v - 1) + 1;
	return k > LOUPE_HIST_SLOTS - 1 ? LOUPE_HIST_SLOTS - 1 : k;
}

/* Counts v in a log2 histogram: its zero bucket, or slot loupe_log2_slot(v). */
#define loupe_hist_add(zero, latency, v)                                   \
	do {                                                               \
		if ((v) == 0)                                              \
			(zero)++;                                          \
		else                                                       \
			(latency)[loupe_log2_slot(v)]++;                   \
	} while (0)

#endif /* __LOUPE_H */
