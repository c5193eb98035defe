// The syscalls probe against the live kernel: real programs, kubelet-shaped
// cgroups, and a workload that makes a known number of one syscall. Pods A and
// B are targeted, pod C is not and must report nothing.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { histogramCount } from '../../api/histogram.js';
import { SyscallsResultSchema, type SyscallsOptions, type SyscallsResult } from '../../probes/syscalls/syscalls.js';
import { findCgroup2Mount } from '../../engine/cgroup/mount.js';
import { ProbeManager } from '../../engine/probe-manager.js';
import { probeObjectDirectory, probeObjectOpener } from '../../engine/probe-objects.js';
import { TARGETS_MAP, type ProbeDefinition, type ProbeReader } from '../../engine/probes/probe.js';
import { syscallsProbe } from '../../probes/syscalls/kernel.js';
import { TARGET_STORAGE_MAP, usesTargetStorage } from '../../engine/probes/target-storage.js';
import { BpfObject, type BpfLink } from '../../native/index.js';
import { requireKernel } from '../support/privileged.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';

// Moves itself into the cgroup (argv[1]) first, so every syscall after that is
// the pod's; then makes argv[3] calls, in each of argv[4] threads: getppid(),
// or close(-1), which fails with EBADF. It never closes the cgroup.procs fd:
// that close would count. Static, so no dynamic loader adds calls of its own.
const WORKLOAD_C = String.raw`
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
static long n;
static int ebadf;
static void *calls(void *arg) {
  for (long i = 0; i < n; i++) {
    if (ebadf) syscall(SYS_close, -1);
    else syscall(SYS_getppid);
  }
  return arg;
}
int main(int argc, char **argv) {
  char procs[4096];
  if (argc != 5 || strlen(argv[1]) > sizeof(procs) - 16) return 2;
  strcpy(procs, argv[1]);
  strcat(procs, "/cgroup.procs");
  int fd = open(procs, O_WRONLY);
  if (fd < 0 || write(fd, "0", 1) != 1) return 3;
  ebadf = strcmp(argv[2], "close-ebadf") == 0;
  n = atol(argv[3]);
  int threads = atoi(argv[4]);
  pthread_t t[64];
  if (threads < 1 || threads > 64) return 4;
  if (threads == 1) {
    calls(NULL);
    return 0;
  }
  for (int i = 0; i < threads; i++)
    if (pthread_create(&t[i], NULL, calls, NULL)) return 5;
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  return 0;
}
`;

let workDir: string;
let workload: string;

before(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'loupe-syscalls-'));
  writeFileSync(path.join(workDir, 'workload.c'), WORKLOAD_C);
  workload = path.join(workDir, 'workload');
  execFileSync('cc', ['-O2', '-static', '-pthread', '-o', workload, path.join(workDir, 'workload.c')]);
});

after(() => rmSync(workDir, { recursive: true, force: true }));

function run(pod: LocalPod, syscall: 'getppid' | 'close-ebadf', n: number, threads = 1): Promise<void> {
  const child = spawn(workload, [pod.dir, syscall, String(n), String(threads)], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`workload ${syscall} ${n} in ${pod.dir} exited with ${code ?? signal}`)),
    );
  });
}

/** The probe's filter on cgroup storage (this kernel has it), and on the targets hash alone (older kernels). */
const VARIANTS: ReadonlyArray<[string, ProbeDefinition<SyscallsResult, SyscallsOptions>]> = [
  ['cgroup storage', syscallsProbe()],
  ['targets hash (no cgroup storage)', syscallsProbe({ targetStorage: false })],
];

/** Targets the pod as the manager would: the targets entry, then its mirror. */
function target(definition: ProbeDefinition<SyscallsResult, SyscallsOptions>, obj: BpfObject, pod: LocalPod, slot: number): void {
  const key = Buffer.alloc(8);
  key.writeBigUInt64LE(pod.cgroupId);
  const value = Buffer.alloc(16); // struct loupe_target: profiles, slot, flags
  value.writeBigUInt64LE(1n << BigInt(slot), 0);
  value.writeUInt32LE(slot, 8);
  obj.map(TARGETS_MAP).update(key, value);
  definition.syncTarget?.(obj, pod.cgroupId, value);
}

function untarget(definition: ProbeDefinition<SyscallsResult, SyscallsOptions>, obj: BpfObject, pod: LocalPod): void {
  const key = Buffer.alloc(8);
  key.writeBigUInt64LE(pod.cgroupId);
  obj.map(TARGETS_MAP).delete(key);
  definition.syncTarget?.(obj, pod.cgroupId, undefined);
}

/** Every call the kernel counted in any slot: its totals, CPUs and buckets summed. */
function countedCalls(obj: BpfObject): bigint {
  const totals = obj.map('totals');
  let calls = 0n;
  for (const [, value] of totals.entries()) {
    for (const cpu of totals.perCpuValues(value)) {
      for (let offset = 8; offset < cpu.length; offset += 8) calls += cpu.readBigUInt64LE(offset); // zero + latency[]
    }
  }
  return calls;
}

function top(r: SyscallsResult, name: string) {
  return r.topSyscalls.find((e) => e.key === name);
}

/** The invariants of every result: schema, histogram count = calls = sum of the complete top list. */
function checkConsistent(r: SyscallsResult): void {
  SyscallsResultSchema.parse(r);
  assert.equal(r.latencyNs.count, r.calls);
  assert.equal(histogramCount(r.latencyNs.histogram), r.calls);
  assert.equal(
    r.topSyscalls.reduce((a, e) => a + e.count, 0),
    r.calls,
  );
  assert.equal(
    r.topSyscalls.reduce((a, e) => a + (e.errors ?? 0), 0),
    r.errors,
  );
}

for (const [variant, syscalls] of VARIANTS) {
  test(`syscalls probe counts exactly what targeted pods call, and nothing else (${variant})`, async (t) => {
    if (!requireKernel(t)) return;
    const obj = BpfObject.open(path.join(probeObjectDirectory(), syscalls.objectFile));
    const pods = { a: new LocalPod(), b: new LocalPod(), c: new LocalPod() };
    let links: BpfLink[] = [];
    let reader: ProbeReader<SyscallsResult> | undefined;
    try {
      syscalls.configure?.(obj);
      await obj.loadAsync();
      links = syscalls.attach(obj);
      reader = syscalls.reader(obj, () => assert.fail('the syscalls probe posts no events'));
      const names = obj.programs().map((p) => p.name);
      assert.deepEqual(names.sort(), ['loupe_sys_enter', 'loupe_sys_exit']);
      assert.equal(usesTargetStorage(obj), variant === 'cgroup storage');
      target(syscalls, obj, pods.a, 0);
      target(syscalls, obj, pods.b, 1);
      const collect = reader.collect.bind(reader);

      await t.test('getppid N times in A, M times in B, and in untargeted C', async () => {
        const N = 20_000;
        const M = 7_000;
        collect(); // start from zero
        await Promise.all([run(pods.a, 'getppid', N), run(pods.b, 'getppid', M), run(pods.c, 'getppid', 5_000)]);
        const results = collect();
        assert.equal(results.has(pods.c.cgroupId), false, 'untargeted pod C reported something');
        const a = results.get(pods.a.cgroupId);
        const b = results.get(pods.b.cgroupId);
        assert.ok(a && b, `results for A and B, got cgroups ${[...results.keys()]}`);
        checkConsistent(a);
        checkConsistent(b);
        assert.deepEqual(top(a, 'getppid'), { key: 'getppid', count: N, errors: 0 });
        assert.deepEqual(top(b, 'getppid'), { key: 'getppid', count: M, errors: 0 });
        // The program joined its pod with a write(2) that entered outside it, and
        // exit_group never returns: in between there is nothing but the loop.
        assert.equal(a.calls, N);
        assert.equal(b.calls, M);
        assert.equal(a.errors, 0);
        assert.ok(a.latencyNs.p50 !== undefined && a.latencyNs.p50 > 0 && a.latencyNs.p50 < 1_000_000, `p50 ${a.latencyNs.p50}`);
      });

      await t.test('close(-1) fails with EBADF exactly E times', async () => {
        const E = 3_000;
        collect();
        await Promise.all([run(pods.a, 'close-ebadf', E), run(pods.c, 'close-ebadf', 100)]);
        const results = collect();
        assert.equal(results.has(pods.c.cgroupId), false, 'untargeted pod C reported something');
        assert.equal(results.has(pods.b.cgroupId), false, 'idle pod B reported something');
        const a = results.get(pods.a.cgroupId);
        assert.ok(a);
        checkConsistent(a);
        assert.deepEqual(top(a, 'close'), { key: 'close', count: E, errors: E });
        assert.equal(top(a, 'getppid'), undefined, 'deltas: the first case is not counted again');
        assert.equal(a.calls, E);
        assert.equal(a.errors, E);
      });

      await t.test('threads on every CPU add up exactly', async () => {
        const T = 4;
        const N = 10_000;
        collect();
        await run(pods.b, 'getppid', N, T);
        const b = collect().get(pods.b.cgroupId);
        assert.ok(b);
        checkConsistent(b);
        assert.deepEqual(top(b, 'getppid'), { key: 'getppid', count: T * N, errors: 0 });
        assert.ok(top(b, 'clone3') ?? top(b, 'clone'), 'the thread creations');
      });

      await t.test('a pod taken out of the targets map stops counting', async () => {
        untarget(syscalls, obj, pods.a);
        collect();
        const before = countedCalls(obj);
        await run(pods.a, 'getppid', 1_000);
        assert.equal(collect().has(pods.a.cgroupId), false);
        assert.equal(countedCalls(obj), before, 'not even under its old slot');
      });
    } finally {
      reader?.close();
      for (const link of links) link.destroy();
      obj.close();
      for (const pod of Object.values(pods).reverse()) pod.remove(); // the first pod made the shared parents
    }
  });
}

for (const [variant, syscalls] of VARIANTS) {
  test(`the manager mirrors targets into cgroup storage and takes them out again (${variant})`, async (t) => {
    if (!requireKernel(t)) return;
    let obj: BpfObject | undefined;
    const open = probeObjectOpener((file) => BpfObject.open(file));
    const manager = new ProbeManager({ catalog: { syscalls }, openObject: (d) => (obj = open(d)) });
    const pods = { a: new LocalPod(), b: new LocalPod() };
    const mountPoint = findCgroup2Mount().mountPoint;
    try {
      assert.deepEqual((await manager.register('p', { probes: [{ name: 'syscalls' }], targets: [pods.a.cgroupId, pods.b.cgroupId] })).active, ['syscalls']);
      assert.ok(obj);
      const loaded = obj;
      assert.equal(usesTargetStorage(loaded), variant === 'cgroup storage');
      await Promise.all([run(pods.a, 'getppid', 2_000), run(pods.b, 'getppid', 3_000)]);
      manager.collect();
      const counted = (pod: LocalPod) => manager.results('p').syscalls?.get(pod.cgroupId)?.calls;
      assert.equal(counted(pods.a), 2_000);
      assert.equal(counted(pods.b), 3_000);

      await manager.update('p', { probes: [{ name: 'syscalls' }], targets: [pods.b.cgroupId] });
      const before = countedCalls(loaded);
      await run(pods.a, 'getppid', 1_000);
      assert.equal(countedCalls(loaded), before, 'the removed pod is not counted, not even under its old slot');
      if (usesTargetStorage(loaded)) {
        const storage = loaded.map(TARGET_STORAGE_MAP);
        assert.equal(storage.deleteCgroupStorage(mountPoint, pods.a.cgroupId), false, 'the removed pod has no cgroup storage');
        assert.equal(storage.deleteCgroupStorage(mountPoint, pods.b.cgroupId), true, 'the pod still targeted has it');
      }
    } finally {
      manager.close();
      for (const pod of Object.values(pods).reverse()) pod.remove();
    }
  });
}
