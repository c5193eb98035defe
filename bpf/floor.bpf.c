// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * The overhead benchmarks' floors, on the hooks the syscalls and http probes use.
 * loupe_floor_sys_*: empty programs, the price of being attached at all
 * (the syscall slow path plus the trampoline), which no probe goes below.
 * loupe_floor_clock_sys_*: one clock read per hook and nothing else, the
 * least any probe that measures each syscall's latency can cost.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(loupe_floor_sys_enter, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(loupe_floor_sys_exit, struct pt_regs *regs, long ret)
{
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(loupe_floor_clock_sys_enter, struct pt_regs *regs, long id)
{
	bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(loupe_floor_clock_sys_exit, struct pt_regs *regs, long ret)
{
	bpf_ktime_get_ns();
	return 0;
}

/* The http probe's hooks where the kernel has the socket tracepoints. */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(loupe_floor_sock_recv, struct sock *sk, int ret, int flags)
{
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(loupe_floor_sock_send, struct sock *sk, int ret, int flags)
{
	return 0;
}
