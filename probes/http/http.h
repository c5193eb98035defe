/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Map layouts of the http probe (and of the tls probe, which feeds the same
 * parser, http_parser.bpf.h), shared with http/decode.ts through
 * layout.generated.ts (generated from this header). */
#ifndef __HTTP_H
#define __HTTP_H

/* A normalized route: path without query or fragment, ids folded to {id},
 * NUL-padded so equal routes hash equal (http_route_hash, over its 8 words). */
#define HTTP_ROUTE_LEN 64
/* Distinct routes per cgroup between two drains; the rest count as "(other)". */
#define HTTP_MAX_ROUTES 64

/* Methods, in this order; 0 is "not a request". */
enum http_method {
	HTTP_METHOD_NONE = 0,
	HTTP_METHOD_GET,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_PATCH,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_CONNECT,
	HTTP_METHOD_TRACE,
};

/* Which side of the connection the traced process is. */
enum http_role {
	HTTP_ROLE_UNKNOWN = 0,
	HTTP_ROLE_SERVER = 1, /* its first message was a request it read */
	HTTP_ROLE_CLIENT = 2, /* its first message was a request it wrote */
};

/* A connection, as the parser's callers name it: a stable per-connection id
 * (the socket's inode number for sockets, SSL * for TLS) and the owning tgid. */
struct http_conn_id {
	__u64 tgid;
	__u64 conn;
};

/* Per connection: its role and the request awaiting its response. */
struct http_conn_state {
	__u64 start_ns;   /* when the pending request was read (server) or written (client) */
	__u64 route_hash; /* http_route_hash of route */
	__u16 port;       /* the server's TCP port, 0 when unknown */
	__u8 role;        /* enum http_role */
	__u8 method;      /* enum http_method of the pending request; NONE: none pending */
	__u8 tls;
	__u8 pad[3];
	char route[HTTP_ROUTE_LEN];
};

/* Key of http_series: one series of completed requests. The route is in
 * the key as its hash (24 bytes to hash and compare per request, not 80);
 * its text is in the value, written once when the series is made. */
struct http_series_key {
	__u64 cgroup_id;
	__u16 status;     /* final (non-1xx) status code */
	__u16 port;       /* server port, 0 when unknown */
	__u8 role;        /* enum http_role */
	__u8 method;      /* enum http_method */
	__u8 tls;
	__u8 pad;
	__u64 route_hash; /* http_route_hash of the value's route */
};

/* Value of http_overflow (per cgroup, role and tls): requests that found
 * http_series full, or whose route's hash names another route's series.
 * Latency in nanoseconds, log2 slots as in loupe.h. */
struct http_stats {
	__u64 count;
	__u64 errors;     /* server: 5xx; client: status >= 400 (only overflow uses it) */
	__u64 zero;       /* latencies of 0 ns */
	__u64 latency[64];
};

/* Value of http_series: struct http_stats's members (in the same places),
 * then the route the series counts. A request counts here only when its
 * route equals this one: one with the same hash and another route (a
 * collision) counts in http_overflow instead, never in another route's
 * series. */
struct http_series_stats {
	__u64 count;
	__u64 errors;     /* unused: a series' errors follow from its status */
	__u64 zero;
	__u64 latency[64];
	char route[HTTP_ROUTE_LEN];
};

/* Key of http_overflow. */
struct http_overflow_key {
	__u64 cgroup_id;
	__u8 role;
	__u8 tls;
	__u8 pad[6];
};

/* Value of http_route_sets: the routes a cgroup has a series for since the
 * last drain, as 64-bit hashes; `used` may exceed HTTP_MAX_ROUTES (claims
 * beyond it are refused). */
struct http_route_set {
	__u32 used;
	__u32 pad;
	__u64 hashes[HTTP_MAX_ROUTES];
};

/* Value of http_anomalies (per cgroup): messages the parser refused. */
struct http_anomalies {
	__u64 unmatched_responses; /* a response with no request pending */
};

/* Bytes of a message the parser reads: the request line's method and route,
 * or the status line (and, after a 1xx, the next status line). */
#define HTTP_PEEK 160
/* Bytes read of a message that can only be its request's response: enough
 * for "HTTP/1.1 200 ". */
#define HTTP_STATUS_PEEK 16

/* Per thread (task storage, never read by user space): the tls probe's call
 * in flight between its entry and its return, and the parser's scratch: a
 * message's first bytes and the route being made of them. */
struct http_scratch {
	/* The tls probe's SSL_* call in flight. */
	__u64 cgroup_id;
	__u64 buf;     /* user address of the data */
	__u64 conn;    /* the SSL * */
	__u64 size;    /* SSL_*_ex's size_t * (0 for the plain forms) */
	__u8 pending;  /* entered, not yet returned */
	__u8 pad[7];
	/* The parser's. The route walk loads and stores 8 bytes at any position
	 * of peek and route: 8 spare bytes after each keep those in bounds. */
	char peek[HTTP_PEEK + 8];
	char route[HTTP_ROUTE_LEN + 8];
	__u32 n;       /* bytes in peek */
	__u32 p;       /* where the walk is in peek */
	__u32 o;       /* bytes of route written */
	__u32 seg;     /* where the current segment starts in route */
	__u32 seg_len; /* its length in the target */
	/* What the segment can still be: digits, hex, has a digit, a UUID. */
	__u8 digits, hex, has_digit, uuid;
};

#endif /* __HTTP_H */
