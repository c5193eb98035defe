// The profile probe against the live kernel: a program compiled here spins in
// a function with a known name, in a targeted pod and in an untargeted one at
// the same time. The targeted pod's hottest frame must be that function; the
// untargeted pod must have no samples; the pprof of its stacks must name it.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'node:test';
import { Profile } from 'pprof-format';
import { createProfileDownloadHandler } from '../../probes/profile/download.js';
import { probeObjectDirectory } from '../../engine/probe-objects.js';
import { TARGETS_MAP } from '../../engine/probes/probe.js';
import { createProfileProbe } from '../../probes/profile/kernel.js';
import { foldedStacksOf } from '../../probes/profile/stacks.js';
import { BpfObject } from '../../native/index.js';
import { requireKernel } from '../support/privileged.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';

const FREQUENCY_HZ = 99;
const SPIN_CPU_SECONDS = 1.5;

// Spins in loupe_test_spin_here until it has used argv[1] seconds of CPU
// (whatever the machine's load), creates the file argv[2], and waits off the
// CPU until that file is gone, so it is still alive (its maps readable) when
// the test collects. Frame pointers, so the kernel can walk the user stack.
const SPIN_C = String.raw`
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
volatile unsigned long sink;
static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}
void loupe_test_spin_here(double seconds) {
  while (cpu_seconds() < seconds)
    for (unsigned long i = 0; i < 1000000; i++) sink += i;
}
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  loupe_test_spin_here(atof(argv[1]));
  close(open(argv[2], O_CREAT | O_WRONLY, 0644));
  while (access(argv[2], F_OK) == 0) usleep(10000);
  return 0;
}
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function targetKey(cgroupId: bigint): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigUInt64LE(cgroupId);
  return key;
}

function targetValue(profiles: bigint, slot: number): Buffer {
  const value = Buffer.alloc(16);
  value.writeBigUInt64LE(profiles, 0);
  value.writeUInt32LE(slot, 8);
  return value;
}

test('profile probe: the hot function of a targeted pod, nothing of an untargeted one', async (t) => {
  if (!requireKernel(t)) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'loupe-profile-'));
  const probe = createProfileProbe(FREQUENCY_HZ);
  const obj = BpfObject.open(path.join(probeObjectDirectory(), probe.objectFile));
  const targeted = new LocalPod();
  const untargeted = new LocalPod();
  try {
    writeFileSync(path.join(dir, 'spin.c'), SPIN_C);
    execFileSync('cc', ['-O0', '-g', '-fno-omit-frame-pointer', '-o', path.join(dir, 'spin'), path.join(dir, 'spin.c')]);
    await obj.loadAsync();
    const links = probe.attach(obj);
    assert.ok(links.length >= 1, 'a perf event on at least one CPU');
    const reader = probe.reader(obj, () => assert.fail('the profile probe posts no events'));
    obj.map(TARGETS_MAP).update(targetKey(targeted.cgroupId), targetValue(1n, 0));
    reader.collect(); // start from zero

    const done = [path.join(dir, 'targeted.done'), path.join(dir, 'untargeted.done')] as const;
    const runs = [
      targeted.run(`exec ${path.join(dir, 'spin')} ${SPIN_CPU_SECONDS} ${done[0]}`),
      untargeted.run(`exec ${path.join(dir, 'spin')} ${SPIN_CPU_SECONDS} ${done[1]}`),
    ];
    while (!done.every((file) => existsSync(file))) await sleep(50);
    const results = reader.collect(); // both have spun and wait, alive, to be symbolized
    done.forEach((file) => rmSync(file));
    assert.deepEqual(await Promise.all(runs), [0, 0]);

    assert.equal(results.get(untargeted.cgroupId), undefined, 'untargeted pod: no samples');
    const result = results.get(targeted.cgroupId);
    assert.ok(result, 'targeted pod: samples');
    // 1.5 s on a CPU at 99 Hz: ~148 samples, give or take the sampling's jitter.
    const expected = SPIN_CPU_SECONDS * FREQUENCY_HZ;
    assert.ok(result.samples >= expected * 0.7 && result.samples <= expected * 1.3, `samples: ${result.samples}, expected ~${expected}`);
    // Each sample carries the period it was taken with: 1e9 / 99 ns (cpu-clock counts nanoseconds).
    assert.equal(result.cpuNs, result.samples * Math.floor(1e9 / FREQUENCY_HZ));
    assert.equal(result.topFrames[0]?.key, 'loupe_test_spin_here (spin)', JSON.stringify(result.topFrames.slice(0, 5)));
    assert.ok(result.topFrames[0]!.count >= result.samples * 0.8, JSON.stringify(result.topFrames.slice(0, 5)));
    assert.match(result.topStacks[0]!.key, /^spin;.*main;loupe_test_spin_here$/);
    assert.equal(
      result.topStacks.reduce((n, e) => n + e.count, 0),
      result.samples,
      'every sample is in one stack',
    );

    // Downloaded as the node agent serves it.
    const server = createServer(createProfileDownloadHandler((uid) => (uid === 'p1' ? foldedStacksOf([result], FREQUENCY_HZ) : undefined)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/profiles/p1.pb.gz`);
      assert.equal(res.status, 200);
      const pprof = Profile.decode(gunzipSync(Buffer.from(await res.arrayBuffer())));
      assert.equal(pprof.sample.reduce((n, s) => n + Number(s.value[0]), 0), result.samples);
      assert.ok(pprof.stringTable.strings.includes('loupe_test_spin_here'));
    } finally {
      server.close();
    }
    reader.close();
  } finally {
    obj.close();
    targeted.remove();
    untargeted.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('profile probe: kernel frames of a syscall-heavy pod are symbolized from kallsyms', async (t) => {
  if (!requireKernel(t)) return;
  const probe = createProfileProbe(FREQUENCY_HZ);
  const obj = BpfObject.open(path.join(probeObjectDirectory(), probe.objectFile));
  const pod = new LocalPod();
  try {
    await obj.loadAsync();
    probe.attach(obj);
    const reader = probe.reader(obj, () => {});
    obj.map(TARGETS_MAP).update(targetKey(pod.cgroupId), targetValue(1n, 0));
    reader.collect();
    // read(2) of /dev/zero: nearly all of dd's time is in the kernel, under vfs_read.
    assert.equal(await pod.run('dd if=/dev/zero of=/dev/null bs=1M count=20000 2>/dev/null'), 0);
    const result = reader.collect().get(pod.cgroupId);
    assert.ok(result && result.samples > 0, 'samples');
    const kernelSamples = result.topFrames.filter((e) => e.key.endsWith(' (kernel)') && !e.key.startsWith('[unknown]'));
    assert.ok(kernelSamples.reduce((n, e) => n + e.count, 0) >= result.samples / 2, JSON.stringify(result.topFrames.slice(0, 5)));
    assert.ok(
      result.topStacks.some((e) => /^dd;.*;vfs_read_\[k\];/.test(e.key)),
      JSON.stringify(result.topStacks.slice(0, 3)),
    );
  } finally {
    obj.close();
    pod.remove();
  }
});
