// The runtime probes (runqlat, oomkill, biolatency, netbytes) against the live
// kernel: real programs, kubelet-shaped cgroup2 pods with real processes, and
// workloads with known ground truth. Each case runs in its own pod; an
// untargeted pod must report nothing.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import dgram from 'node:dgram';
import path from 'node:path';
import { MemoryCgroup } from '../support/memory-cgroup.js';
import { test } from 'node:test';
import { biolatency } from '../../probes/biolatency/biolatency.js';
import { netbytes } from '../../probes/netbytes/netbytes.js';
import { oomkill } from '../../probes/oomkill/oomkill.js';
import { runqlat } from '../../probes/runqlat/runqlat.js';
import { requireKernel } from '../support/privileged.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { runProbeCases, sleep } from '../support/probe-cases.js';

interface Exit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs argv inside the pod (a shell moves itself in, and into the cgroup.procs
 * files of `alsoIn`, then execs argv, so argv keeps the shell's pid).
 */
function runIn(pod: LocalPod, argv: readonly string[], alsoIn: readonly string[] = []): Promise<Exit> {
  const moves = [pod.dir, ...alsoIn].map((dir) => `echo $$ > '${dir}/cgroup.procs'`).join(' && ');
  const child = spawn('/bin/sh', ['-c', `${moves} && exec "$@"`, 'sh', ...argv], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ pid: child.pid ?? -1, code, signal }));
  });
}

async function runOk(pod: LocalPod, argv: readonly string[]): Promise<void> {
  const { code, signal } = await runIn(pod, argv);
  if (code !== 0) throw new Error(`${argv.join(' ')} in ${pod.dir} exited with ${code ?? signal}`);
}

/** Busy loop pinned to CPU 1, outside every pod: the contention runqlat must see. */
function startHog(): ChildProcess {
  return spawn('taskset', ['-c', '1', 'python3', '-c', 'while True: pass'], { stdio: 'ignore' });
}

/** Sleeps 1 ms then spins 2 ms, n times, on CPU 1: n wakeups, and preemptions when CPU 1 is busy. */
const SLEEP_SPIN = `
import sys, time
for _ in range(int(sys.argv[1])):
    time.sleep(0.001)
    end = time.perf_counter() + 0.002
    while time.perf_counter() < end:
        pass
`;
const sleepSpin = (n: number) => (pod: LocalPod) => runOk(pod, ['taskset', '-c', '1', 'python3', '-c', SLEEP_SPIN, String(n)]);

test('runqlat probe', async (t) => {
  if (!requireKernel(t)) return;
  const WAKEUPS = 200;
  /** With a hog on its CPU, a thread that spins past its slice waits for the hog's: well above this. */
  const CONTENDED_P99_NS = 200_000;
  let hog: ChildProcess | undefined;
  try {
    await runProbeCases(t, runqlat, [
      {
        name: `pod A sleeps ${WAKEUPS} times on an idle CPU`,
        targeted: true,
        workload: sleepSpin(WAKEUPS),
        check: (r) => {
          assert.ok(r, 'no result for a targeted pod');
          const python = r.topCommands.find((e) => e.key === 'python3');
          assert.ok(python && python.count >= WAKEUPS, `python3 waits: ${JSON.stringify(r.topCommands)}`);
          assert.equal(r.latencyNs.count, r.topCommands.reduce((sum, e) => sum + e.count, 0), 'every wait has a thread name');
        },
      },
      {
        name: `pod B sleeps ${WAKEUPS} times beside a CPU hog`,
        targeted: true,
        workload: async (pod) => {
          hog = startHog();
          await sleep(200);
          try {
            await sleepSpin(WAKEUPS)(pod);
          } finally {
            hog.kill();
          }
        },
        check: (r) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.ok(r.latencyNs.count >= WAKEUPS, `waits ${r.latencyNs.count}`);
          assert.ok((r.latencyNs.p99 ?? 0) >= CONTENDED_P99_NS, `p99 ${r.latencyNs.p99} ns under contention`);
        },
      },
      {
        name: 'untargeted pod C sleeps and reports nothing',
        targeted: false,
        workload: sleepSpin(50),
        check: (r) => assert.equal(r, undefined),
      },
    ]);
  } finally {
    hog?.kill();
  }
});


test('oomkill probe', async (t) => {
  if (!requireKernel(t)) return;
  const LIMIT = 32 << 20;
  // bytearray zero-fills, so every page of it is touched: far beyond the limit.
  const allocate = ['python3', '-c', `b = bytearray(${8 * LIMIT})`];
  let victim: Exit | undefined;
  const exceedLimit = async (pod: LocalPod) => {
    const memory = new MemoryCgroup(LIMIT);
    try {
      victim = await runIn(pod, allocate, [memory.dir]);
    } finally {
      memory.remove();
    }
    assert.equal(victim.signal, 'SIGKILL', `the allocation was not OOM-killed: ${JSON.stringify(victim)}`);
  };
  await runProbeCases(t, oomkill, [
    {
      name: 'pod A exceeds its memory limit and is OOM-killed',
      targeted: true,
      workload: exceedLimit,
      settled: (r) => r.kills >= 1,
      check: (r, events) => {
        assert.deepEqual(r, { kills: 1, topCommands: [{ key: 'python3', count: 1 }] });
        assert.equal(events.length, 1);
        const attributes = events[0]!.attributes;
        assert.equal(attributes['process.pid'], victim?.pid);
        assert.equal(attributes['process.executable.name'], 'python3');
        assert.equal(attributes['loupe.event'], 'oom_kill');
        assert.ok(Number(attributes['loupe.oom.total_vm_pages']) > 0);
      },
    },
    {
      name: 'untargeted pod B is OOM-killed and reports nothing',
      targeted: false,
      workload: exceedLimit,
      check: (r, events) => {
        assert.equal(r, undefined);
        assert.equal(events.length, 0);
      },
    },
  ]);
});

/** The whole disk (e.g. vda) under a path, from its st_dev and /sys/dev/block. */
function diskOf(file: string): string {
  const dev = statSync(file).dev; // glibc's dev_t encoding
  const major = ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | ((dev >>> 12) & ~0xff & 0xfffff);
  const parts = readlinkSync(`/sys/dev/block/${major}:${minor}`).split('/');
  return parts[parts.indexOf('block') + 1]!; // .../block/<disk>[/<partition>]
}

test('biolatency probe', async (t) => {
  if (!requireKernel(t)) return;
  // O_DIRECT bypasses the page cache, so dd itself submits the writes and reads
  // to the disk under the temporary directory (checked: a virtio disk here).
  const dir = mkdtempSync(path.join(tmpdir(), 'loupe-bio-'));
  const BLOCK = 64 << 10;
  const BLOCKS = 64;
  const file = (pod: LocalPod) => path.join(dir, pod.podUid);
  const write = (pod: LocalPod) =>
    runOk(pod, ['dd', 'if=/dev/zero', `of=${file(pod)}`, `bs=${BLOCK}`, `count=${BLOCKS}`, 'oflag=direct,sync', 'status=none']);
  try {
    await runProbeCases(t, biolatency, [
      {
        name: `pod A writes ${BLOCKS} x ${BLOCK} bytes with O_DIRECT`,
        targeted: true,
        workload: write,
        settled: (r) => r.bytesWritten >= BLOCK * BLOCKS,
        check: (r) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.ok(r.bytesWritten >= BLOCK * BLOCKS, `bytesWritten ${r.bytesWritten}`);
          assert.ok(r.ios >= BLOCKS, `ios ${r.ios}`);
          assert.equal(r.errors, 0);
          assert.equal(r.latencyNs.count, r.ios);
          assert.ok((r.latencyNs.p50 ?? 0) > 0);
          assert.deepEqual(r.topDevices, [{ key: diskOf(dir), count: r.ios, errors: 0 }]);
        },
      },
      {
        name: `pod B reads ${BLOCKS} x ${BLOCK} bytes back with O_DIRECT`,
        targeted: true,
        workload: async (pod) => {
          await write(pod);
          await runOk(pod, ['dd', `if=${file(pod)}`, 'of=/dev/null', `bs=${BLOCK}`, 'iflag=direct', 'status=none']);
        },
        settled: (r) => r.bytesRead >= BLOCK * BLOCKS && r.bytesWritten >= BLOCK * BLOCKS,
        check: (r) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.ok(r.bytesRead >= BLOCK * BLOCKS, `bytesRead ${r.bytesRead}`);
          assert.ok(r.bytesWritten >= BLOCK * BLOCKS, `bytesWritten ${r.bytesWritten}`);
        },
      },
      {
        name: 'untargeted pod C writes with O_DIRECT and reports nothing',
        targeted: false,
        workload: write,
        check: (r) => assert.equal(r, undefined),
      },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Sends argv[3] bytes over TCP to argv[1]:argv[2], half-closes and reads the reply to the end. */
const TCP_SEND = `
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.sendall(b'x' * int(sys.argv[3]))
c.shutdown(socket.SHUT_WR)
while c.recv(65536):
    pass
c.close()
`;

/** Sends argv[3] datagrams of argv[4] bytes over UDP to argv[1]:argv[2]. */
const UDP_SEND = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[3])):
    s.sendto(b'u' * int(sys.argv[4]), (sys.argv[1], int(sys.argv[2])))
`;

test('netbytes probe', async (t) => {
  if (!requireKernel(t)) return;
  const REPLY = 1000;
  // Outside every pod: reads to the end, replies REPLY bytes, closes.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.resume();
    socket.on('end', () => socket.end(Buffer.alloc(REPLY)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const tcpPort = (server.address() as net.AddressInfo).port;
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const udpPort = udp.address().port;
  const SENT = 100_000;
  const DATAGRAMS = 25;
  const DATAGRAM = 300;
  const sendTcp = (pod: LocalPod) => runOk(pod, ['python3', '-c', TCP_SEND, '127.0.0.1', String(tcpPort), String(SENT)]);
  try {
    await runProbeCases(t, netbytes, [
      {
        name: `pod A sends ${SENT} bytes over TCP and receives ${REPLY}`,
        targeted: true,
        workload: sendTcp,
        settled: (r) => r.bytesSent >= SENT && r.bytesReceived >= REPLY,
        check: (r) => {
          assert.ok(r, 'no result for a targeted pod');
          assert.ok(r.bytesSent >= SENT, `bytesSent ${r.bytesSent}`);
          assert.ok(r.bytesReceived >= REPLY, `bytesReceived ${r.bytesReceived}`);
          assert.ok(r.packetsSent > 0 && r.packetsReceived > 0);
          assert.deepEqual(r.topProtocols, [{ key: 'tcp', count: r.packetsSent + r.packetsReceived }]);
        },
      },
      {
        name: `pod B sends ${DATAGRAMS} UDP datagrams of ${DATAGRAM} bytes`,
        targeted: true,
        workload: (pod) => runOk(pod, ['python3', '-c', UDP_SEND, '127.0.0.1', String(udpPort), String(DATAGRAMS), String(DATAGRAM)]),
        check: (r) => {
          // IPv4 and UDP headers: 28 bytes per datagram.
          assert.deepEqual(r, {
            bytesSent: DATAGRAMS * (DATAGRAM + 28),
            bytesReceived: 0,
            packetsSent: DATAGRAMS,
            packetsReceived: 0,
            topProtocols: [{ key: 'udp', count: DATAGRAMS }],
          });
        },
      },
      {
        name: 'untargeted pod C sends over TCP and reports nothing',
        targeted: false,
        workload: sendTcp,
        check: (r) => assert.equal(r, undefined),
      },
    ]);
  } finally {
    server.close();
    udp.close();
  }
});
