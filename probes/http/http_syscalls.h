/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* The socket read/write syscalls the http probe watches, per architecture.
 * Include after syscall_arch.h. */
#ifndef __HTTP_SYSCALLS_H
#define __HTTP_SYSCALLS_H

#if defined(__TARGET_ARCH_x86)
/* arch/x86/entry/syscalls/syscall_64.tbl */
#define LOUPE_NR_read 0
#define LOUPE_NR_write 1
#define LOUPE_NR_readv 19
#define LOUPE_NR_writev 20
#define LOUPE_NR_sendto 44
#define LOUPE_NR_recvfrom 45
#define LOUPE_NR_sendmsg 46
#define LOUPE_NR_recvmsg 47
#elif defined(__TARGET_ARCH_arm64)
/* include/uapi/asm-generic/unistd.h */
#define LOUPE_NR_read 63
#define LOUPE_NR_write 64
#define LOUPE_NR_readv 65
#define LOUPE_NR_writev 66
#define LOUPE_NR_sendto 206
#define LOUPE_NR_recvfrom 207
#define LOUPE_NR_sendmsg 211
#define LOUPE_NR_recvmsg 212
#else
#error "http_syscalls.h: add this architecture's syscall numbers"
#endif

static __always_inline bool http_syscall_inbound(long nr)
{
	return nr == LOUPE_NR_read || nr == LOUPE_NR_readv || nr == LOUPE_NR_recvfrom || nr == LOUPE_NR_recvmsg;
}

static __always_inline bool http_syscall_rw(long nr)
{
	return http_syscall_inbound(nr) || nr == LOUPE_NR_write || nr == LOUPE_NR_writev ||
	       nr == LOUPE_NR_sendto || nr == LOUPE_NR_sendmsg;
}

#endif /* __HTTP_SYSCALLS_H */
