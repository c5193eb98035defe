// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * On-CPU stack sampling of traced cgroups: a software cpu-clock perf event
 * per CPU (user space opens them at the node's frequency) runs this program
 * on whatever task is on the CPU. Samples of traced tasks are counted per
 * (cgroup, process, user stack, kernel stack) in the kernel, with the
 * sampling period of each, so their CPU time stays exact when the rate
 * changes between drains; user space drains the counts and symbolizes the
 * stacks.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "loupe.h"
#include "profile.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * The perf_event program's context as the uapi fixes it (linux/bpf_perf_event.h),
 * read without CO-RE: it is ABI, the verifier rewrites these loads, and a
 * relocation against vmlinux.h's copy would make sampling, which needs no
 * kernel type otherwise, fail on a kernel without BTF.
 */
struct loupe_perf_event_ctx {
	bpf_user_pt_regs_t regs;
	__u64 sample_period;
	__u64 addr;
};

/* Distinct stacks between two drains; user space deletes the ones it read. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, PROFILE_MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* Samples and their periods per key since the last drain; when it is full, new keys are dropped until then. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct profile_key);
	__type(value, struct profile_count);
} counts SEC(".maps");

static __always_inline void add_sample(struct profile_count *count, __u64 period)
{
	__sync_fetch_and_add(&count->samples, 1);
	__sync_fetch_and_add(&count->cpu_ns, period);
}

SEC("perf_event")
int loupe_profile(struct loupe_perf_event_ctx *ctx)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	struct profile_key key = {};
	struct profile_count *count, first;
	/* The event's period when this sample fired: NSEC_PER_SEC / its frequency for cpu-clock. */
	__u64 period = ctx->sample_period;

	if (!loupe_target_lookup(cgroup_id))
		return 0;
	key.cgroup_id = cgroup_id;
	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.user_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	key.kernel_stack_id = bpf_get_stackid(ctx, &stacks, 0);
	bpf_get_current_comm(key.comm, sizeof(key.comm));

	count = bpf_map_lookup_elem(&counts, &key);
	if (count) {
		add_sample(count, period);
		return 0;
	}
	first.samples = 1;
	first.cpu_ns = period;
	/* Another CPU may have added the key meanwhile: then add to its count. */
	if (bpf_map_update_elem(&counts, &key, &first, BPF_NOEXIST) == 0)
		return 0;
	count = bpf_map_lookup_elem(&counts, &key);
	if (count)
		add_sample(count, period);
	return 0;
}
