// SPDX-License-Identifier: Apache-2.0
// The overhead benchmark's workload: joins a cgroup, then makes n getppid()
// calls, about the cheapest syscall there is, so a tracer's cost per call
// stands out. Prints the thread's CPU time per call in ns: on a shared VM,
// wall time also counts whoever else ran on the CPU, while the thread's CPU
// time holds everything the kernel and its BPF programs did on its behalf.
// Usage: getppid-loop <cgroup2 dir> <n>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	char procs[4096];
	long n, i;
	double start;
	int fd;

	if (argc != 3 || strlen(argv[1]) > sizeof(procs) - 16 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: %s <cgroup2 dir> <n>\n", argv[0]);
		return 2;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", argv[1]);
	fd = open(procs, O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		perror(procs);
		return 1;
	}
	for (i = 0; i < n / 10; i++) /* warm caches and branch predictors */
		syscall(SYS_getppid);
	start = thread_cpu_ns();
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	printf("%.2f\n", (thread_cpu_ns() - start) / n);
	return 0;
}
