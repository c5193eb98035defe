// SPDX-License-Identifier: Apache-2.0
// A steady load for the agent footprint benchmark: <execs> fork+execs of
// /bin/true and <syscalls> getppid() calls a second, spread over 100 ticks a
// second on an absolute clock so a slow tick is caught up, not lost. Every 10 s
// it prints what it did. SIGTERM and SIGINT stop it.
// Usage: load <execs per second> <syscalls per second>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICKS_PER_SECOND 100

static volatile sig_atomic_t stopping;

static void stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void run_true(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s <execs per second> <syscalls per second>\n", argv[0]);
		return 2;
	}
	long execs = atol(argv[1]), syscalls = atol(argv[2]);
	signal(SIGTERM, stop);
	signal(SIGINT, stop);

	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	long done_execs = 0, done_syscalls = 0;
	for (long tick = 0; !stopping; tick++) {
		// The tick's share of the per-second totals, so every second adds up exactly.
		long exec_quota = execs * (tick % TICKS_PER_SECOND + 1) / TICKS_PER_SECOND - execs * (tick % TICKS_PER_SECOND) / TICKS_PER_SECOND;
		long call_quota = syscalls * (tick % TICKS_PER_SECOND + 1) / TICKS_PER_SECOND - syscalls * (tick % TICKS_PER_SECOND) / TICKS_PER_SECOND;
		for (long i = 0; i < exec_quota; i++)
			run_true();
		for (long i = 0; i < call_quota; i++)
			syscall(SYS_getppid);
		done_execs += exec_quota;
		done_syscalls += call_quota;
		if ((tick + 1) % (10 * TICKS_PER_SECOND) == 0) {
			printf("%ld execs, %ld syscalls\n", done_execs, done_syscalls);
			fflush(stdout);
		}
		next.tv_nsec += 1000000000L / TICKS_PER_SECOND;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return 0;
}
