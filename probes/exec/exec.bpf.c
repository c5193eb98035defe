// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/* Process lifecycle of traced cgroups: every successful exec and every
 * process exit, posted as rare events to a ring buffer. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#define LOUPE_RINGBUF_DROPS
#include "loupe.h"
#include "exec.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline struct exec_event *
reserve_event(const struct loupe_target *target, __u64 cgroup_id, __u32 kind)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		loupe_ringbuf_dropped();
		return NULL;
	}
	e->cgroup_id = cgroup_id;
	e->profiles = target->profiles;
	e->time_ns = bpf_ktime_get_ns();
	e->kind = kind;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->filename[0] = '\0';
	return e;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(loupe_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	struct loupe_target *target = loupe_target_lookup(cgroup_id);
	struct exec_event *e;

	if (!target)
		return 0;
	e = reserve_event(target, cgroup_id, EXEC_EVENT_EXEC);
	if (!e)
		return 0;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * Kernels 6.16 and later pass group_dead (this exit ends the process) as a
 * second argument. The tracepoint's event struct gained the field in the same
 * change, so its presence says whether ctx[1] exists; on older kernels the
 * verifier never sees that load, and only the thread-group leader's exit counts.
 */
/* Only group_dead is asked about. CO-RE ignores the ___loupe suffix, so this
 * finds the kernel's struct wherever it exists, whatever vmlinux.h holds. */
struct trace_event_raw_sched_process_exit___loupe {
	bool group_dead;
} __attribute__((preserve_access_index));

SEC("tp_btf/sched_process_exit")
int loupe_exit(__u64 *ctx)
{
	struct trace_event_raw_sched_process_exit___loupe *fields = NULL;
	struct task_struct *task = (struct task_struct *)ctx[0];
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	struct loupe_target *target = loupe_target_lookup(cgroup_id);
	struct exec_event *e;
	bool process_exits;

	if (!target)
		return 0;
	if (bpf_core_field_exists(fields->group_dead))
		process_exits = (bool)ctx[1];
	else
		process_exits = BPF_CORE_READ(task, pid) == BPF_CORE_READ(task, tgid);
	if (!process_exits)
		return 0;
	e = reserve_event(target, cgroup_id, EXEC_EVENT_EXIT);
	if (!e)
		return 0;
	e->exit_code = BPF_CORE_READ(task, exit_code);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
