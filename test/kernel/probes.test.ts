// Each probe against the live kernel: real programs, real cgroup2 "pods"
// shaped like kubelet's, real processes with known ground truth. Every case
// runs in its own pod; untargeted pods must report nothing.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { BpfObject } from '../../native/index.js';
import { exec } from '../../probes/exec/exec.js';
import { files } from '../../probes/files/files.js';
import type { ProbeEvent } from '../../engine/probes/probe.js';
import type { ResultOf } from '../../probes/registry.js';
import { tcp } from '../../probes/tcp/tcp.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { requireKernel } from '../support/privileged.js';
import { runProbeCases } from '../support/probe-cases.js';

const runId = randomBytes(4).toString('hex');

/** A dash loop running `command` n times (dash forks and execs each time). */
function repeat(n: number, command: string): string {
  return `i=0; while [ "$i" -lt ${n} ]; do ${command}; i=$((i+1)); done`;
}

test('exec probe', async (t) => {
  if (!requireKernel(t)) return;
  // Inside the pod: the moving shell execs /bin/sh (1 exec), which runs /bin/true n times.
  const trueTimes = (n: number) => (pod: LocalPod) => pod.exec(['/bin/sh', '-c', repeat(n, '/bin/true')]).then(() => {});
  const expectRuns = (n: number) => (r: ResultOf<'exec'> | undefined, events: ProbeEvent[]) => {
    assert.ok(r, 'no result for a targeted pod');
    assert.equal(r.execs, n + 1);
    assert.equal(r.exits, n + 1, 'every process in the pod exited');
    assert.deepEqual(r.topCommands, [
      { key: '/bin/true', count: n },
      { key: '/bin/sh', count: 1 },
    ]);
    const execEvents = events.filter((e) => e.attributes['loupe.event'] === 'exec');
    assert.equal(execEvents.length, n + 1);
    assert.ok(execEvents.every((e) => e.profileMask !== 0n && Math.abs(e.timeMs - Date.now()) < 60_000));
  };
  await runProbeCases(t, exec, [
    { name: 'pod A runs /bin/true 37 times', targeted: true, workload: trueTimes(37), check: expectRuns(37) },
    { name: 'pod B runs /bin/true 11 times', targeted: true, workload: trueTimes(11), check: expectRuns(11) },
    {
      name: 'exit codes reach the events',
      targeted: true,
      workload: (pod) => pod.exec(['/bin/sh', '-c', '/bin/sh -c "exit 3"; exit 0']).then(() => {}),
      check: (r, events) => {
        assert.equal(r?.exits, 2);
        const codes = events.filter((e) => e.attributes['loupe.event'] === 'exit').map((e) => e.attributes['process.exit.code']);
        assert.deepEqual(codes.sort(), [0, 3]);
      },
    },
    {
      name: 'untargeted pod C runs /bin/true and reports nothing',
      targeted: false,
      workload: trueTimes(5),
      check: (r, events) => {
        assert.equal(r, undefined);
        assert.equal(events.length, 0);
      },
    },
  ]);
});

/** Opens a path with the raw open(2) and openat2(2) syscalls (x86_64 numbers), which libc's open() does not use. */
const OPEN_AND_OPENAT2 = `
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS_open, SYS_openat2, AT_FDCWD = 2, 437, -100
path, opens, openat2s = os.fsencode(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
how = struct.pack('QQQ', os.O_RDONLY, 0, 0)  # struct open_how
for _ in range(opens):
    os.close(libc.syscall(SYS_open, path, os.O_RDONLY))
for _ in range(openat2s):
    os.close(libc.syscall(SYS_openat2, AT_FDCWD, path, how, len(how)))
`;

test('files probe', async (t) => {
  if (!requireKernel(t)) return;
  const dir = mkdtempSync(path.join(tmpdir(), `loupe-files-${runId}-`));
  const present = path.join(dir, 'present');
  const missing = path.join(dir, 'missing');
  writeFileSync(present, 'x');
  // `true < file` opens the file in the shell itself (true is a builtin), once per iteration.
  const opens = (n: number, file: string) => (pod: LocalPod) =>
    pod.exec(['/bin/sh', '-c', repeat(n, '{ true < "$0"; } 2>/dev/null'), file]).then(() => {});
  try {
    await runProbeCases(t, files, [
      {
        name: 'pod A opens a file 23 times',
        targeted: true,
        workload: opens(23, present),
        check: (r) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.deepEqual(
            r.topPaths.find((e) => e.key === present),
            { key: present, count: 23, errors: 0 },
          );
          assert.ok(r.opens >= 23);
        },
      },
      {
        name: 'pod B fails to open a missing file 9 times',
        targeted: true,
        workload: opens(9, missing),
        check: (r) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.deepEqual(
            r.topPaths.find((e) => e.key === missing),
            { key: missing, count: 9, errors: 9 },
          );
          assert.ok(r.errors >= 9);
          assert.equal(r.opens, r.topPaths.reduce((sum, e) => sum + e.count, 0), 'no opens dropped');
        },
      },
      {
        name: 'pod D opens through open(2) 4 times and openat2(2) 5 times',
        targeted: true,
        workload: (pod) => pod.exec(['python3', '-c', OPEN_AND_OPENAT2, present, '4', '5']).then(() => {}),
        check: (r) => {
          assert.deepEqual(
            r?.topPaths.find((e) => e.key === present),
            { key: present, count: 9, errors: 0 },
          );
        },
      },
      {
        name: 'untargeted pod C opens the file and reports nothing',
        targeted: false,
        workload: opens(5, present),
        check: (r) => assert.equal(r, undefined),
      },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files probe with a full path map', async (t) => {
  if (!requireKernel(t)) return;
  const dir = mkdtempSync(path.join(tmpdir(), `loupe-files-full-${runId}-`));
  const missing = Array.from({ length: 4 }, (_, i) => path.join(dir, `missing-${i}`));
  // Two paths fit; the shell's own startup opens (ld.so.cache, libc) already take them.
  const tinyMap = { ...files, kernel: { ...files.kernel, configure: (obj: BpfObject) => obj.setMaxEntries('open_counts', 2) } };
  try {
    await runProbeCases(t, tinyMap, [
      {
        name: 'opens beyond the map are counted in the totals, without a path',
        targeted: true,
        workload: (pod) =>
          pod.exec(['/bin/sh', '-c', repeat(3, 'for f in "$@"; do { true < "$f"; } 2>/dev/null; done'), 'sh', ...missing]).then(() => {}),
        check: (r) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.ok(r.topPaths.length <= 2, `${r.topPaths.length} paths in a map of 2`);
          const withPath = r.topPaths.reduce((sum, e) => sum + e.count, 0);
          assert.ok(r.opens >= withPath + 12, `opens ${r.opens}, with a path ${withPath}`);
          assert.ok(r.errors >= 12, `errors ${r.errors}`);
        },
      },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Connects `times` times; each sends `size` bytes, half-closes and reads the reply to the end. */
const TCP_CLIENT = `
import socket, sys
host, port, times, size, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
for _ in range(times):
    try:
        c = socket.create_connection((host, port), timeout=timeout)
    except OSError:  # refused or timed out: the failure is what the case counts
        continue
    c.sendall(b'x' * size)
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
    c.close()
`;

/** Listens, prints its port, and per accepted connection sends \`size\` bytes and waits for the peer to close. */
const TCP_LISTENER = `
import socket, sys
host, times, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
l = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
l.bind((host, 0))
l.listen(8)
print(l.getsockname()[1], flush=True)
for _ in range(times):
    c, _ = l.accept()
    c.sendall(b'z' * size)
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
    c.close()
`;

/** A listener whose accept queue holds one connection and is never drained: the next SYN is dropped, then retransmitted. */
const TCP_FULL_BACKLOG = `
import socket
l = socket.socket()
l.bind(('127.0.0.1', 0))
l.listen(0)
first = socket.create_connection(l.getsockname(), timeout=5)
try:
    socket.create_connection(l.getsockname(), timeout=1.5)
    raise SystemExit('the second connect should have timed out')
except TimeoutError:
    pass
print(l.getsockname()[1], flush=True)
`;

const REPLY_BYTES = 500;

/** A server outside every pod: reads to the end, replies REPLY_BYTES, closes. */
async function startServer(host: string): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.resume();
    socket.on('end', () => socket.end(Buffer.alloc(REPLY_BYTES)));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  return { port: (server.address() as net.AddressInfo).port, server };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const { port, server } = await startServer('127.0.0.1');
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Connects from outside every pod, reads to the end, then closes. */
function connectFromOutside(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true });
    socket.on('error', reject);
    socket.resume();
    socket.on('end', () => socket.end());
    socket.on('close', () => resolve());
  });
}

test('tcp probe', async (t) => {
  if (!requireKernel(t)) return;
  const v4 = await startServer('127.0.0.1');
  const v6 = await startServer('::1');
  const refusedPort = await closedPort();
  const client = (host: string, port: number, times: number, size: number, timeout = 5) => (pod: LocalPod) =>
    pod.exec(['python3', '-c', TCP_CLIENT, host, String(port), String(times), String(size), String(timeout)]).then(() => {});
  const SENT = 10_000;
  let backlogPort = 0;
  try {
    await runProbeCases(t, tcp, [
      {
        name: 'pod A connects 3 times to 127.0.0.1 and closes',
        targeted: true,
        workload: client('127.0.0.1', v4.port, 3, SENT),
        settled: (r) => r.closed >= 3,
        check: (r, events) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.equal(r.connects, 3);
          assert.equal(r.connectFailures, 0);
          assert.equal(r.accepts, 0);
          assert.equal(r.closed, 3);
          assert.ok(r.bytesSent >= 3 * SENT, `bytesSent ${r.bytesSent}`);
          assert.ok(r.bytesReceived >= 3 * REPLY_BYTES, `bytesReceived ${r.bytesReceived}`);
          assert.equal(r.durationNs.count, 3);
          assert.equal(r.connectLatencyNs.count, 3, 'a connect latency per connect');
          // Loopback's handshake is in-kernel: microseconds, not the connections' lifetimes.
          assert.ok((r.connectLatencyNs.p99 ?? Infinity) < (r.durationNs.p50 ?? 0), JSON.stringify([r.connectLatencyNs, r.durationNs.p50]));
          assert.deepEqual(r.topPeers, [{ key: `127.0.0.1:${v4.port}`, count: 3, errors: 0 }]);
          const close = events.find((e) => e.attributes['loupe.event'] === 'close');
          assert.equal(close?.attributes['network.peer.port'], v4.port);
        },
      },
      {
        name: 'pod A connects 2 times to ::1',
        targeted: true,
        workload: client('::1', v6.port, 2, SENT),
        settled: (r) => r.closed >= 2,
        check: (r) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.equal(r.connects, 2);
          assert.equal(r.closed, 2);
          assert.ok(r.bytesSent >= 2 * SENT, `bytesSent ${r.bytesSent}`);
          assert.deepEqual(r.topPeers, [{ key: `[::1]:${v6.port}`, count: 2, errors: 0 }]);
        },
      },
      {
        name: 'pod B is refused 4 times',
        targeted: true,
        workload: client('127.0.0.1', refusedPort, 4, 1),
        check: (r) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.equal(r.connects, 0);
          assert.equal(r.connectFailures, 4);
          assert.equal(r.connectLatencyNs.count, 0, 'no latency for a connect that failed');
          assert.equal(r.closed, 0);
          assert.deepEqual(r.topPeers, [{ key: `127.0.0.1:${refusedPort}`, count: 4, errors: 4 }]);
        },
      },
      {
        name: 'pod C accepts 2 connections from outside',
        targeted: true,
        workload: async (pod) => {
          const ACCEPT_SENT = 3000;
          let connections: Promise<void> | undefined;
          await pod.exec(['python3', '-c', TCP_LISTENER, '127.0.0.1', '2', String(ACCEPT_SENT)], (line) => {
            const port = Number(line.trim());
            connections ??= connectFromOutside('127.0.0.1', port).then(() => connectFromOutside('127.0.0.1', port));
          });
          await connections;
        },
        settled: (r) => r.closed >= 2,
        check: (r, events) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.equal(r.accepts, 2);
          assert.equal(r.connects, 0);
          assert.equal(r.closed, 2);
          assert.ok(r.bytesSent >= 2 * 3000, `bytesSent ${r.bytesSent}`);
          assert.deepEqual(r.topPeers, [], 'accepted connections are not outgoing peers');
          const accept = events.find((e) => e.attributes['loupe.event'] === 'accept');
          assert.equal(accept?.attributes['network.peer.address'], '127.0.0.1');
        },
      },
      {
        name: 'pod D retransmits a SYN that a full accept queue dropped',
        targeted: true,
        workload: async (pod) => {
          backlogPort = Number((await pod.exec(['python3', '-c', TCP_FULL_BACKLOG])).trim());
        },
        settled: (r) => r.retransmits >= 1 && r.closed >= 1,
        check: (r) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.ok(r.retransmits >= 1, `retransmits ${r.retransmits}`);
          assert.equal(r.connects, 1);
          assert.equal(r.connectFailures, 1, 'the timed-out connect failed');
          assert.deepEqual(r.topPeers, [{ key: `127.0.0.1:${backlogPort}`, count: 2, errors: 1 }]);
        },
      },
      {
        name: 'untargeted pod E connects, is refused and reports nothing',
        targeted: false,
        workload: async (pod) => {
          await client('127.0.0.1', v4.port, 2, SENT)(pod);
          await client('127.0.0.1', refusedPort, 2, 1)(pod);
        },
        check: (r, events) => {
          assert.equal(r, undefined);
          assert.equal(events.length, 0);
        },
      },
    ]);
  } finally {
    v4.server.close();
    v6.server.close();
  }
});
