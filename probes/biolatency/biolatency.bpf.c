// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Block I/O of traced cgroups: requests, bytes, errors and latency from
 * submission to completion, per target slot and per device.
 *
 * Completions run in interrupt context on any CPU, so the owner is decided
 * at block_io_start (6.5+), which fires when a bio becomes a new request,
 * inside submit_bio and so in the submitting task's context, before any
 * plugging or kworker dispatch. Bios merged into an existing request are
 * counted (their bytes) under that request's owner. Writeback of buffered
 * writes is submitted by kernel flushers, not by the pod: only direct and
 * synchronous I/O of the pod's own tasks is attributed to it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "loupe.h"
#include "biolatency.h"

char LICENSE[] SEC("license") = "GPL";

#define REQ_OP_BITS 8
#define REQ_OP_MASK ((1 << REQ_OP_BITS) - 1)
#define OP_READ 0
#define OP_WRITE 1

/* A request of a traced task in flight. */
struct biolatency_start {
	__u64 ns;
	__u32 slot;
	__u32 dev;
};

/* Keyed by the request's address, which the next request drawn from the
 * same tag pool reuses, whoever issues it: an entry must not outlive its
 * request. LRU: a request that never completes (a driver that drops it)
 * must not hold an entry for ever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct biolatency_start);
} starts SEC(".maps");

/* Indexed by target slot; user space sizes it like `targets`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOUPE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct biolatency_totals);
} totals SEC(".maps");

/* Per (slot, device); user space sizes it at 16 devices per slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16 * LOUPE_MAX_TARGETS);
	__type(key, struct biolatency_key);
	__type(value, struct biolatency_count);
} devices SEC(".maps");

SEC("tp_btf/block_io_start")
int BPF_PROG(loupe_block_io_start, struct request *rq)
{
	struct loupe_target *target = loupe_target_lookup(bpf_get_current_cgroup_id());
	struct biolatency_start start = {};
	__u64 key = (__u64)rq;
	struct gendisk *disk;

	/* An untraced request at the address of a traced one freed unseen
	 * must not complete against that request's entry. */
	if (!target) {
		bpf_map_delete_elem(&starts, &key);
		return 0;
	}
	start.ns = bpf_ktime_get_ns();
	start.slot = target->slot;
	disk = rq->q->disk;
	/* The whole disk, as MKDEV() builds dev_t; rq->part is not set yet here. */
	start.dev = disk ? (__u32)disk->major << 20 | disk->first_minor : 0;
	bpf_map_update_elem(&starts, &key, &start, BPF_ANY);
	return 0;
}

/* A request merged into another is freed without completing: its bytes
 * complete with the request it joined. */
SEC("tp_btf/block_rq_merge")
int BPF_PROG(loupe_block_rq_merge, struct request *rq)
{
	__u64 key = (__u64)rq;

	bpf_map_delete_elem(&starts, &key);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(loupe_block_rq_complete, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	__u64 key = (__u64)rq;
	struct biolatency_start *start = bpf_map_lookup_elem(&starts, &key);
	struct biolatency_totals *total;
	struct biolatency_count *count;
	struct biolatency_key dev_key;
	__u32 op;
	__u64 ns;

	if (!start)
		return 0;
	total = bpf_map_lookup_elem(&totals, &start->slot);
	if (!total)
		return 0;
	op = rq->cmd_flags & REQ_OP_MASK;
	if (op == OP_READ)
		total->bytes_read += nr_bytes;
	else if (op == OP_WRITE)
		total->bytes_written += nr_bytes;
	/* A partial completion leaves the rest of the request in flight. */
	if (nr_bytes < rq->__data_len && !error)
		return 0;

	ns = bpf_ktime_get_ns() - start->ns;
	total->ios++;
	if (error)
		total->errors++;
	loupe_hist_add(total->zero, total->latency, ns);

	dev_key.slot = start->slot;
	dev_key.dev = start->dev;
	bpf_map_delete_elem(&starts, &key);
	count = bpf_map_lookup_elem(&devices, &dev_key);
	if (!count) {
		struct biolatency_count zero = {};

		/* Only a full map fails here; the request then stays in totals only. */
		bpf_map_update_elem(&devices, &dev_key, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&devices, &dev_key);
		if (!count)
			return 0;
	}
	count->ios++;
	if (error)
		count->errors++;
	return 0;
}
