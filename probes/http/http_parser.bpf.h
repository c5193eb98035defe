/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The HTTP/1.x parser shared by the http probe (socket syscalls) and the tls
 * probe (SSL_read/SSL_write uprobes): it sees the first bytes of each read
 * or write of a connection, pairs requests with their responses, and counts
 * completed requests per series in the kernel. Only message starts are
 * parsed, and only their first HTTP_PEEK bytes. Each object that includes
 * this header gets its own copies of the maps below.
 * Include after vmlinux.h, <bpf/bpf_helpers.h> and loupe.h.
 */
#ifndef __HTTP_PARSER_BPF_H
#define __HTTP_PARSER_BPF_H

#include "http.h"


#ifndef HTTP_MAX_CONNS
#define HTTP_MAX_CONNS 16384
#endif
#ifndef HTTP_MAX_SERIES
#define HTTP_MAX_SERIES 8192
#endif

/* A new connection's state, inserted from global data. */
static const struct http_conn_state http_zero_conn;

/* Connections with their pending request; LRU, so connections that vanish
 * unseen (no close observed) make room for new ones. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HTTP_MAX_CONNS);
	__type(key, struct http_conn_id);
	__type(value, struct http_conn_state);
} http_conns SEC(".maps");

/* The same, in the socket's own storage, for callers that hold the socket
 * as a pointer the verifier trusts (the http probe's socket hooks): a lookup
 * is a load from the socket, not a hash, and the state goes with it. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct http_conn_state);
} http_sk_conns SEC(".maps");

/* A connection's state, in the socket's storage when sk is given, else in
 * http_conns under id; made (zeroed) when make is set, else NULL if none. */
static __always_inline struct http_conn_state *http_conn_state_of(const struct http_conn_id *id, struct sock *sk, bool make)
{
	if (sk)
		return bpf_sk_storage_get(&http_sk_conns, sk, NULL, make ? BPF_SK_STORAGE_GET_F_CREATE : 0);
	if (make)
		bpf_map_update_elem(&http_conns, id, &http_zero_conn, BPF_NOEXIST);
	return bpf_map_lookup_elem(&http_conns, id);
}

/* Completed requests per series, drained (read and deleted) by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HTTP_MAX_SERIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct http_series_key);
	__type(value, struct http_series_stats);
} http_series SEC(".maps");

/* Completed requests that found http_series full, or whose route's hash
 * names another route's series: still counted, per cgroup, role and tls, so
 * totals stay exact. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LOUPE_MAX_TARGETS * 4);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct http_overflow_key);
	__type(value, struct http_stats);
} http_overflow SEC(".maps");

/* The distinct routes per cgroup since the last drain (the route cap). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LOUPE_MAX_TARGETS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64); /* cgroup id */
	__type(value, struct http_route_set);
} http_route_sets SEC(".maps");

/* Refused messages per cgroup. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LOUPE_MAX_TARGETS);
	__type(key, __u64); /* cgroup id */
	__type(value, struct http_anomalies);
} http_anomaly_counts SEC(".maps");

/* Zeroed values to insert from: global data, as they are too big for the stack. */
static const struct http_stats http_zero_stats;
static const struct http_route_set http_zero_route_set;

/* The route every route beyond a cgroup's HTTP_MAX_ROUTES counts under
 * (api/top-list.ts: OTHER_TOP_KEY). */
static const char http_other_route[HTTP_ROUTE_LEN] __attribute__((aligned(8))) = "(other)";

static __always_inline bool http_has(const char *b, __u32 n, __u32 at, const char *token, __u32 len)
{
	if (at + len > n)
		return false;
	for (__u32 i = 0; i < len; i++) {
		if (at + i >= HTTP_PEEK || b[at + i] != token[i])
			return false;
	}
	return true;
}

/* The method of a request line starting b, and where its target starts; NONE
 * for anything else. The target must start with a visible character. */
static __always_inline __u8 http_request_method(const char *b, __u32 n, __u32 *target)
{
	__u8 method = HTTP_METHOD_NONE;
	__u32 at = 0;
	char c;

	/* The first byte picks the candidates: a response or a body costs one compare. */
	switch (n > 0 ? b[0] : 0) {
	case 'G':
		if (http_has(b, n, 0, "GET ", 4))
			method = HTTP_METHOD_GET, at = 4;
		break;
	case 'P':
		if (http_has(b, n, 0, "POST ", 5))
			method = HTTP_METHOD_POST, at = 5;
		else if (http_has(b, n, 0, "PUT ", 4))
			method = HTTP_METHOD_PUT, at = 4;
		else if (http_has(b, n, 0, "PATCH ", 6))
			method = HTTP_METHOD_PATCH, at = 6;
		break;
	case 'D':
		if (http_has(b, n, 0, "DELETE ", 7))
			method = HTTP_METHOD_DELETE, at = 7;
		break;
	case 'H':
		if (http_has(b, n, 0, "HEAD ", 5))
			method = HTTP_METHOD_HEAD, at = 5;
		break;
	case 'O':
		if (http_has(b, n, 0, "OPTIONS ", 8))
			method = HTTP_METHOD_OPTIONS, at = 8;
		break;
	case 'C':
		if (http_has(b, n, 0, "CONNECT ", 8))
			method = HTTP_METHOD_CONNECT, at = 8;
		break;
	case 'T':
		if (http_has(b, n, 0, "TRACE ", 6))
			method = HTTP_METHOD_TRACE, at = 6;
		break;
	}
	if (method == HTTP_METHOD_NONE)
		return HTTP_METHOD_NONE;
	if (at >= n || at >= HTTP_PEEK)
		return HTTP_METHOD_NONE;
	c = b[at];
	if (c <= ' ' || c > '~')
		return HTTP_METHOD_NONE;
	*target = at;
	return method;
}

/* The status code of a status line starting at b[at] ("HTTP/1.x ddd"
 * followed by a space or the line's end), or 0. */
static __always_inline __u16 http_response_status(const char *b, __u32 n, __u32 at)
{
	__u16 status = 0;
	char c;

	if (!http_has(b, n, at, "HTTP/1.1 ", 9) && !http_has(b, n, at, "HTTP/1.0 ", 9))
		return 0;
	for (__u32 i = 9; i < 12; i++) {
		if (at + i >= n || at + i >= HTTP_PEEK)
			return 0;
		c = b[at + i];
		if (c < '0' || c > '9')
			return 0;
		status = status * 10 + (c - '0');
	}
	if (at + 12 < n && at + 12 < HTTP_PEEK) {
		c = b[at + 12];
		if (c != ' ' && c != '\r' && c != '\n')
			return 0;
	}
	return status >= 100 ? status : 0;
}

/* Where the message after the head ending in b's first "\r\n\r\n" starts, or 0. */
static __always_inline __u32 http_after_head(const char *b, __u32 n)
{
	for (__u32 i = 0; i + 3 < HTTP_PEEK; i++) {
		if (i + 3 >= n)
			return 0;
		if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n')
			return i + 4;
	}
	return 0;
}

/*
 * Each thread's struct http_scratch. The route is walked by bpf_loop (an
 * open-coded loop over HTTP_PEEK bytes with this many branches exceeds the
 * verifier's budget) in task storage, not on the stack: the verifier tracks
 * no value in map memory, so the walk's states converge after an iteration
 * or two, and each thread has its own (syscall tracepoints may be preempted,
 * so per-CPU scratch could be shared by two threads).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct http_scratch);
} http_scratches SEC(".maps");

/* The thread's scratch; created when create is set, else NULL if it has none.
 * Most tasks never had task storage of any kind: one load says so. */
static __always_inline struct http_scratch *http_scratch_of(struct task_struct *task, bool create)
{
	if (!create && !task->bpf_storage)
		return NULL;
	return bpf_task_storage_get(&http_scratches, task, NULL, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/*
 * Bytes of a 64-bit word at once (SWAR): each test leaves 0x80 in the bytes
 * that pass and 0 in the others, exactly (no carry crosses a byte).
 */
#define HTTP_ONES 0x0101010101010101ULL
#define HTTP_HIGH 0x8080808080808080ULL
#define HTTP_LOW7 0x7f7f7f7f7f7f7f7fULL

static __always_inline __u64 http_swar_zero(__u64 x)
{
	return ~(((x & HTTP_LOW7) + HTTP_LOW7) | x) & HTTP_HIGH;
}

static __always_inline __u64 http_swar_eq(__u64 x, __u8 c)
{
	return http_swar_zero(x ^ (HTTP_ONES * c));
}

/* Bytes in [lo, hi], both ASCII; bytes >= 0x80 never pass. */
static __always_inline __u64 http_swar_in(__u64 x, __u8 lo, __u8 hi)
{
	__u64 t = x & HTTP_LOW7;

	return (t + HTTP_ONES * (0x80 - lo)) & ~(t + HTTP_ONES * (0x7f - hi)) & ~x & HTTP_HIGH;
}

/* A test's result as 8 bits, byte i in bit i. */
static __always_inline __u32 http_swar_bits(__u64 m)
{
	return ((m >> 7) * 0x0102040810204080ULL) >> 56;
}

/* Where a UUID's dashes are: after 8, 13, 18 and 23 characters. */
#define HTTP_UUID_DASHES ((1U << 8) | (1U << 13) | (1U << 18) | (1U << 23))

/*
 * Up to 8 bytes of the target: those before the first byte that ends a
 * segment (or all 8) are copied and classified at once; that byte, if any,
 * then ends the segment, which may fold to {id}, and the target or starts
 * the next segment.
 */
static long http_route_step(__u64 i, void *ctx)
{
	/* bpf_loop's context must be on the stack: it holds the walk's address. */
	struct http_scratch *w = *(struct http_scratch **)ctx;
	__u64 p = w->p; /* 64-bit: one register both bounds-checked and used */
	__u32 o = w->o, seg = w->seg, len = w->seg_len, n = w->n;
	__u32 k = 0, mask, digit, hex, dash, dashes;
	__u64 x = 0, stop;
	char c;

	if (p < n && p < HTTP_PEEK) {
		x = *(__u64 *)&w->peek[p];
		/* Bytes past the message end the target, as a NUL would. */
		if (n - p < 8)
			x &= (1ULL << ((n - p) * 8)) - 1;
	}
	stop = http_swar_eq(x, 0) | http_swar_eq(x, ' ') | http_swar_eq(x, '?') | http_swar_eq(x, '#') |
	       http_swar_eq(x, '\r') | http_swar_eq(x, '\n') | http_swar_eq(x, '/');
	/* The index of the lowest stopping byte: its bit times a table of byte indices. */
	k = stop ? (((stop & -stop) >> 7) * 0x0001020304050607ULL) >> 56 : 8;
	if (k > 0) {
		mask = (1U << k) - 1;
		digit = http_swar_bits(http_swar_in(x, '0', '9')) & mask;
		hex = digit | (http_swar_bits(http_swar_in(x | (HTTP_ONES * 0x20), 'a', 'f')) & mask);
		dash = http_swar_bits(http_swar_eq(x, '-')) & mask;
		dashes = len < 32 ? (HTTP_UUID_DASHES >> len) & mask : 0;
		w->digits = w->digits && digit == mask;
		w->hex = w->hex && hex == mask;
		w->has_digit = w->has_digit || digit != 0;
		w->uuid = w->uuid && (dash & dashes) == dashes && (hex | dashes) == mask;
		len += k;
		/* All 8 stored, k kept: route is cut at HTTP_ROUTE_LEN - 1 bytes. */
		if (o < HTTP_ROUTE_LEN - 1) {
			*(__u64 *)&w->route[o] = x;
			o = o + k < HTTP_ROUTE_LEN - 1 ? o + k : HTTP_ROUTE_LEN - 1;
		}
	}
	if (k == 8) {
		w->p = p + 8;
		w->o = o;
		w->seg_len = len;
		return 0;
	}
	c = x >> (k * 8);
	if (len > 0 && (w->digits || (w->hex && w->has_digit && len >= 8) || (w->uuid && len == 36))) {
		o = seg;
		if (seg < HTTP_ROUTE_LEN - 5) {
			__builtin_memcpy(&w->route[seg], "{id}", 4);
			o = seg + 4;
		}
	}
	w->o = o;
	if (c != '/')
		return 1;
	if (o < HTTP_ROUTE_LEN - 1)
		w->route[o++] = '/';
	w->p = p + k + 1;
	w->o = o;
	w->seg = o;
	w->seg_len = 0;
	w->digits = w->hex = w->uuid = 1;
	w->has_digit = 0;
	return 0;
}

/*
 * The normalized route of the target at w->peek[target], in w->route (zeroed
 * beyond it): up to the query, fragment or end of the target; a segment of
 * digits, of 8+ hex characters with a digit, or a UUID becomes {id}. A route
 * longer than the buffer is cut.
 */
static __always_inline void http_route_of(struct http_scratch *w, __u32 target)
{
	struct http_scratch *ctx = w;
	__u32 o;

	w->p = target;
	w->o = w->seg = w->seg_len = 0;
	w->digits = w->hex = w->uuid = 1;
	w->has_digit = 0;
	/* Each step takes at least one byte. */
	bpf_loop(HTTP_PEEK, http_route_step, &ctx, 0);
	/* Clear what the walk's 8-byte stores and a folded segment left behind:
	 * the 8 bytes from o, then every word after them. */
	o = w->o;
	if (o < HTTP_ROUTE_LEN)
		*(__u64 *)&w->route[o] = 0;
	for (__u32 z = 8; z < HTTP_ROUTE_LEN; z += 8) {
		if (z > o)
			*(__u64 *)&w->route[z] = 0;
	}
}

/*
 * The 64-bit hash of a route (NUL-padded, so its 8 words say all of it):
 * multiply and xor-shift per word, a final mix. Two routes may share a hash:
 * http_count compares the route itself before it counts under a series.
 */
static __always_inline __u64 http_route_hash(const char *route)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (__u32 i = 0; i < HTTP_ROUTE_LEN; i += 8) {
		h = (h ^ *(const __u64 *)&route[i]) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 32;
	}
	h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

/* Whether two routes are equal: 8 word compares. */
static __always_inline bool http_route_eq(const char *a, const char *b)
{
	for (__u32 i = 0; i < HTTP_ROUTE_LEN; i += 8) {
		if (*(const __u64 *)&a[i] != *(const __u64 *)&b[i])
			return false;
	}
	return true;
}

/* Whether the cgroup may count under this route: it already has it since the
 * last drain, or claims one of its HTTP_MAX_ROUTES. */
static __always_inline bool http_route_admitted(__u64 cgroup_id, __u64 h)
{
	struct http_route_set *set = bpf_map_lookup_elem(&http_route_sets, &cgroup_id);
	__u32 used, claim;

	if (!set) {
		bpf_map_update_elem(&http_route_sets, &cgroup_id, &http_zero_route_set, BPF_NOEXIST);
		set = bpf_map_lookup_elem(&http_route_sets, &cgroup_id);
		if (!set)
			return false;
	}
	used = set->used;
	for (__u32 i = 0; i < HTTP_MAX_ROUTES; i++) {
		if (i >= used)
			break;
		if (set->hashes[i] == h)
			return true;
	}
	/* Not atomic (clang 14 cannot use an atomic add's result without
	 * -mcpu=v3): racing claims may take one slot twice, never more than
	 * HTTP_MAX_ROUTES. */
	claim = set->used;
	if (claim >= HTTP_MAX_ROUTES)
		return false;
	set->used = claim + 1;
	set->hashes[claim] = h;
	return true;
}

/*
 * A new series' first value, made in task storage (it is too big for the
 * stack) and deleted once copied: created zeroed, given its route, then
 * inserted whole, so no reader ever sees a series without its route.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct http_series_stats);
} http_fresh_series SEC(".maps");

/* The series of key, made with this route if it is new; NULL when the map
 * is full (or the thread's fresh value could not be made). */
static __always_inline struct http_series_stats *http_series_make(struct task_struct *task, const struct http_series_key *key,
								   const char *route)
{
	struct http_series_stats *fresh = bpf_task_storage_get(&http_fresh_series, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!fresh)
		return NULL;
	__builtin_memcpy(fresh->route, route, HTTP_ROUTE_LEN);
	bpf_map_update_elem(&http_series, key, fresh, BPF_NOEXIST);
	bpf_task_storage_delete(&http_fresh_series, task);
	return bpf_map_lookup_elem(&http_series, key);
}

static __always_inline void http_stats_add(struct http_stats *s, __u64 latency_ns, bool error)
{
	__sync_fetch_and_add(&s->count, 1);
	if (error)
		__sync_fetch_and_add(&s->errors, 1);
	if (latency_ns == 0)
		__sync_fetch_and_add(&s->zero, 1);
	else
		__sync_fetch_and_add(&s->latency[loupe_log2_slot(latency_ns) & (LOUPE_HIST_SLOTS - 1)], 1);
}

/* A series' value counts as a struct http_stats: its members lead it. */
_Static_assert(__builtin_offsetof(struct http_series_stats, route) == sizeof(struct http_stats),
	       "struct http_series_stats starts with struct http_stats's members");

/*
 * Counts a completed request under its series; under its cgroup's overflow
 * entry when http_series is full or the series its key names counts another
 * route (the two routes' hashes collide: the first one seen keeps the
 * series, the other is counted, but in no series).
 */
static __always_inline void http_count(struct task_struct *task, const struct http_conn_state *state, __u64 cgroup_id,
				       __u16 status, __u64 latency_ns)
{
	struct http_series_key key = {};
	struct http_overflow_key okey = {};
	bool error = state->role == HTTP_ROLE_SERVER ? status >= 500 : status >= 400;
	const char *route = state->route;
	struct http_series_stats *series;
	struct http_stats *s;

	key.cgroup_id = cgroup_id;
	key.status = status;
	key.port = state->port;
	key.role = state->role;
	key.method = state->method;
	key.tls = state->tls;
	key.route_hash = state->route_hash;

	/* A series exists only for an admitted route (user space drains the
	 * route sets before the series), so only a new one asks the route cap. */
	series = bpf_map_lookup_elem(&http_series, &key);
	if (!series) {
		if (!http_route_admitted(cgroup_id, key.route_hash)) {
			route = http_other_route;
			key.route_hash = http_route_hash(route);
			series = bpf_map_lookup_elem(&http_series, &key);
		}
		if (!series)
			series = http_series_make(task, &key, route);
	}
	if (series && !http_route_eq(series->route, route))
		series = NULL;
	s = (struct http_stats *)series;
	if (!s) {
		okey.cgroup_id = cgroup_id;
		okey.role = state->role;
		okey.tls = state->tls;
		s = bpf_map_lookup_elem(&http_overflow, &okey);
		if (!s) {
			bpf_map_update_elem(&http_overflow, &okey, &http_zero_stats, BPF_NOEXIST);
			s = bpf_map_lookup_elem(&http_overflow, &okey);
		}
		if (!s)
			return;
	}
	http_stats_add(s, latency_ns, error);
}

static __always_inline void http_count_unmatched(__u64 cgroup_id)
{
	struct http_anomalies fresh = { .unmatched_responses = 1 };
	struct http_anomalies *a = bpf_map_lookup_elem(&http_anomaly_counts, &cgroup_id);

	if (a)
		__sync_fetch_and_add(&a->unmatched_responses, 1);
	else
		bpf_map_update_elem(&http_anomaly_counts, &cgroup_id, &fresh, BPF_NOEXIST);
}

/*
 * The parser. task: the current task; w: its scratch if the caller has it,
 * else NULL (it is fetched only for a request). id: a stable per-connection
 * id and the tgid, or sk: the connection's socket as a trusted pointer
 * (http_conn_state_of); buf: user memory holding len bytes just read (inbound) or
 * about to be written (outbound). server_port: the server's port as seen
 * from this side (the local port for an inbound message, the peer's for an
 * outbound one), 0 when unknown; it is kept from the request that starts an
 * exchange.
 *
 * A request starts only when none is pending on the connection (so bodies
 * and pipelined requests never start one) and in the connection's direction:
 * read by a server, written by a client. A final (non-1xx) response in the
 * other direction completes it; interim 1xx responses do not. Everything
 * else is a continuation. The connection is looked up before the message is
 * read, so a continuation in the request's direction is not read at all, a
 * message that can only be the response costs HTTP_STATUS_PEEK bytes, and
 * messages are read to the stack: each user read is a helper call, the
 * largest single cost here, and one to the stack skips the hardened-usercopy
 * check of a heap destination.
 */
static __always_inline void http_observe(struct task_struct *task, struct http_scratch *w,
					      const struct http_conn_id *id, struct sock *sk, __u64 cgroup_id, const void *buf,
					      __u64 len, bool inbound, __u16 server_port, bool tls)
{
	struct http_conn_state *state = http_conn_state_of(id, sk, false);
	__u32 n = len < HTTP_PEEK ? len : HTTP_PEEK;
	__u32 head = n < HTTP_STATUS_PEEK ? n : HTTP_STATUS_PEEK;
	__u32 target = 0, next;
	char peek[HTTP_PEEK];
	__u8 method, role;
	__u16 status;

	if (state && state->method != HTTP_METHOD_NONE) {
		/* A server writes responses, a client reads them. */
		if (inbound != (state->role == HTTP_ROLE_CLIENT))
			return;
		if (bpf_probe_read_user(peek, head, buf))
			return;
		status = http_response_status(peek, head, 0);
		if (status == 0)
			return;
		if (status < 200) {
			/* Interim; the final response may follow in the same buffer. */
			if (bpf_probe_read_user(peek, n, buf))
				return;
			next = http_after_head(peek, n);
			status = next ? http_response_status(peek, n, next) : 0;
			if (status < 200)
				return;
		}
		http_count(task, state, cgroup_id, status, bpf_ktime_get_ns() - state->start_ns);
		state->method = HTTP_METHOD_NONE;
		return;
	}

	if (bpf_probe_read_user(peek, n, buf))
		return;
	method = http_request_method(peek, n, &target);
	if (method == HTTP_METHOD_NONE) {
		if (http_response_status(peek, n, 0))
			http_count_unmatched(cgroup_id);
		return;
	}
	role = inbound ? HTTP_ROLE_SERVER : HTTP_ROLE_CLIENT;
	if (!state) {
		state = http_conn_state_of(id, sk, true);
		if (!state)
			return;
	}
	if ((state->role != HTTP_ROLE_UNKNOWN && state->role != role) || state->method != HTTP_METHOD_NONE)
		return;
	if (!w)
		w = http_scratch_of(task, true);
	if (!w)
		return;
	state->role = role;
	state->port = server_port;
	state->tls = tls;
	__builtin_memcpy(w->peek, peek, HTTP_PEEK);
	w->n = n;
	http_route_of(w, target);
	__builtin_memcpy(state->route, w->route, HTTP_ROUTE_LEN);
	state->route_hash = http_route_hash(w->route);
	state->start_ns = bpf_ktime_get_ns();
	/* Last: a method marks the request pending. */
	state->method = method;
}

#endif /* __HTTP_PARSER_BPF_H */
