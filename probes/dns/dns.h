/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The dns probe's maps, shared with dns/decode.ts through
 * layout.generated.ts (generated from this header). The counting maps are
 * drained (read and deleted) by user space, so each read is a delta.
 */
#ifndef __DNS_H
#define __DNS_H

/* A question name as it is on the wire (length-prefixed labels, then a
 * zero byte), NUL-padded: DNS allows at most 255 bytes. User space makes it
 * text. */
#define DNS_NAME_LEN 256

/* dns_stats_key.rcode of the row that counts queries, retries and timeouts
 * (what has no response code); answers count under their rcode (0-15). */
#define DNS_NO_RCODE 0xffff

/* Key of `stats`. */
struct dns_stats_key {
	__u64 cgroup_id;
	__u16 qtype;  /* the question's QTYPE (1 = A, 28 = AAAA, ...) */
	__u16 rcode;  /* the answer's RCODE, or DNS_NO_RCODE */
	__u32 pad;
};

/* Value of `stats` (552 bytes). */
struct dns_stats {
	__u64 queries;   /* sends, retries included */
	__u64 retries;   /* sends whose id was already in flight from the same socket */
	__u64 timeouts;  /* queries whose answer came (if ever) after the timeout */
	__u64 answers;
	__u64 zero;      /* answers in 0 ns: the zero bucket */
	__u64 latency[64]; /* latency[k] counts answers in (2^(k-1), 2^k] ns */
};

/* Key of `names`: the first two members of struct dns_flight are the same,
 * so a flight is the key of its name's counts. */
struct dns_name_key {
	__u64 cgroup_id;
	char name[DNS_NAME_LEN];
};

/* Value of `names`. */
struct dns_name_counts {
	__u64 queries;
	__u64 errors; /* answers with an rcode other than NOERROR, and timeouts */
};

/* Key of `inflight`: a query is matched by its socket, id and type (resolvers
 * send A and AAAA at once from one socket, some with one id). */
struct dns_flight_key {
	__u64 cookie; /* bpf_get_socket_cookie */
	__u16 id;
	__u16 qtype;
	__u32 pad;
};

/* Value of `inflight`: a query waiting for its answer. */
struct dns_flight {
	__u64 cgroup_id;
	char name[DNS_NAME_LEN];
	__u64 start_ns; /* bpf_ktime_get_ns() of its first send */
	__u16 qtype;
	__u16 pad[3];
};

/* Value of `spilled` (per cgroup): malformed packets, and what found
 * `stats` or `names` full, counted here so totals stay exact. */
struct dns_spilled {
	__u64 malformed;    /* to or from a DNS port, but not a DNS message we can read */
	__u64 queries;      /* struct dns_stats' members, for rows `stats` had no room for */
	__u64 retries;
	__u64 timeouts;
	__u64 answers;
	__u64 errors;       /* of those answers, with an rcode other than NOERROR */
	__u64 name_queries; /* struct dns_name_counts, for names `names` had no room for */
	__u64 name_errors;
	__u64 zero;
	__u64 latency[64];
};

#endif /* __DNS_H */
