// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/* HTTP/1.x requests of traced cgroups, server and client side, seen through
 * the socket read/write syscalls and counted per series in the kernel by the
 * parser of http_parser.bpf.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
/* The filter on cgroup storage: this runs on the node's every read and write. */
#define LOUPE_TARGET_STORAGE
#include "loupe.h"
#include "syscall_arch.h"
#include "http_parser.bpf.h"
#include "http_syscalls.h"

char LICENSE[] SEC("license") = "GPL";

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_INET 2
#define AF_INET6 10

/* Gives a kernel pointer its BTF type, so its fields are plain loads (which
 * the verifier guards) instead of a probe-read helper call each. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define http_cast(ptr, type) ((struct type *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(struct type)))

/* The TCP socket behind a file descriptor of the task, or NULL, and its
 * inode number in *ino. All loads, no helper call: the fd array's slot, at
 * a variable index, is read as the first member of a struct kiocb (a
 * struct file *), as the verifier types no pointer to a pointer. */
static __always_inline struct sock *tcp_sock_of_fd(struct task_struct *task, long fd, __u64 *ino)
{
	struct fdtable *fdt = task->files->fdt;
	struct file *file;
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	file = http_cast(&fdt->fd[fd], kiocb)->ki_filp;
	if (!file)
		return NULL;
	if ((file->f_inode->i_mode & S_IFMT) != S_IFSOCK || !file->private_data)
		return NULL;
	sock = http_cast(file->private_data, socket);
	sk = sock->sk;
	if (!sk || sk->sk_type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP)
		return NULL;
	family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	*ino = file->f_inode->i_ino;
	return sk;
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
 * The raw syscall tracepoint runs on every syscall of the node, so the
 * program first compares the syscall number, then checks the cgroup (one
 * load where cgroup storage holds the targets): untraced cgroups pay those
 * two and nothing else. Reads and writes are seen at their return only: the
 * syscall's arguments are still in its pt_regs, and only there is the
 * message in the buffer (a read's bytes have just arrived).
 *
 * A connection is named by its socket's inode number, which no later socket
 * reuses (the struct sock's address is reused as soon as it is freed), so no
 * hook on close is needed: a closed connection's entry ages out of the LRU.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(loupe_http_exit, struct pt_regs *regs, long ret)
{
	long id = loupe_syscall_nr(regs);
	struct task_struct *task;
	struct http_conn_id conn;
	const void *buf;
	struct sock *sk;
	bool inbound;
	__u16 port;

	if (ret <= 0 || !http_syscall_rw(id))
		return 0;
	task = bpf_get_current_task_btf();
	if (!loupe_task_target(task) || loupe_task_compat(task))
		return 0;
	sk = tcp_sock_of_fd(task, PT_REGS_PARM1_SYSCALL(regs), &conn.conn);
	if (!sk)
		return 0;
	buf = (const void *)PT_REGS_PARM2_SYSCALL(regs);
	if (id == LOUPE_NR_readv || id == LOUPE_NR_writev)
		buf = first_iov_base(buf);
	else if (id == LOUPE_NR_recvmsg || id == LOUPE_NR_sendmsg)
		buf = first_msg_base(buf);
	if (!buf)
		return 0;
	conn.tgid = task->tgid;
	inbound = http_syscall_inbound(id);
	/* A server reads requests on its own port, a client writes them to the peer's. */
	port = inbound ? sk->__sk_common.skc_num : bpf_ntohs(sk->__sk_common.skc_dport);
	http_observe(task, NULL, &conn, task->cgroups->dfl_cgrp->kn->id, buf, ret, inbound, port, false);
	return 0;
}
