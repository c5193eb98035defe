/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Map layouts of the tls probe. Its results are the http parser's maps
 * (probes/http/http.h), read the way the http probe reads them. */
#ifndef __TLS_H
#define __TLS_H

/* Value of ssl_calls: an SSL_read/SSL_write call in flight, per thread, from
 * its entry to its return. */
struct ssl_call {
	__u64 cgroup_id;
	__u64 ssl;       /* SSL *: the connection */
	__u64 buf;       /* the caller's plaintext buffer */
	__u64 processed; /* size_t *readbytes / *written of the _ex forms; 0 otherwise */
};

#endif /* __TLS_H */
