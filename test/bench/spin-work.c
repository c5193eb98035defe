// SPDX-License-Identifier: Apache-2.0
/* CPU-bound work for the profile benchmark: argv[1] units of work in one
 * function, then the wall time they took in ns on stdout. The benchmark
 * builds it with frame pointers, so the kernel walks the user stack as it
 * would a service's. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

__attribute__((noinline)) void loupe_bench_work_unit(void)
{
	for (unsigned long i = 0; i < 1000000; i++)
		sink += i;
}

int main(int argc, char **argv)
{
	struct timespec start, end;
	long units;

	if (argc != 2)
		return 2;
	units = atol(argv[1]);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long u = 0; u < units; u++)
		loupe_bench_work_unit();
	clock_gettime(CLOCK_MONOTONIC, &end);
	printf("%lld\n", (long long)(end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec));
	return 0;
}
