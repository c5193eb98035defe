/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Map layouts of the files probe, shared with files/decode.ts through
 * layout.generated.ts (generated from this header). */
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

#endif /* __FILES_H */
