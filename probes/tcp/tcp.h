/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Events of the tcp probe, shared with tcp/decode.ts through
 * layout.generated.ts (generated from this header). */
#ifndef __TCP_H
#define __TCP_H

enum tcp_event_kind {
	TCP_EVENT_CONNECT = 1,        /* SYN_SENT -> ESTABLISHED */
	TCP_EVENT_CONNECT_FAILED = 2, /* SYN_SENT -> CLOSE: refused, reset, timed out */
	TCP_EVENT_ACCEPT = 3,         /* accept()/accept4() returned an established socket */
	TCP_EVENT_CLOSE = 4,          /* an established connection reached CLOSE */
};

/* No implicit padding; user space reads it at the offsets of layout.generated.ts. */
struct tcp_event {
	__u64 cgroup_id;
	__u64 profiles;       /* targets[cgroup_id].profiles at the time */
	__u64 time_ns;        /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 duration_ns;    /* connect: since the SYN was sent (connect latency);
	                       * close: since established (connect) or accepted */
	/* close: tcp_sock's RFC 4898 counters. They follow sequence numbers,
	 * so a FIN (and a connect's SYN) counts as one byte. */
	__u64 bytes_acked;    /* sent and acknowledged by the peer */
	__u64 bytes_received;
	__u32 kind;           /* enum tcp_event_kind */
	__u32 pid;            /* tgid of the task that connected or accepted */
	__u16 family;         /* AF_INET or AF_INET6 */
	__u16 sport;          /* host byte order */
	__u16 dport;          /* host byte order */
	__u16 _pad;
	__u8 saddr[16];       /* AF_INET: first 4 bytes */
	__u8 daddr[16];
};

#endif /* __TCP_H */
