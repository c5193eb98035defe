// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/* File opens of traced cgroups: open, openat and openat2 calls and their
 * failures, counted per (cgroup, path) in the kernel. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "loupe.h"
#include "files.h"

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

SEC("tp/syscalls/sys_enter_openat")
int loupe_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter((const char *)ctx->args[1]);
}

SEC("tp/syscalls/sys_exit_openat")
int loupe_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tp/syscalls/sys_enter_openat2")
int loupe_openat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter((const char *)ctx->args[1]);
}

SEC("tp/syscalls/sys_exit_openat2")
int loupe_openat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

/* open(2) exists on x86_64 but not on arm64; user space attaches it when
 * the tracepoint exists. */
SEC("tp/syscalls/sys_enter_open")
int loupe_open_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter((const char *)ctx->args[0]);
}

SEC("tp/syscalls/sys_exit_open")
int loupe_open_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}
