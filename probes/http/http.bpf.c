// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/* HTTP/1.x requests of traced cgroups, server and client side, seen through
 * the socket read/write syscalls and counted per series in the kernel by the
 * parser of http_parser.bpf.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "loupe.h"
#include "syscall_arch.h"
#include "http_parser.bpf.h"
#include "http_syscalls.h"

char LICENSE[] SEC("license") = "GPL";

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_INET 2
#define AF_INET6 10

/* A socket read or write in flight, per thread: its fd and first buffer. */
struct io_start {
	__u64 cgroup_id;
	const void *buf;
	__s32 fd;
	bool inbound;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct io_start);
} io_starts SEC(".maps");

/* The TCP socket behind a file descriptor of the current task, or NULL. */
static __always_inline struct sock *tcp_sock_of_fd(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	if (!file || (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	if (!sk || BPF_CORE_READ(sk, sk_type) != SOCK_STREAM || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return family == AF_INET || family == AF_INET6 ? sk : NULL;
}

/* The first buffer of an iovec array (readv/writev, and msghdr's). */
static __always_inline const void *first_iov_base(const struct iovec *iov)
{
	const void *base = NULL;

	bpf_probe_read_user(&base, sizeof(base), &iov->iov_base);
	return base;
}

static __always_inline const void *first_msg_base(const struct user_msghdr *msg)
{
	struct iovec *iov = NULL;

	bpf_probe_read_user(&iov, sizeof(iov), &msg->msg_iov);
	return iov ? first_iov_base(iov) : NULL;
}

/*
 * The raw syscall tracepoints run on every syscall of the node, so each
 * program first compares the syscall number, then looks the cgroup up in
 * `targets`: untraced cgroups pay those two and nothing else.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(loupe_http_enter, struct pt_regs *regs, long id)
{
	struct io_start start = {};
	__u64 pid_tgid, cgroup_id;
	const void *arg;
	struct sock *sk;

	if (!http_syscall_of_interest(id))
		return 0;
	cgroup_id = bpf_get_current_cgroup_id();
	if (!loupe_target_lookup(cgroup_id) || loupe_task_compat(bpf_get_current_task_btf()))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	start.fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
	if (id == LOUPE_NR_close) {
		/* A closed socket's address may be reused by the next one. */
		sk = tcp_sock_of_fd(start.fd);
		if (sk) {
			struct http_conn_id conn = { .tgid = pid_tgid >> 32, .conn = (__u64)sk };

			bpf_map_delete_elem(&http_conns, &conn);
		}
		return 0;
	}
	arg = (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	start.cgroup_id = cgroup_id;
	start.inbound = http_syscall_inbound(id);
	if (id == LOUPE_NR_readv || id == LOUPE_NR_writev)
		start.buf = first_iov_base(arg);
	else if (id == LOUPE_NR_recvmsg || id == LOUPE_NR_sendmsg)
		start.buf = first_msg_base(arg);
	else
		start.buf = arg;
	if (!start.buf)
		return 0;
	bpf_map_update_elem(&io_starts, &pid_tgid, &start, BPF_ANY);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(loupe_http_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid;
	struct io_start *start;
	struct http_conn_id conn;
	struct sock *sk;
	__u16 port;

	if (!http_syscall_of_interest(loupe_syscall_nr(regs)))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	start = bpf_map_lookup_elem(&io_starts, &pid_tgid);
	if (!start)
		return 0;
	sk = ret > 0 ? tcp_sock_of_fd(start->fd) : NULL;
	if (sk) {
		conn.tgid = pid_tgid >> 32;
		conn.conn = (__u64)sk;
		/* A server reads requests on its own port, a client writes them to the peer's. */
		port = start->inbound ? BPF_CORE_READ(sk, __sk_common.skc_num)
				      : bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		http_observe(&conn, start->cgroup_id, start->buf, ret, start->inbound, port, false);
	}
	bpf_map_delete_elem(&io_starts, &pid_tgid);
	return 0;
}
