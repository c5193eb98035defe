// SPDX-License-Identifier: Apache-2.0
// The HTTP benchmark's workload: a minimal keep-alive HTTP/1.1 server and a
// client that drives it over loopback, each joining a cgroup first. Small and
// in C so that the CPU a tracer adds per request is not lost in the
// workload's own: a request here costs a few syscalls on each side.
//
//   http-load server <cgroup2 dir> <port> <requests> [work rounds]
//     serves until <requests> responses are written; prints its CPU ns.
//     With work rounds, each request first runs that many rounds of a loop
//     with no syscalls (a stand-in for a handler's own work)
//   http-load rounds <µs>
//     prints the rounds of that loop that take about <µs> here
//   http-load client <cgroup2 dir> <port> <connections> <requests per connection>
//     prints "<wall ns> <CPU ns> <requests>"
//   http-load rw <cgroup2 dir> <n>
//     n write()+read() pairs of 64 bytes over a socket pair, no HTTP: prints
//     the thread's CPU ns per syscall (what an untraced pod's I/O pays)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char request[] = "GET /items/12345 HTTP/1.1\r\nHost: bench\r\nUser-Agent: http-load\r\n\r\n";
static const char response[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void join_cgroup(const char *dir)
{
	char procs[4096], pid[32];
	int fd, n;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	fd = open(procs, O_WRONLY);
	if (fd < 0)
		die(procs);
	n = snprintf(pid, sizeof(pid), "%d", getpid());
	if (write(fd, pid, n) != n)
		die("join cgroup");
	close(fd);
}

static double cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

static double wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return addr;
}

/* Reads until buf holds a whole message: headers, and for a response its 2-byte body. */
static int read_message(int fd, char *buf, size_t cap, size_t body)
{
	size_t have = 0;
	char *end;

	for (;;) {
		ssize_t n = read(fd, buf + have, cap - 1 - have);

		if (n <= 0)
			return -1;
		have += n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end && have >= (size_t)(end + 4 - buf) + body)
			return 0;
	}
}

static long served, target;
static pthread_mutex_t served_lock = PTHREAD_MUTEX_INITIALIZER;

/* Rounds of the work loop per request; 0: none. */
static unsigned long work_rounds;
static volatile unsigned long work_sink;

static unsigned long work(unsigned long rounds)
{
	unsigned long h = 0xcbf29ce484222325UL;

	for (unsigned long i = 0; i < rounds; i++)
		h = (h ^ i) * 0x100000001b3UL;
	return h;
}

/* Rounds that take about us microseconds here: the fastest of a few timings,
 * so every server of a benchmark run does the same work per request. */
static unsigned long rounds_for(double us)
{
	const unsigned long probe = 10000000;
	double best = 0;

	for (int i = 0; i < 5; i++) {
		double start = wall_ns(), ns;

		work_sink = work(probe);
		ns = wall_ns() - start;
		if (best == 0 || ns < best)
			best = ns;
	}
	return (unsigned long)(us * 1e3 * probe / best);
}

static void *serve(void *arg)
{
	int fd = (int)(long)arg;
	char buf[4096];

	while (read_message(fd, buf, sizeof(buf), 0) == 0) {
		long done;

		if (work_rounds)
			work_sink = work(work_rounds);
		if (write(fd, response, sizeof(response) - 1) != (ssize_t)sizeof(response) - 1)
			break;
		pthread_mutex_lock(&served_lock);
		done = ++served;
		pthread_mutex_unlock(&served_lock);
		if (done >= target) {
			printf("%.0f\n", cpu_ns());
			fflush(stdout);
			_exit(0);
		}
	}
	close(fd);
	return NULL;
}

static __attribute__((noreturn)) void server(int port)
{
	struct sockaddr_in addr = loopback(port);
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 128))
		die("listen");
	/* The harness starts the client once this line is out. */
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		pthread_t t;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			die("accept");
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_create(&t, NULL, serve, (void *)(long)fd);
		pthread_detach(t);
	}
}

static int port_arg;
static long per_connection;

static void *drive(void *arg)
{
	struct sockaddr_in addr = loopback(port_arg);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	char buf[4096];

	(void)arg;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (long i = 0; i < per_connection; i++) {
		if (write(fd, request, sizeof(request) - 1) != (ssize_t)sizeof(request) - 1)
			die("write request");
		if (read_message(fd, buf, sizeof(buf), 2))
			die("read response");
	}
	close(fd);
	return NULL;
}

static int client(int connections)
{
	pthread_t threads[256];
	double start = wall_ns();

	for (int i = 0; i < connections; i++)
		pthread_create(&threads[i], NULL, drive, NULL);
	for (int i = 0; i < connections; i++)
		pthread_join(threads[i], NULL);
	printf("%.0f %.0f %ld\n", wall_ns() - start, cpu_ns(), connections * per_connection);
	return 0;
}

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void write_read(int sv[2], long n)
{
	char buf[64] = { 0 };

	for (long i = 0; i < n; i++)
		if (write(sv[0], buf, sizeof(buf)) != sizeof(buf) || read(sv[1], buf, sizeof(buf)) != sizeof(buf))
			die("read/write");
}

static int read_write(long n)
{
	double start;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	write_read(sv, n / 10); /* warm caches and branch predictors */
	start = thread_cpu_ns();
	write_read(sv, n);
	printf("%.2f\n", (thread_cpu_ns() - start) / (2.0 * n));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "rounds") == 0) {
		printf("%lu\n", rounds_for(atof(argv[2])));
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "rw") == 0) {
		join_cgroup(argv[2]);
		return read_write(atol(argv[3]));
	}
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "server") == 0) {
		join_cgroup(argv[2]);
		target = atol(argv[4]);
		if (argc == 6)
			work_rounds = strtoul(argv[5], NULL, 10);
		server(atoi(argv[3]));
	}
	if (argc == 6 && strcmp(argv[1], "client") == 0) {
		int connections = atoi(argv[4]);

		if (connections < 1 || connections > 256)
			return 2;
		join_cgroup(argv[2]);
		port_arg = atoi(argv[3]);
		per_connection = atol(argv[5]);
		return client(connections);
	}
	fprintf(stderr, "usage: http-load server <cgroup> <port> <requests> [work rounds] | rounds <µs> | client <cgroup> <port> <connections> <requests per connection> | rw <cgroup> <n>\n");
	return 2;
}
