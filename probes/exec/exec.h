/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Events of the exec probe, shared with exec/decode.ts through
 * layout.generated.ts (generated from this header). */
#ifndef __EXEC_H
#define __EXEC_H

#define EXEC_COMM_LEN 16
#define EXEC_FILENAME_LEN 256

enum exec_event_kind {
	EXEC_EVENT_EXEC = 1,
	EXEC_EVENT_EXIT = 2,
};

/* No implicit padding; user space reads it at the offsets of layout.generated.ts. */
struct exec_event {
	__u64 cgroup_id;
	__u64 profiles;   /* targets[cgroup_id].profiles at the time */
	__u64 time_ns;    /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 kind;       /* enum exec_event_kind */
	__u32 pid;        /* tgid */
	__u32 ppid;       /* tgid of the real parent */
	__u32 exit_code;  /* exit: wait status (code << 8 | signal); exec: 0 */
	char comm[EXEC_COMM_LEN];
	char filename[EXEC_FILENAME_LEN]; /* exec only: the path as executed */
};

#endif /* __EXEC_H */
