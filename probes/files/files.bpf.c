// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/* File opens of traced cgroups: open, openat and openat2 calls and their
 * failures, counted per (cgroup, path) in the kernel. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "loupe.h"
#include "files.h"
#include "syscall_arch.h"

char LICENSE[] SEC("license") = "GPL";

/* An open in flight: the user pointer to its path, per thread. The path is
 * read at exit, when the kernel has faulted its page in; read at enter it can
 * come back empty. */
struct open_start {
	__u64 cgroup_id;
	const char *path;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct open_start);
} open_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct file_key);
	__type(value, struct file_counts);
} open_counts SEC(".maps");

/* Opens that found open_counts full: still counted, without their path. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LOUPE_MAX_TARGETS);
	__type(key, __u64); /* cgroup id */
	__type(value, struct file_counts);
} open_dropped SEC(".maps");

static __always_inline int open_enter(const char *path)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	struct open_start start = { .cgroup_id = cgroup_id, .path = path };
	__u64 pid_tgid;

	if (!loupe_target_lookup(cgroup_id))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&open_starts, &pid_tgid, &start, BPF_ANY);
	return 0;
}

static __always_inline void add_counts(struct file_counts *c, __u64 failed)
{
	__sync_fetch_and_add(&c->opens, 1);
	if (failed)
		__sync_fetch_and_add(&c->errors, 1);
}

static __always_inline int open_exit(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct open_start *start = bpf_map_lookup_elem(&open_starts, &pid_tgid);
	struct file_counts fresh = { .opens = 1, .errors = ret < 0 };
	struct file_counts *counts;
	/* On the stack, not in per-CPU scratch: syscall tracepoints may be
	 * preempted on recent kernels, and the key must be zero-padded anyway. */
	struct file_key key = {};

	if (!start)
		return 0;
	key.cgroup_id = start->cgroup_id;
	/* An unreadable path (EFAULT opens) stays "", counted like any other. */
	bpf_probe_read_user_str(key.path, sizeof(key.path), start->path);

	counts = bpf_map_lookup_elem(&open_counts, &key);
	if (counts) {
		add_counts(counts, ret < 0);
		goto out;
	}
	if (bpf_map_update_elem(&open_counts, &key, &fresh, BPF_NOEXIST) == 0)
		goto out;
	/* Full (or raced by another CPU inserting the same key: retry once). */
	counts = bpf_map_lookup_elem(&open_counts, &key);
	if (counts) {
		add_counts(counts, ret < 0);
		goto out;
	}
	counts = bpf_map_lookup_elem(&open_dropped, &start->cgroup_id);
	if (counts)
		add_counts(counts, ret < 0);
	else
		bpf_map_update_elem(&open_dropped, &start->cgroup_id, &fresh, BPF_NOEXIST);
out:
	bpf_map_delete_elem(&open_starts, &pid_tgid);
	return 0;
}

/*
 * The raw syscall tracepoints run on every syscall of the node, so each
 * program first compares the syscall number: one load and a few compares for
 * everything that is not an open.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(loupe_open_enter, struct pt_regs *regs, long id)
{
	const char *path;

	if (id == LOUPE_NR_openat || id == LOUPE_NR_openat2)
		path = (const char *)PT_REGS_PARM2_SYSCALL(regs);
#ifdef LOUPE_NR_open
	else if (id == LOUPE_NR_open)
		path = (const char *)PT_REGS_PARM1_SYSCALL(regs);
#endif
	else
		return 0;
	if (loupe_task_compat(bpf_get_current_task_btf()))
		return 0;
	return open_enter(path);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(loupe_open_exit, struct pt_regs *regs, long ret)
{
	long nr = loupe_syscall_nr(regs);

	if (nr != LOUPE_NR_openat && nr != LOUPE_NR_openat2
#ifdef LOUPE_NR_open
	    && nr != LOUPE_NR_open
#endif
	)
		return 0;
	/* A compat call with the same number found no open_starts entry. */
	return open_exit(ret);
}
