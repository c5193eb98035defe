// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Syscall counts, errors and latency of traced cgroups, aggregated in the
 * kernel. Both hooks run on every syscall of the node, so the path for
 * untraced tasks is a few loads on enter (plus one hash lookup on kernels
 * without cgroup storage), and one load on exit; everything else happens
 * only for traced tasks.
 *
 * Calls are counted when they return, so exit/exit_group (which never do)
 * are not counted, and the latency histogram's count equals the calls.
 * tp_btf rather than raw_tp: typed arguments and direct reads of task fields,
 * at the same cost. Syscall tracepoints run their programs with preemption
 * off, so plain increments of per-CPU values do not race.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#define LOUPE_TARGET_STORAGE
#include "loupe.h"
#include "syscalls.h"
#include "syscall_arch.h"

char LICENSE[] SEC("license") = "GPL";

/* Per task, written on enter only for traced tasks. */
struct syscall_start {
	__u64 ns;   /* 0: no syscall of a traced task in flight */
	__u32 slot;
	__u16 nr;   /* at most SYSCALLS_MAX_NR */
	__u16 own_latency; /* the target is flagged SYSCALLS_TARGET_OWN_LATENCY */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct syscall_start);
} starts SEC(".maps");

/* Indexed by target slot; user space sizes it like `targets`. Small enough
 * per slot (528 bytes) to be a per-CPU array, whose lookup is inlined. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOUPE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct syscalls_totals);
} totals SEC(".maps");

/* Only the (slot, syscall) pairs that happen get memory: a dense per-CPU
 * array of slots x 512 syscalls would cost 8 KiB per slot per CPU. User
 * space sizes it at 64 pairs per slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 64 * LOUPE_MAX_TARGETS);
	__type(key, struct syscalls_key);
	__type(value, struct syscalls_count);
} counts SEC(".maps");

/* Syscall number -> 1 when a profile filters on it (syscalls.only) and so
 * needs its latency apart from the others; written by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSCALLS_MAX_NR);
	__type(key, __u32);
	__type(value, __u32);
} latency_syscalls SEC(".maps");

/* Histograms of the marked syscalls in flagged cgroups, per (slot, syscall);
 * sized like `counts`. Only what some profile asks for, where it asks: a
 * histogram for every pair would cost 33 times the memory of `counts`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 64 * LOUPE_MAX_TARGETS);
	__type(key, struct syscalls_key);
	__type(value, struct syscalls_latency);
} syscall_latency SEC(".maps");

/* The initial value of a syscall_latency entry: too big for the BPF stack. */
static const struct syscalls_latency latency_zero;

static __always_inline void count_syscall_latency(struct syscalls_key *key, __u64 ns)
{
	struct syscalls_latency *hist;
	__u32 *marked;

	marked = bpf_map_lookup_elem(&latency_syscalls, &key->nr);
	if (!marked || !*marked)
		return;
	hist = bpf_map_lookup_elem(&syscall_latency, key);
	if (!hist) {
		/* Only a full map fails here; the call then has no latency of its own. */
		bpf_map_update_elem(&syscall_latency, key, &latency_zero, BPF_NOEXIST);
		hist = bpf_map_lookup_elem(&syscall_latency, key);
		if (!hist)
			return;
	}
	loupe_hist_add(hist->zero, hist->latency, ns);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(loupe_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct syscall_start *start;
	struct loupe_target *target;

	/* Direct BTF loads and, where the kernel has it, cgroup storage: this
	 * runs on every syscall of the node. */
	target = loupe_task_target(task);
	if (!target)
		return 0;
	start = bpf_task_storage_get(&starts, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!start)
		return 0;
	start->slot = target->slot;
	/* Compat numbers would be misnamed as native ones. */
	if ((unsigned long)id >= SYSCALLS_MAX_NR || loupe_task_compat(task))
		id = SYSCALLS_MAX_NR;
	start->nr = id;
	start->own_latency = target->flags & SYSCALLS_TARGET_OWN_LATENCY;
	start->ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(loupe_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct syscall_start *start;
	struct syscalls_totals *total;
	struct syscalls_count *count;
	struct syscalls_key key;
	__u64 ns;

	/* A task that never had local storage was never traced: one load. */
	if (!task->bpf_storage)
		return 0;
	start = bpf_task_storage_get(&starts, task, 0, 0);
	if (!start || !start->ns)
		return 0;
	ns = bpf_ktime_get_ns() - start->ns;
	start->ns = 0;
	key.slot = start->slot;
	key.nr = start->nr;

	total = bpf_map_lookup_elem(&totals, &key.slot);
	if (!total)
		return 0;
	loupe_hist_add(total->zero, total->latency, ns);
	if (ret < 0)
		total->errors++;
	if (start->own_latency)
		count_syscall_latency(&key, ns);

	count = bpf_map_lookup_elem(&counts, &key);
	if (!count) {
		struct syscalls_count zero = {};

		/* Only a full map fails here; the call then stays in totals only. */
		bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&counts, &key);
		if (!count)
			return 0;
	}
	count->calls++;
	if (ret < 0)
		count->errors++;
	return 0;
}
