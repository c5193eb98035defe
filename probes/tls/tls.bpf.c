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

char LICENSE[] SEC("license") = "GPL";

/* The libssl uprobes fire in every process mapping the file, so the cgroup
 * filter comes first. The call waits for its return in the thread's parser
 * scratch (task storage: freed with the thread, no insert or delete per call). */
static __always_inline int ssl_enter(void *ssl, const void *buf, size_t *size)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	struct http_scratch *call;

	if (!loupe_target_lookup(cgroup_id))
		return 0;
	call = http_scratch_of(task, true);
	if (!call)
		return 0;
	call->cgroup_id = cgroup_id;
	call->conn = (__u64)ssl;
	call->buf = (__u64)buf;
	call->size = (__u64)size;
	call->pending = true;
	return 0;
}

/* SSL_read/SSL_write return the bytes (<= 0: none); the _ex forms return 1
 * and store the bytes through their size_t *. Reads are inbound. The buffer
 * is the caller's, so a write's plaintext is still there at return. */
static __always_inline int ssl_exit(long ret, bool ex, bool inbound)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct http_scratch *call = http_scratch_of(task, false);
	struct http_conn_id id;
	__u64 bytes = 0;

	if (!call || !call->pending)
		return 0;
	call->pending = false;
	if (ex) {
		if (ret == 1)
			bpf_probe_read_user(&bytes, sizeof(bytes), (void *)call->size);
	} else if (ret > 0) {
		bytes = ret;
	}
	if (bytes == 0)
		return 0;
	id.tgid = task->tgid;
	id.conn = call->conn;
	http_observe(task, call, &id, NULL, call->cgroup_id, (const void *)call->buf, bytes, inbound, 0, true);
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
