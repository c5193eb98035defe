// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * OOM kills of traced cgroups, posted as rare events to a ring buffer.
 *
 * oom:mark_victim runs in the context of the task whose allocation failed,
 * which need not be the victim (any task of the memory cgroup, or of the
 * node on a global OOM). tp_btf hands us the victim's task_struct, so the
 * cgroup, pid and comm are the victim's own, not current's. (Older kernels,
 * whose mark_victim passes only a pid, reject this program at load.)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#define LOUPE_RINGBUF_DROPS
#include "loupe.h"
#include "oomkill.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("tp_btf/mark_victim")
int BPF_PROG(loupe_mark_victim, struct task_struct *task, uid_t uid)
{
	__u64 cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	struct loupe_target *target = loupe_target_lookup(cgroup_id);
	struct oomkill_event *e;

	if (!target)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		loupe_ringbuf_dropped();
		return 0;
	}
	e->cgroup_id = cgroup_id;
	e->profiles = target->profiles;
	e->time_ns = bpf_ktime_get_ns();
	e->total_vm = task->mm ? task->mm->total_vm : 0;
	e->pid = task->tgid;
	e->uid = uid;
	e->trigger_pid = bpf_get_current_pid_tgid() >> 32;
	e->pad = 0;
	__builtin_memcpy(e->comm, task->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
