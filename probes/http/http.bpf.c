// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/* HTTP/1.x requests of traced cgroups, server and client side, seen at the
 * end of the socket read/write syscalls and counted per series in the kernel by the
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

/* Whether sk is a TCP socket over IPv4 or IPv6. */
static __always_inline bool http_tcp(const struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	return sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP && (family == AF_INET || family == AF_INET6);
}

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

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	file = http_cast(&fdt->fd[fd], kiocb)->ki_filp;
	if (!file)
		return NULL;
	if ((file->f_inode->i_mode & S_IFMT) != S_IFSOCK || !file->private_data)
		return NULL;
	sock = http_cast(file->private_data, socket);
	sk = sock->sk;
	if (!sk || !http_tcp(sk))
		return NULL;
	*ino = file->f_inode->i_ino;
	return sk;
}

/*
 * Per CPU, the last tasks that made a read or write here: a task's pt_regs
 * (the top of its kernel stack, one task's while it lives) and its cgroup2
 * cgroup, in one of HTTP_MEMO_SLOTS slots picked by the stack's address (so
 * a server and a client taking turns on one CPU keep a slot each). The same
 * task's next read or write on this CPU then learns its cgroup with no call
 * to bpf_get_current_task_btf: that helper call, not
 * inlined by this x86 JIT, is about 20 ns on this workplace's VMs and was
 * all an untargeted read or write paid over an empty program. The cgroup's
 * storage is still read each time, so target changes are seen at once.
 * x86 only: arm64 JITs inline the helper (one mrs), and x86's ordered loads
 * are what make the generation read before the cgroup enough.
 */
#if defined(__TARGET_ARCH_x86)
#define HTTP_MEMO 1
#else
#define HTTP_MEMO 0
#endif

struct http_memo {
	__u64 regs; /* 0: none */
	__u64 gen;  /* http_memo_gen when cgrp was read */
	__u64 cgrp; /* struct cgroup * */
};

#define HTTP_MEMO_SLOTS 8

struct http_memos {
	struct http_memo slot[HTTP_MEMO_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_memos);
} http_memos SEC(".maps");

/* The slot of a task's pt_regs: kernel stacks are 16 KiB-aligned, so the
 * bits above 14 tell them apart; a multiplicative hash spreads them. The
 * verifier allows no shift of a pointer, but one pointer minus another is a
 * number: the distance from this CPU's memos, as good a key on this CPU. */
static __always_inline __u32 http_memo_slot(const void *regs, const struct http_memos *memos)
{
	__u64 at = (__u64)regs - (__u64)memos;

	return ((at >> 14) * 0x9e3779b97f4a7c15ULL) >> 61;
}

/* Moves on whenever a memo may have gone stale: a task changed cgroup, or a
 * new task may have the stack (so the pt_regs address) of one that exited. */
__u64 http_memo_gen = 0;

#define HTTP_READ_ONCE(x) (*(volatile __u64 *)&(x))

/*
 * The memoized cgroup of the task whose pt_regs are regs, or NULL. A task
 * that preempts a memo's writer on this CPU writes all of it; regs is read
 * before and after the rest, so a memo read half-overwritten is not used
 * (only the task itself ever writes its own regs there).
 */
static __always_inline struct cgroup *http_memo_cgroup(struct http_memo *m, __u64 regs, __u64 gen)
{
	__u64 seen_gen, cgrp;

	if (HTTP_READ_ONCE(m->regs) != regs)
		return NULL;
	seen_gen = HTTP_READ_ONCE(m->gen);
	cgrp = HTTP_READ_ONCE(m->cgrp);
	if (HTTP_READ_ONCE(m->regs) != regs || seen_gen != gen || !cgrp)
		return NULL;
	return http_cast((void *)cgrp, cgroup);
}

/* gen: http_memo_gen read before the task's cgroup was. */
static __always_inline void http_memo_set(struct http_memo *m, __u64 regs, __u64 gen, __u64 cgrp)
{
	HTTP_READ_ONCE(m->regs) = 0;
	HTTP_READ_ONCE(m->cgrp) = cgrp;
	HTTP_READ_ONCE(m->gen) = gen;
	HTTP_READ_ONCE(m->regs) = regs;
	/* Another task preempted these stores and left its own: forget it. */
	if (HTTP_READ_ONCE(m->cgrp) != cgrp || HTTP_READ_ONCE(m->gen) != gen)
		HTTP_READ_ONCE(m->regs) = 0;
}

/* A new task may get the kernel stack a task that exited had. Fires before
 * the child first runs. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(loupe_http_fork, struct task_struct *parent, struct task_struct *child)
{
	__sync_fetch_and_add(&http_memo_gen, 1);
	return 0;
}

/* A task changed cgroup (fires once the move is done: a read or write in
 * the few microseconds between may still be judged by the old cgroup). */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(loupe_http_migrate, struct cgroup *dst_cgrp, const char *path, struct task_struct *task, bool threadgroup)
{
	__sync_fetch_and_add(&http_memo_gen, 1);
	return 0;
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
 * A read or write of a traced task on a TCP socket, seen at its end: the
 * syscall's arguments are still in the task's pt_regs (regs), and only then
 * is the message in the buffer (a read's bytes have just arrived). The
 * connection's state is kept in the socket's storage when the caller has sk
 * as a trusted pointer (trusted), else in the LRU under the socket's inode
 * number (ino), which no later socket reuses (the struct sock's address is
 * reused as soon as it is freed), so no hook on close is needed: a closed
 * connection's entry ages out.
 */
static __always_inline void http_socket_io(struct task_struct *task, struct pt_regs *regs, long id, struct sock *sk,
					   bool trusted, __u64 ino, long ret)
{
	struct http_conn_id conn = { .tgid = task->tgid, .conn = ino };
	const void *buf = (const void *)PT_REGS_PARM2_SYSCALL(regs);
	bool inbound = http_syscall_inbound(id);
	__u16 port;

	if (id == LOUPE_NR_readv || id == LOUPE_NR_writev)
		buf = first_iov_base(buf);
	else if (id == LOUPE_NR_recvmsg || id == LOUPE_NR_sendmsg)
		buf = first_msg_base(buf);
	if (!buf)
		return;
	/* A server reads requests on its own port, a client writes them to the peer's. */
	port = inbound ? sk->__sk_common.skc_num : bpf_ntohs(sk->__sk_common.skc_dport);
	http_observe(task, NULL, &conn, trusted ? sk : NULL, task->cgroups->dfl_cgrp->kn->id, buf, ret, inbound, port, false);
}

/*
 * The hooks where the kernel has the socket layer's tracepoints (6.3+):
 * they fire at the end of every sendmsg and recvmsg of a socket, with the
 * socket, so only socket I/O pays, no file descriptor is looked up, and
 * the connection's state is in the socket's storage.
 * Where cgroup storage holds the targets, the socket's cgroup (its
 * creator's: for an accepted connection, the listener's) is checked first,
 * with loads alone: a socket no target made costs that and nothing else.
 * Then the task's, which names the pod its requests count for. So a socket
 * counts when both its creator and the task reading or writing it are in a
 * traced pod: in Kubernetes a pod's processes make their sockets there (a
 * process moved into a pod's cgroup later, with its sockets, is the
 * exception; the syscall hooks below, and the targets hash, see it).
 */
static __always_inline void http_socket_hook(struct sock *sk, long ret, bool inbound)
{
	struct task_struct *task;
	struct pt_regs *regs;
	long id;

	if (!sk || (use_target_storage && !sk->sk_cgrp_data.cgroup->bpf_cgrp_storage) || !http_tcp(sk))
		return;
	task = bpf_get_current_task_btf();
	if (!loupe_task_target(task) || loupe_task_compat(task))
		return;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	id = loupe_syscall_nr(regs);
	/* Only the read/write family's buffers are known; sendfile, splice and
	 * io_uring move data the parser cannot see. */
	if (!http_syscall_rw(id) || http_syscall_inbound(id) != inbound)
		return;
	http_socket_io(task, regs, id, sk, true, 0, ret);
}

#define MSG_PEEK 2

SEC("tp_btf/sock_recv_length")
int BPF_PROG(loupe_http_recv, struct sock *sk, int ret, int flags)
{
	/* A peek leaves the bytes for the read that follows. */
	if (ret > 0 && !(flags & MSG_PEEK))
		http_socket_hook(sk, ret, true);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(loupe_http_send, struct sock *sk, int ret, int flags)
{
	if (ret > 0)
		http_socket_hook(sk, ret, false);
	return 0;
}

/*
 * The hooks for kernels without those tracepoints: the raw syscall
 * tracepoint runs on every syscall of the node, so the program first
 * compares the syscall number, then checks the cgroup (one load where
 * cgroup storage holds the targets, found through this CPU's memo when the
 * same task made the last read or write here): untraced cgroups pay those
 * and nothing else. The socket comes from the file descriptor.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(loupe_http_exit, struct pt_regs *regs, long ret)
{
	long id = loupe_syscall_nr(regs);
	struct http_memo *m = NULL;
	struct http_memos *memos;
	struct task_struct *task;
	struct cgroup *cgrp;
	struct sock *sk;
	__u32 zero = 0;
	__u64 gen = 0, ino;

	if (ret <= 0 || !http_syscall_rw(id))
		return 0;
	/* The memo answers only for cgroup storage (the targets hash needs the
	 * cgroup's id, another load through the task's). */
	if (HTTP_MEMO && use_target_storage) {
		gen = HTTP_READ_ONCE(http_memo_gen);
		memos = bpf_map_lookup_elem(&http_memos, &zero);
		if (memos) {
			m = &memos->slot[http_memo_slot(regs, memos) & (HTTP_MEMO_SLOTS - 1)];
			cgrp = http_memo_cgroup(m, (__u64)regs, gen);
			if (cgrp) {
				if (!cgrp->bpf_cgrp_storage)
					return 0;
				m = NULL; /* a targeted cgroup: the memo is right as it is */
			}
		}
	}
	task = bpf_get_current_task_btf();
	if (m)
		http_memo_set(m, (__u64)regs, gen, (__u64)task->cgroups->dfl_cgrp);
	if (!loupe_task_target(task) || loupe_task_compat(task))
		return 0;
	sk = tcp_sock_of_fd(task, PT_REGS_PARM1_SYSCALL(regs), &ino);
	if (sk)
		http_socket_io(task, regs, id, sk, false, ino, ret);
	return 0;
}
