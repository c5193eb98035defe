/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The netbytes probe's map, shared with netbytes/kernel.ts, which
 * reads it at the offsets of layout.generated.ts (generated from
 * this header). All counters are cumulative; user space takes deltas between reads.
 */
#ifndef __NETBYTES_H
#define __NETBYTES_H

/* Index of a packet's IP protocol in netbytes_totals.protocols. */
enum netbytes_protocol {
	NETBYTES_TCP = 0,
	NETBYTES_UDP = 1,
	NETBYTES_ICMP = 2,   /* ICMP over IPv4, ICMPv6 over IPv6 */
	NETBYTES_OTHER = 3,  /* anything else, IPv6 extension headers included */
	NETBYTES_PROTOCOLS = 4,
};

/* Per target slot and CPU (64 bytes). */
struct netbytes_totals {
	__u64 bytes_sent;      /* IP packet lengths, headers included */
	__u64 bytes_received;
	__u64 packets_sent;
	__u64 packets_received;
	__u64 protocols[NETBYTES_PROTOCOLS]; /* packets, both directions */
};

#endif /* __NETBYTES_H */
