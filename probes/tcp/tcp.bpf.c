// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/* TCP lifecycle of traced cgroups: connects (with their latency, SYN sent to
 * established) and their failures, accepts, closes with duration and bytes as
 * ring buffer events; retransmits as
 * per-cgroup counters. IPv4 and IPv6. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#define LOUPE_RINGBUF_DROPS
#include "loupe.h"
#include "tcp.h"
#include "syscall_arch.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10

/*
 * Most state changes run in softirq, where the current task (and cgroup) is
 * whoever was interrupted. So a socket is attributed once, in process
 * context (connect() moving it to SYN_SENT, accept() returning it), and
 * later events find their cgroup here. LRU so sockets we never see close
 * cannot fill it.
 */
struct socket_owner {
	__u64 cgroup_id;
	__u64 syn_ns;   /* connect() sent the SYN */
	__u64 start_ns; /* 0 until established */
	__u32 pid;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock * */
	__type(value, struct socket_owner);
} socket_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LOUPE_MAX_TARGETS);
	__type(key, __u64); /* cgroup id */
	__type(value, __u64);
} retransmits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline struct tcp_event *
reserve_event(__u32 kind, __u64 cgroup_id, const struct socket_owner *owner)
{
	struct loupe_target *target = loupe_target_lookup(cgroup_id);
	struct tcp_event *e;

	/* The manager stopped tracing this cgroup since the socket was attributed. */
	if (!target)
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		loupe_ringbuf_dropped();
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->cgroup_id = cgroup_id;
	e->profiles = target->profiles;
	e->time_ns = bpf_ktime_get_ns();
	e->pid = owner->pid;
	return e;
}

/* Family, local (s) and peer (d) ports and addresses; false for other families. */
static __always_inline bool fill_addresses(struct tcp_event *e, const struct sock *sk)
{
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (e->family == AF_INET) {
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
		return true;
	}
	if (e->family == AF_INET6) {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
		return true;
	}
	return false;
}

static __always_inline void on_connect_start(__u64 sk, __u32 oldstate)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	struct socket_owner owner = {};

	if (oldstate != TCP_CLOSE || !loupe_target_lookup(cgroup_id))
		return;
	owner.cgroup_id = cgroup_id;
	owner.syn_ns = bpf_ktime_get_ns();
	owner.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_map_update_elem(&socket_owners, &sk, &owner, BPF_ANY);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(loupe_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 key = (__u64)sk;
	struct socket_owner *owner;
	struct tcp_event *e;
	struct tcp_sock *tp;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	/* connect() runs this in the connecting task: the one place it is current. */
	if (newstate == TCP_SYN_SENT) {
		on_connect_start(key, oldstate);
		return 0;
	}
	owner = bpf_map_lookup_elem(&socket_owners, &key);
	if (!owner)
		return 0;

	if (oldstate == TCP_SYN_SENT && newstate == TCP_ESTABLISHED) {
		owner->start_ns = bpf_ktime_get_ns();
		e = reserve_event(TCP_EVENT_CONNECT, owner->cgroup_id, owner);
		if (!e)
			return 0;
		e->duration_ns = owner->start_ns - owner->syn_ns;
		fill_addresses(e, sk);
		bpf_ringbuf_submit(e, 0);
		return 0;
	}
	if (newstate != TCP_CLOSE)
		return 0;

	if (owner->start_ns == 0) {
		e = reserve_event(TCP_EVENT_CONNECT_FAILED, owner->cgroup_id, owner);
	} else {
		e = reserve_event(TCP_EVENT_CLOSE, owner->cgroup_id, owner);
		if (e) {
			tp = (struct tcp_sock *)sk;
			e->duration_ns = e->time_ns - owner->start_ns;
			e->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
			e->bytes_received = BPF_CORE_READ(tp, bytes_received);
		}
	}
	if (e) {
		fill_addresses(e, sk);
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&socket_owners, &key);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(loupe_tcp_retransmit, const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct socket_owner *owner = bpf_map_lookup_elem(&socket_owners, &key);
	__u64 one = 1, *count;

	if (!owner)
		return 0;
	count = bpf_map_lookup_elem(&retransmits, &owner->cgroup_id);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&retransmits, &owner->cgroup_id, &one, BPF_NOEXIST);
	return 0;
}

/* The socket behind a file descriptor of the current task. */
static __always_inline struct sock *socket_of_fd(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	struct socket *sock;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	if (!file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/*
 * An accepted connection became ESTABLISHED in softirq, before any task owned
 * it; accept() returning it is the first moment its owner is current.
 */
static __always_inline int on_accept_return(long fd)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	struct socket_owner owner = {};
	struct tcp_event *e;
	struct sock *sk;
	__u64 key;

	if (!loupe_target_lookup(cgroup_id) || fd < 0)
		return 0;
	sk = socket_of_fd(fd);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	owner.cgroup_id = cgroup_id;
	owner.syn_ns = bpf_ktime_get_ns();
	owner.pid = bpf_get_current_pid_tgid() >> 32;
	owner.start_ns = bpf_ktime_get_ns();

	e = reserve_event(TCP_EVENT_ACCEPT, cgroup_id, &owner);
	if (!e)
		return 0;
	if (!fill_addresses(e, sk)) {
		bpf_ringbuf_discard(e, 0);
		return 0;
	}
	bpf_ringbuf_submit(e, 0);

	/* Reset before accept() returned: already closed, nothing left to own. */
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_CLOSE)
		return 0;
	key = (__u64)sk;
	bpf_map_update_elem(&socket_owners, &key, &owner, BPF_ANY);
	return 0;
}

/* On every syscall exit of the node: one load and two compares for all but accepts. */
SEC("tp_btf/sys_exit")
int BPF_PROG(loupe_accept_exit, struct pt_regs *regs, long ret)
{
	long nr = loupe_syscall_nr(regs);

	if (nr != LOUPE_NR_accept && nr != LOUPE_NR_accept4)
		return 0;
	if (loupe_task_compat(bpf_get_current_task_btf()))
		return 0;
	return on_accept_return(ret);
}
