// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * IP bytes and packets of traced cgroups, in and out, per target slot and
 * protocol.
 *
 * cgroup_skb programs run for sockets of the cgroup they are attached to and
 * of all its descendants, so the agent attaches these once, at the root of
 * the cgroup2 hierarchy (as links, which coexist with other programs there),
 * and filters by the socket's cgroup like every probe filters by current's:
 * packets of untraced sockets cost one hash lookup. The socket's cgroup is
 * the one it was created in, so traffic is attributed to the pod that owns
 * the socket. Packets without a full socket (time-wait, request sockets) are
 * not seen by cgroup_skb at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "loupe.h"
#include "netbytes.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_ICMPV6 58

/* Indexed by target slot; user space sizes it like `targets`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOUPE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct netbytes_totals);
} totals SEC(".maps");

/* The IP protocol of a packet whose data starts at its network header. */
static __always_inline __u32 protocol_of(struct __sk_buff *skb)
{
	__u8 proto;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, offsetof(struct iphdr, protocol), &proto, 1))
			return NETBYTES_OTHER;
		return proto == IPPROTO_TCP ? NETBYTES_TCP : proto == IPPROTO_UDP ? NETBYTES_UDP :
		       proto == IPPROTO_ICMP ? NETBYTES_ICMP : NETBYTES_OTHER;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, offsetof(struct ipv6hdr, nexthdr), &proto, 1))
			return NETBYTES_OTHER;
		return proto == IPPROTO_TCP ? NETBYTES_TCP : proto == IPPROTO_UDP ? NETBYTES_UDP :
		       proto == IPPROTO_ICMPV6 ? NETBYTES_ICMP : NETBYTES_OTHER;
	}
	return NETBYTES_OTHER;
}

/*
 * cgroup_skb runs with migration, not preemption, disabled, and ingress
 * (softirq) can interrupt egress on the same CPU: per-CPU values are
 * updated atomically.
 */
static __always_inline void count(struct __sk_buff *skb, bool egress)
{
	struct loupe_target *target = loupe_target_lookup(bpf_skb_cgroup_id(skb));
	struct netbytes_totals *total;
	__u32 proto;

	if (!target)
		return;
	total = bpf_map_lookup_elem(&totals, &target->slot);
	if (!total)
		return;
	if (egress) {
		__sync_fetch_and_add(&total->bytes_sent, skb->len);
		__sync_fetch_and_add(&total->packets_sent, 1);
	} else {
		__sync_fetch_and_add(&total->bytes_received, skb->len);
		__sync_fetch_and_add(&total->packets_received, 1);
	}
	proto = protocol_of(skb);
	if (proto < NETBYTES_PROTOCOLS)
		__sync_fetch_and_add(&total->protocols[proto], 1);
}

/* Both return 1: count, never drop. */
SEC("cgroup_skb/egress")
int loupe_skb_egress(struct __sk_buff *skb)
{
	count(skb, true);
	return 1;
}

SEC("cgroup_skb/ingress")
int loupe_skb_ingress(struct __sk_buff *skb)
{
	count(skb, false);
	return 1;
}
