// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Run-queue latency of traced cgroups: the time a thread spends runnable but
 * not running, from its wakeup (or its preemption) to the context switch
 * that puts it on a CPU, as a log2 histogram per target slot and a count of
 * waits per thread name.
 *
 * Wakeups run in the waker's context, so the wakee's cgroup is read from
 * the wakee itself (task->cgroups->dfl_cgrp). Start times live in task
 * storage, created only for traced threads, so sched_switch (every context
 * switch of the node) costs untraced threads one load of ->bpf_storage.
 * Scheduler tracepoints run with the run-queue lock held and preemption off:
 * plain increments of per-CPU values do not race.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#define LOUPE_TARGET_STORAGE /* sched hooks run on every context switch */
#include "loupe.h"
#include "runqlat.h"

char LICENSE[] SEC("license") = "GPL";

#define TASK_RUNNING 0

/* Per thread, written when a traced thread becomes runnable. */
struct runqlat_start {
	__u64 ns;   /* 0: not waiting */
	__u32 slot;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct runqlat_start);
} starts SEC(".maps");

/* Indexed by target slot; user space sizes it like `targets`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOUPE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct runqlat_totals);
} totals SEC(".maps");

/* Waits per (slot, thread name); user space sizes it at 64 names per slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 64 * LOUPE_MAX_TARGETS);
	__type(key, struct runqlat_key);
	__type(value, __u64);
} waits SEC(".maps");

/* Starts the clock of a thread that became runnable, if its cgroup is traced. */
static __always_inline void runnable(struct task_struct *task)
{
	struct loupe_target *target = loupe_task_target(task);
	struct runqlat_start *start;

	if (!target)
		return;
	start = bpf_task_storage_get(&starts, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!start)
		return;
	start->slot = target->slot;
	start->ns = bpf_ktime_get_ns();
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(loupe_sched_wakeup, struct task_struct *task)
{
	runnable(task);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(loupe_sched_wakeup_new, struct task_struct *task)
{
	runnable(task);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(loupe_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct runqlat_start *start;
	struct runqlat_totals *total;
	struct runqlat_key key = {};
	__u64 *count, ns;

	/* A preempted thread stays runnable: it waits again from now. */
	if (prev->__state == TASK_RUNNING)
		runnable(prev);

	/* A thread that never had local storage was never traced: one load. */
	if (!next->bpf_storage)
		return 0;
	start = bpf_task_storage_get(&starts, next, 0, 0);
	if (!start || !start->ns)
		return 0;
	ns = bpf_ktime_get_ns() - start->ns;
	start->ns = 0;
	key.slot = start->slot;

	total = bpf_map_lookup_elem(&totals, &key.slot);
	if (!total)
		return 0;
	loupe_hist_add(total->zero, total->latency, ns);

	__builtin_memcpy(key.comm, next->comm, sizeof(key.comm));
	count = bpf_map_lookup_elem(&waits, &key);
	if (!count) {
		__u64 zero = 0;

		/* Only a full map fails here; the wait then stays in totals only. */
		bpf_map_update_elem(&waits, &key, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&waits, &key);
		if (!count)
			return 0;
	}
	(*count)++;
	return 0;
}
