// SPDX-License-Identifier: Apache-2.0
// The workload of the deployment test: a process whose every exec, open and TCP
// connection is known. It listens on 127.0.0.1 (in its pod's own network
// namespace) and waits. Each SIGUSR1 runs one round: <execs> fork+execs of
// /bin/true, <opens> opens of /etc/loupe-ground-truth and <connects> TCP
// connections to its own listener (each accepted), then prints
// "round <n> done". SIGUSR2 exits 1, a crash for the kubelet to restart;
// SIGTERM and SIGINT exit 0. Signals are taken with sigwaitinfo so nothing
// runs between rounds: no exec, open or connect but the counted ones.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void run_true(void)
{
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("/bin/true");
}

static void open_file(void)
{
	int fd = open("/etc/loupe-ground-truth", O_RDONLY);
	if (fd < 0)
		die("open /etc/loupe-ground-truth");
	close(fd);
}

static void connect_once(int listener, const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
		die("connect");
	int peer = accept(listener, NULL, NULL);
	if (peer < 0)
		die("accept");
	close(fd);
	close(peer);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s <execs> <opens> <connects>\n", argv[0]);
		return 2;
	}
	long execs = atol(argv[1]), opens = atol(argv[2]), connects = atol(argv[3]);

	int listener = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(listener, 16) < 0 || getsockname(listener, (struct sockaddr *)&addr, &len) < 0)
		die("listen on 127.0.0.1");

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready: %ld execs, %ld opens, %ld connects a round\n", execs, opens, connects);
	fflush(stdout);

	for (long round = 1;; round++) {
		int sig = sigwaitinfo(&set, NULL);
		if (sig == SIGUSR2) {
			printf("crashing\n");
			return 1;
		}
		if (sig != SIGUSR1)
			return 0;
		for (long i = 0; i < execs; i++)
			run_true();
		for (long i = 0; i < opens; i++)
			open_file();
		for (long i = 0; i < connects; i++)
			connect_once(listener, &addr);
		printf("round %ld done\n", round);
		fflush(stdout);
	}
}
