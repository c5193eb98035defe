/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The profile probe's maps, shared with profile/decode.ts
 * through layout.generated.ts (generated from this header).
 */
#ifndef __PROFILE_H
#define __PROFILE_H

#define PROFILE_COMM_LEN 16
/* Frames kept per stack: the kernel's own limit (sysctl kernel.perf_event_max_stack). */
#define PROFILE_MAX_DEPTH 127

/* Key of the sample counts (no implicit padding). */
struct profile_key {
	__u64 cgroup_id;
	__u32 tgid;
	__s32 user_stack_id;   /* id in `stacks`, or a negative errno: no user stack */
	__s32 kernel_stack_id; /* id in `stacks`, or a negative errno: no kernel stack */
	__u32 pad;             /* 0 */
	char comm[PROFILE_COMM_LEN];
};

/*
 * Value of the sample counts: the samples and their periods summed. The rate
 * changes while the counts stay (another profile asks for more, a budget
 * widens it), so only the period each sample was taken with turns it into time.
 */
struct profile_count {
	__u64 samples;
	__u64 cpu_ns; /* sum of the samples' sample_period: cpu-clock counts nanoseconds */
};


#endif /* __PROFILE_H */
