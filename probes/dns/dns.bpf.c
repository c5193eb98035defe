// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * DNS over UDP of traced cgroups, client side: queries by type, answers by
 * response code with their latency, timeouts, and queries and failures per
 * question name, counted in the kernel.
 *
 * Like netbytes, these cgroup_skb programs are attached once, at the cgroup2
 * root, and filter by the socket's cgroup. A packet is looked at only when it
 * is UDP to (egress: a query) or from (ingress: an answer) a port of `ports`;
 * only then is its cgroup looked up, and only for a traced one are its DNS
 * header and first question read. A query waits in `inflight`, keyed by its
 * socket, id and type; its answer takes it out and is counted with its
 * latency. User space counts as timeouts the queries still waiting after
 * timeout_ns. Both programs always return 1: the probe never drops a packet.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "loupe.h"
#include "dns.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define EEXIST 17

#define DNS_QR 0x8000     /* set in answers */
#define DNS_OPCODE 0x7800 /* 0: a standard query */
#define DNS_RCODE 0x000f
#define DNS_MIN_QUESTION 5 /* the root name (one byte), QTYPE and QCLASS */
#define DNS_MAX_WIRE_NAME 255

/* A query's answer arriving later than this is a timeout, not an answer;
 * user space sets it and sweeps `inflight` with the same value. */
const volatile __u64 timeout_ns = 5000000000ULL;

/* The fixed IPv4 header as it is on the wire (not the kernel's struct
 * iphdr, whose ihl bitfield CO-RE would relocate): an ABI, never moved. */
struct ipv4_head {
	__u8 version_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__be16 check;
	__be32 saddr;
	__be32 daddr;
};

struct dns_header {
	__be16 id;
	__be16 flags;
	__be16 qdcount;
	__be16 ancount;
	__be16 nscount;
	__be16 arcount;
};

/* Server ports (host order) whose traffic is DNS; user space writes the
 * union of every profile's `ports`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u16);
	__type(value, __u8);
} ports SEC(".maps");

/* LRU: a query whose answer never comes must not hold an entry for ever
 * when user space is not sweeping (between its reads, or gone). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct dns_flight_key);
	__type(value, struct dns_flight);
} inflight SEC(".maps");

/* Per (cgroup, qtype, rcode); user space sizes it at 16 rows per target.
 * Not preallocated, like `names` and `spilled`: their entries (a histogram,
 * a name) cost memory only for the rows a drain interval uses. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16 * LOUPE_MAX_TARGETS);
	__type(key, struct dns_stats_key);
	__type(value, struct dns_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, struct dns_name_key);
	__type(value, struct dns_name_counts);
} names SEC(".maps");

/* Per cgroup id; user space sizes it like `targets`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LOUPE_MAX_TARGETS);
	__type(key, __u64);
	__type(value, struct dns_spilled);
} spilled SEC(".maps");

/*
 * Where a packet's question is parsed: too big for the stack. One slot per
 * direction: an ingress program (softirq) can interrupt an egress one on the
 * same CPU, while neither runs inside itself for a UDP packet to or from a
 * DNS port (egress runs in the sending task's system call).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct dns_flight);
} scratch SEC(".maps");

static const struct dns_stats zero_stats;
static const struct dns_spilled zero_spilled;

/* The offset of the UDP payload of a packet to (egress) or from (ingress) a
 * DNS port, or 0 when it is not one. */
static __always_inline __u32 dns_payload(struct __sk_buff *skb, bool egress)
{
	struct udphdr udp;
	__u16 port;
	__u32 l4;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct ipv4_head ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return 0;
		/* A fragment other than the first has no UDP header. */
		if (ip.protocol != IPPROTO_UDP || ip.frag_off & bpf_htons(IP_OFFSET))
			return 0;
		l4 = (ip.version_ihl & 0xf) * 4;
		if (l4 < sizeof(ip))
			return 0;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__u8 nexthdr;

		/* Extension headers before UDP are left out: DNS does not use them. */
		if (bpf_skb_load_bytes(skb, offsetof(struct ipv6hdr, nexthdr), &nexthdr, 1))
			return 0;
		if (nexthdr != IPPROTO_UDP)
			return 0;
		l4 = sizeof(struct ipv6hdr);
	} else {
		return 0;
	}
	if (bpf_skb_load_bytes(skb, l4, &udp, sizeof(udp)))
		return 0;
	port = bpf_ntohs(egress ? udp.dest : udp.source);
	if (!bpf_map_lookup_elem(&ports, &port))
		return 0;
	return l4 + sizeof(udp);
}

/* The walk over a question name's labels, length byte to length byte. */
struct name_walk {
	const __u8 *name;
	__u32 avail; /* wire bytes loaded into name */
	__u32 pos;   /* the next length byte */
	__u32 end;   /* once the terminator is seen: the name's wire length */
	bool bad;
};

/* One label: its length byte, then a jump over it. Only the structure is
 * checked here; user space turns wire names into text. */
static long label_step(__u32 index, struct name_walk *w)
{
	__u8 len;

	if (w->pos >= w->avail) {
		w->bad = true; /* the name runs past the packet, or past 255 bytes */
		return 1;
	}
	len = w->name[w->pos & (DNS_NAME_LEN - 1)];
	if (len == 0) {
		w->end = w->pos + 1;
		return 1;
	}
	/* A compression pointer (or a reserved label type): never in a
	 * question, which is the first name of its message. */
	if (len & 0xc0) {
		w->bad = true;
		return 1;
	}
	w->pos += len + 1;
	return 0;
}

/*
 * Zeroes name after its first `end` bytes (the packet's bytes after the
 * name, and an earlier packet's), so equal names are equal keys: 32 word
 * stores, no loop. Little-endian words, as on every target Loupe builds for
 * (x86_64, arm64): a word's first bytes are its low ones.
 */
static __always_inline void zero_after(char *name, __u32 end)
{
	__u64 *words = (__u64 *)name;

#pragma unroll
	for (int k = 0; k < DNS_NAME_LEN / 8; k++) {
		__s32 keep = (__s32)end - 8 * k;

		if (keep <= 0)
			words[k] = 0;
		else if (keep < 8)
			words[k] &= (1ULL << (keep * 8)) - 1;
	}
}

/* Reads the first question into q->name (its wire form, NUL-padded) and
 * q->qtype; non-zero when it is malformed. */
static __always_inline int read_question(struct __sk_buff *skb, __u32 off, struct dns_flight *q)
{
	struct name_walk walk = { .name = (const __u8 *)q->name };
	__u32 avail;
	__be16 qtype;

	if (skb->len < off + sizeof(struct dns_header) + DNS_MIN_QUESTION)
		return -1;
	off += sizeof(struct dns_header);
	avail = skb->len - off;
	if (avail > DNS_MAX_WIRE_NAME)
		avail = DNS_MAX_WIRE_NAME;
	if (avail < DNS_MIN_QUESTION)
		return -1;
	/* Again, in a form whose bound the verifier sees: 1 to 256. */
	avail = ((avail - 1) & (DNS_NAME_LEN - 1)) + 1;
	if (bpf_skb_load_bytes(skb, off, q->name, avail))
		return -1;
	walk.avail = avail;
	/* At most 128 labels fit in 255 bytes. */
	bpf_loop(DNS_NAME_LEN / 2, label_step, &walk, 0);
	if (walk.bad || walk.end == 0)
		return -1;
	zero_after(q->name, walk.end);
	if (skb->len < off + walk.end + 4)
		return -1;
	if (bpf_skb_load_bytes(skb, off + walk.end, &qtype, sizeof(qtype)))
		return -1;
	q->qtype = bpf_ntohs(qtype);
	return 0;
}

static __always_inline struct dns_spilled *spilled_of(__u64 cgroup_id)
{
	struct dns_spilled *s = bpf_map_lookup_elem(&spilled, &cgroup_id);

	if (s)
		return s;
	bpf_map_update_elem(&spilled, &cgroup_id, &zero_spilled, BPF_NOEXIST);
	return bpf_map_lookup_elem(&spilled, &cgroup_id);
}

/* The stats row of (cgroup, qtype, rcode), made when missing; NULL when the
 * map is full. */
static __always_inline struct dns_stats *stats_row(__u64 cgroup_id, __u16 qtype, __u16 rcode)
{
	struct dns_stats_key key = { .cgroup_id = cgroup_id, .qtype = qtype, .rcode = rcode };
	struct dns_stats *row = bpf_map_lookup_elem(&stats, &key);

	if (row)
		return row;
	bpf_map_update_elem(&stats, &key, &zero_stats, BPF_NOEXIST);
	return bpf_map_lookup_elem(&stats, &key);
}

/* Adds to a name's counts (key: a flight, whose first members are a
 * struct dns_name_key), or to its cgroup's spill when `names` is full. */
static __always_inline void count_name(struct dns_flight *key, __u64 queries, __u64 errors)
{
	struct dns_name_counts fresh = { .queries = queries, .errors = errors };
	struct dns_name_counts *counts;
	struct dns_spilled *s;

	counts = bpf_map_lookup_elem(&names, key);
	if (!counts && bpf_map_update_elem(&names, key, &fresh, BPF_NOEXIST) == 0)
		return;
	/* Full, or raced by another CPU inserting the same name: look again. */
	if (!counts)
		counts = bpf_map_lookup_elem(&names, key);
	if (counts) {
		__sync_fetch_and_add(&counts->queries, queries);
		__sync_fetch_and_add(&counts->errors, errors);
		return;
	}
	s = spilled_of(key->cgroup_id);
	if (s) {
		__sync_fetch_and_add(&s->name_queries, queries);
		__sync_fetch_and_add(&s->name_errors, errors);
	}
}

static __always_inline void count_query(struct dns_flight *q, bool retry)
{
	struct dns_stats *row = stats_row(q->cgroup_id, q->qtype, DNS_NO_RCODE);
	struct dns_spilled *s;

	if (row) {
		__sync_fetch_and_add(&row->queries, 1);
		if (retry)
			__sync_fetch_and_add(&row->retries, 1);
	} else if ((s = spilled_of(q->cgroup_id))) {
		__sync_fetch_and_add(&s->queries, 1);
		if (retry)
			__sync_fetch_and_add(&s->retries, 1);
	}
	count_name(q, 1, 0);
}

static __always_inline void count_timeout(struct dns_flight *q)
{
	struct dns_stats *row = stats_row(q->cgroup_id, q->qtype, DNS_NO_RCODE);
	struct dns_spilled *s;

	if (row)
		__sync_fetch_and_add(&row->timeouts, 1);
	else if ((s = spilled_of(q->cgroup_id)))
		__sync_fetch_and_add(&s->timeouts, 1);
	count_name(q, 0, 1);
}

static __always_inline void count_answer(struct dns_flight *q, __u16 rcode, __u64 ns)
{
	struct dns_stats *row = stats_row(q->cgroup_id, q->qtype, rcode);
	struct dns_spilled *s;

	if (row) {
		__sync_fetch_and_add(&row->answers, 1);
		if (ns == 0)
			__sync_fetch_and_add(&row->zero, 1);
		else
			__sync_fetch_and_add(&row->latency[loupe_log2_slot(ns)], 1);
	} else if ((s = spilled_of(q->cgroup_id))) {
		__sync_fetch_and_add(&s->answers, 1);
		if (rcode)
			__sync_fetch_and_add(&s->errors, 1);
		if (ns == 0)
			__sync_fetch_and_add(&s->zero, 1);
		else
			__sync_fetch_and_add(&s->latency[loupe_log2_slot(ns)], 1);
	}
	if (rcode)
		count_name(q, 0, 1);
}

static __always_inline void count_malformed(__u64 cgroup_id)
{
	struct dns_spilled *s = spilled_of(cgroup_id);

	if (s)
		__sync_fetch_and_add(&s->malformed, 1);
}

static __always_inline bool same_name(const char *a, const char *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

#pragma unroll
	for (int i = 0; i < DNS_NAME_LEN / 8; i++)
		if (x[i] != y[i])
			return false;
	return true;
}

static __always_inline void on_query(struct __sk_buff *skb, struct dns_flight *q, struct dns_header *hdr)
{
	struct dns_flight_key key = { .cookie = bpf_get_socket_cookie(skb), .id = bpf_ntohs(hdr->id), .qtype = q->qtype };

	q->start_ns = bpf_ktime_get_ns();
	/* A retry keeps its first send's entry: latency is what the client
	 * waited since it first asked. */
	count_query(q, bpf_map_update_elem(&inflight, &key, q, BPF_NOEXIST) == -EEXIST);
}

static __always_inline void on_answer(struct __sk_buff *skb, struct dns_flight *a, struct dns_header *hdr)
{
	struct dns_flight_key key = { .cookie = bpf_get_socket_cookie(skb), .id = bpf_ntohs(hdr->id), .qtype = a->qtype };
	struct dns_flight *q = bpf_map_lookup_elem(&inflight, &key);
	__u64 now = bpf_ktime_get_ns(), start;

	if (!q || !same_name(q->name, a->name))
		return; /* not an answer to a query we saw */
	start = q->start_ns;
	a->cgroup_id = q->cgroup_id;
	/* Whoever deletes the entry counts it: user space may be sweeping it
	 * as a timeout right now. */
	if (bpf_map_delete_elem(&inflight, &key))
		return;
	if (now - start >= timeout_ns)
		count_timeout(a);
	else
		count_answer(a, bpf_ntohs(hdr->flags) & DNS_RCODE, now - start);
}

static __always_inline void handle(struct __sk_buff *skb, bool egress)
{
	__u32 off = dns_payload(skb, egress), slot = egress ? 0 : 1;
	struct dns_header hdr;
	struct dns_flight *q;
	__u64 cgroup_id;
	__u16 flags;

	if (!off)
		return;
	cgroup_id = bpf_skb_cgroup_id(skb);
	if (!loupe_target_lookup(cgroup_id))
		return;
	if (bpf_skb_load_bytes(skb, off, &hdr, sizeof(hdr))) {
		count_malformed(cgroup_id);
		return;
	}
	flags = bpf_ntohs(hdr.flags);
	/* Queries go out, answers come in; other opcodes (NOTIFY, UPDATE) are
	 * not lookups. An answer without a question (some FORMERR) cannot be
	 * matched, and is left out like any unmatched answer. */
	if (!!(flags & DNS_QR) == egress || flags & DNS_OPCODE)
		return;
	if (hdr.qdcount == 0) {
		if (egress)
			count_malformed(cgroup_id);
		return;
	}
	q = bpf_map_lookup_elem(&scratch, &slot);
	if (!q)
		return;
	q->cgroup_id = cgroup_id;
	if (read_question(skb, off, q)) {
		count_malformed(cgroup_id);
		return;
	}
	if (egress)
		on_query(skb, q, &hdr);
	else
		on_answer(skb, q, &hdr);
}

SEC("cgroup_skb/egress")
int loupe_dns_egress(struct __sk_buff *skb)
{
	handle(skb, true);
	return 1;
}

SEC("cgroup_skb/ingress")
int loupe_dns_ingress(struct __sk_buff *skb)
{
	handle(skb, false);
	return 1;
}
