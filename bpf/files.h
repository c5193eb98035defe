/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Map layouts of the files probe, shared with agent/probes/files-decode.ts. */
#ifndef __FILES_H
#define __FILES_H

#define FILES_PATH_LEN 256

/* Key of open_counts: 264 bytes; the path is NUL-padded so equal paths hash equal. */
struct file_key {
	__u64 cgroup_id;
	char path[FILES_PATH_LEN];
};

/* Value of open_counts (per path) and of open_dropped (per cgroup). */
struct file_counts {
	__u64 opens;  /* calls, failed or not */
	__u64 errors; /* calls that returned a negative errno */
};

_Static_assert(sizeof(struct file_key) == 264, "agent/probes/files-decode.ts expects 264 bytes");
_Static_assert(sizeof(struct file_counts) == 16, "agent/probes/files-decode.ts expects 16 bytes");

#endif /* __FILES_H */
