// Per-profile probe options on the real kernel: profiles sharing one program
// set on one pod, each getting what its options ask for. Ground truth from
// workloads that make a known number of known calls.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { histogramCount } from '../../api/histogram.js';
import { BpfObject } from '../../native/index.js';
import { encodeTargetKey, ProbeManager } from '../../engine/probe-manager.js';
import { probeObjectOpener } from '../../engine/probe-objects.js';
import { files } from '../../probes/files/files.js';
import { createProfileProbe } from '../../probes/profile/kernel.js';
import { decodeCountKey } from '../../probes/syscalls/kernel.js';
import { syscalls } from '../../probes/syscalls/syscalls.js';
import { decodeTargetValue } from '../../engine/probes/target-value.js';
import { kernelTestBlocker, requireKernel } from '../support/privileged.js';
import { bpfHandlesOf } from '../support/bpf-handles.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';

const openObject = probeObjectOpener((file) => BpfObject.open(file));

// Moves itself into the cgroup (argv[1]), then calls getppid() argv[2] times
// and close(-1) (EBADF) argv[3] times. Static, and it never returns from
// exit_group, so those are all the calls the pod makes.
const WORKLOAD_C = String.raw`
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
  char procs[4096];
  if (argc != 4 || strlen(argv[1]) > sizeof(procs) - 16) return 2;
  strcpy(procs, argv[1]);
  strcat(procs, "/cgroup.procs");
  int fd = open(procs, O_WRONLY);
  if (fd < 0 || write(fd, "0", 1) != 1) return 3;
  for (long i = atol(argv[2]); i > 0; i--) syscall(SYS_getppid);
  for (long i = atol(argv[3]); i > 0; i--) syscall(SYS_close, -1);
  return 0;
}
`;

describe('probe options on the kernel', () => {
  let workDir: string;
  let workload: string;
  let pod: LocalPod;
  /** Traced only by a profile without options. */
  let plainPod: LocalPod;
  before(() => {
    if (kernelTestBlocker() !== undefined) return;
    workDir = mkdtempSync(path.join(tmpdir(), 'loupe-options-'));
    writeFileSync(path.join(workDir, 'workload.c'), WORKLOAD_C);
    workload = path.join(workDir, 'workload');
    execFileSync('cc', ['-O2', '-static', '-o', workload, path.join(workDir, 'workload.c')]);
    pod = new LocalPod();
    plainPod = new LocalPod();
  });
  after(() => {
    plainPod?.remove();
    pod?.remove();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  function runWorkload(getppids: number, closes: number, into = pod): Promise<void> {
    const child = spawn(workload, [into.dir, String(getppids), String(closes)], { stdio: 'inherit' });
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`workload exited with ${code ?? signal}`))));
    });
  }

  it('syscalls.only: one profile sees exactly its syscall, with its own latency; the other sees everything', async (t) => {
    if (!requireKernel(t)) return;
    const N = 5_000;
    const E = 700;
    const manager = new ProbeManager({ catalog: { syscalls: syscalls.kernel }, openObject });
    try {
      await manager.register('everything', { probes: [{ name: 'syscalls' }], targets: [pod.cgroupId, plainPod.cgroupId] });
      const only = await manager.register('getppid', { probes: [{ name: 'syscalls', only: ['getppid'] }], targets: [pod.cgroupId] });
      assert.deepEqual([only.active, only.failed], [['syscalls'], []]);
      assert.deepEqual(manager.loadedProbes(), ['syscalls'], 'one program set for both');
      await Promise.all([runWorkload(N, E), runWorkload(N, 0, plainPod)]);
      manager.collect();
      const mine = manager.results('getppid').syscalls?.get(pod.cgroupId);
      const all = manager.results('everything').syscalls?.get(pod.cgroupId);
      assert.ok(mine && all);
      assert.equal(mine.calls, N);
      assert.equal(mine.errors, 0);
      assert.deepEqual(mine.topSyscalls, [{ key: 'getppid', count: N, errors: 0 }]);
      assert.equal(histogramCount(mine.latencyNs.histogram), N, 'the latency of getppid alone');
      assert.equal(mine.latencyNs.count, N);
      assert.equal(all.calls, N + E);
      assert.equal(all.errors, E);
      assert.equal(histogramCount(all.latencyNs.histogram), N + E);
      assert.equal(all.topSyscalls.find((e) => e.key === 'close')?.count, E);
      assert.equal(manager.results('everything').syscalls?.get(plainPod.cgroupId)?.calls, N);
      // Latency per syscall is kept only where a filtering profile looks: not in the plain pod.
      const object = manager.loadedObjects().find((p) => p.name === 'syscalls')?.object;
      assert.ok(object);
      const slotOf = (id: bigint) => decodeTargetValue(object.map('targets').lookup(encodeTargetKey(id)) ?? Buffer.alloc(0)).slot;
      const kept = object.map('syscall_latency').keys().map((k) => decodeCountKey(k));
      assert.deepEqual(kept, [{ slot: slotOf(pod.cgroupId), nr: 110 }], 'one histogram: getppid in the filtered pod');
    } finally {
      manager.close();
    }
  });

  it('syscalls.only with an unknown name fails that profile’s probe with a reason, not the agent', async (t) => {
    if (!requireKernel(t)) return;
    const manager = new ProbeManager({ catalog: { syscalls: syscalls.kernel }, openObject });
    try {
      const state = await manager.register('typo', { probes: [{ name: 'syscalls', only: ['getppid', 'opne'] }], targets: [pod.cgroupId] });
      assert.deepEqual(state.active, []);
      assert.deepEqual(state.failed, [{ probe: 'syscalls', message: 'syscalls.only: unknown syscall "opne" on this node (x86_64)' }]);
      assert.deepEqual(manager.loadedProbes(), [], 'nothing loaded for it');
    } finally {
      manager.close();
    }
  });

  it('files.pathPrefixes: opens under the prefix are counted, /etc/hostname is not', async (t) => {
    if (!requireKernel(t)) return;
    const dir = path.join(workDir, 'opened');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a'), 'a');
    const K = 25;
    const manager = new ProbeManager({ catalog: { files: files.kernel }, openObject });
    try {
      await manager.register('everything', { probes: [{ name: 'files' }], targets: [pod.cgroupId] });
      await manager.register('mine', { probes: [{ name: 'files', pathPrefixes: [`${dir}/`] }], targets: [pod.cgroupId] });
      // `true` is a dash builtin: the redirections are the only opens, and the
      // missing file fails once; its error message goes to /dev/null, outside the prefix.
      const status = await pod.run(
        `i=0; while [ $i -lt ${K} ]; do true < '${dir}/a'; i=$((i+1)); done; true < /etc/hostname; { true < '${dir}/missing'; } 2>/dev/null; true`,
      );
      assert.equal(status, 0);
      manager.collect();
      const mine = manager.results('mine').files?.get(pod.cgroupId);
      const all = manager.results('everything').files?.get(pod.cgroupId);
      assert.ok(mine && all);
      assert.deepEqual(mine, {
        opens: K + 1,
        errors: 1,
        topPaths: [
          { key: `${dir}/a`, count: K, errors: 0 },
          { key: `${dir}/missing`, count: 1, errors: 1 },
        ],
      });
      assert.deepEqual(all.topPaths.find((e) => e.key === '/etc/hostname'), { key: '/etc/hostname', count: 1, errors: 0 });
      assert.ok(all.opens >= K + 3, `everything: ${all.opens} opens`);
    } finally {
      manager.close();
    }
  });

  it('profile.frequency: the node samples at the highest rate asked, re-attaching without reloading', async (t) => {
    if (!requireKernel(t)) return;
    const manager = new ProbeManager({ catalog: { profile: createProfileProbe() }, openObject });
    try {
      await manager.register('slow', { probes: [{ name: 'profile' }], targets: [pod.cgroupId] });
      const before = bpfHandlesOf(process.pid);
      const fast = await manager.register('fast', { probes: [{ name: 'profile', frequency: 499 }], targets: [pod.cgroupId] });
      assert.deepEqual(fast.active, ['profile']);
      const afterHandles = bpfHandlesOf(process.pid);
      assert.deepEqual(afterHandles.progIds, before.progIds, 'the same program: not reloaded');
      assert.equal(afterHandles.linkIds.length, before.linkIds.length, 'one perf event per CPU, as before');
      assert.equal(afterHandles.linkIds.filter((id) => before.linkIds.includes(id)).length, 0, 'all of them new');
      // One CPU-bound second in the pod: at 499 Hz about 499 samples per CPU
      // second it got, at 19 Hz about 19. Judged by the CPU time the pod's
      // cgroup really used, so a busy machine does not fail the test.
      const cpuSeconds = () => Number(/^usage_usec (\d+)$/m.exec(readFileSync(`${pod.dir}/cpu.stat`, 'utf8'))?.[1] ?? 0) / 1e6;
      const cpuBefore = cpuSeconds();
      assert.equal(await pod.run(`timeout 1 sh -c 'while :; do :; done'; true`), 0);
      const used = cpuSeconds() - cpuBefore;
      manager.collect();
      assert.ok(used > 0.05, `the pod got ${used}s of CPU`);
      for (const profile of ['slow', 'fast']) {
        const samples = manager.results(profile).profile?.get(pod.cgroupId)?.samples ?? 0;
        assert.ok(samples > 0.5 * 499 * used, `${profile}: ${samples} samples in ${used.toFixed(2)} CPU seconds`);
      }
    } finally {
      manager.close();
    }
  });
});
