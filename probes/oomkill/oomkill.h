/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Events of the oomkill probe, shared with oomkill/decode.ts through
 * layout.generated.ts (generated from this header). */
#ifndef __OOMKILL_H
#define __OOMKILL_H

#define OOMKILL_COMM_LEN 16

/* No implicit padding; user space reads it at the offsets of layout.generated.ts. */
struct oomkill_event {
	__u64 cgroup_id;   /* the victim's cgroup2 cgroup */
	__u64 profiles;    /* targets[cgroup_id].profiles at the time */
	__u64 time_ns;     /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 total_vm;    /* the victim's mapped pages */
	__u32 pid;         /* tgid of the victim */
	__u32 uid;         /* the victim's uid */
	__u32 trigger_pid; /* tgid of the task whose allocation ran out of memory */
	__u32 pad;         /* 0 */
	char comm[OOMKILL_COMM_LEN];
};

#endif /* __OOMKILL_H */
