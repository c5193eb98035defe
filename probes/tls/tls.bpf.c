// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/* The plaintext of TLS connections through OpenSSL's libssl (1.1.1 and 3):
 * uprobes on SSL_read, SSL_write and their _ex forms hand each call's bytes
 * to the HTTP parser the http probe uses, so HTTPS requests count as http
 * requests with tls set. User space attaches these programs to each libssl
 * file the targeted processes map (probes/tls/ssl-uprobes.ts). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "loupe.h"
#include "../http/http_parser.bpf.h"
#include "tls.h"

char LICENSE[] SEC("license") = "GPL";

/* LRU: a thread that dies inside SSL_read never returns, and its entry must
 * not hold a slot forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct ssl_call);
} ssl_calls SEC(".maps");

/* The libssl uprobes fire in every process mapping the file, so the cgroup
 * filter comes first. */
static __always_inline int ssl_enter(void *ssl, const void *buf, size_t *processed)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	struct ssl_call call = {
		.cgroup_id = cgroup_id,
		.ssl = (__u64)ssl,
		.buf = (__u64)buf,
		.processed = (__u64)processed,
	};
	__u64 pid_tgid;

	if (!loupe_target_lookup(cgroup_id))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&ssl_calls, &pid_tgid, &call, BPF_ANY);
	return 0;
}

/* SSL_read/SSL_write return the bytes (<= 0: none); the _ex forms return 1
 * and store the bytes through their size_t *. Reads are inbound. The buffer
 * is the caller's, so a write's plaintext is still there at return. */
static __always_inline int ssl_exit(long ret, bool ex, bool inbound)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct ssl_call *call = bpf_map_lookup_elem(&ssl_calls, &pid_tgid);
	struct http_conn_id id;
	__u64 bytes = 0;

	if (!call)
		return 0;
	if (ex) {
		if (ret == 1)
			bpf_probe_read_user(&bytes, sizeof(bytes), (void *)call->processed);
	} else if (ret > 0) {
		bytes = ret;
	}
	if (bytes > 0) {
		id.tgid = pid_tgid >> 32;
		id.conn = call->ssl;
		http_observe(&id, call->cgroup_id, (const void *)call->buf, bytes, inbound, 0, true);
	}
	bpf_map_delete_elem(&ssl_calls, &pid_tgid);
	return 0;
}

/* int SSL_read(SSL *ssl, void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(loupe_ssl_read, void *ssl, void *buf)
{
	return ssl_enter(ssl, buf, NULL);
}

SEC("uretprobe")
int BPF_KRETPROBE(loupe_ssl_read_ret, int ret)
{
	return ssl_exit(ret, false, true);
}

/* int SSL_write(SSL *ssl, const void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(loupe_ssl_write, void *ssl, const void *buf)
{
	return ssl_enter(ssl, buf, NULL);
}

SEC("uretprobe")
int BPF_KRETPROBE(loupe_ssl_write_ret, int ret)
{
	return ssl_exit(ret, false, false);
}

/* int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes) */
SEC("uprobe")
int BPF_KPROBE(loupe_ssl_read_ex, void *ssl, void *buf, size_t num, size_t *readbytes)
{
	return ssl_enter(ssl, buf, readbytes);
}

SEC("uretprobe")
int BPF_KRETPROBE(loupe_ssl_read_ex_ret, int ret)
{
	return ssl_exit(ret, true, true);
}

/* int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written) */
SEC("uprobe")
int BPF_KPROBE(loupe_ssl_write_ex, void *ssl, const void *buf, size_t num, size_t *written)
{
	return ssl_enter(ssl, buf, written);
}

SEC("uretprobe")
int BPF_KRETPROBE(loupe_ssl_write_ex_ret, int ret)
{
	return ssl_exit(ret, true, false);
}
