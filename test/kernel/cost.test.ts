// Cost accounting against the live kernel: a syscall-heavy workload in a
// kubelet-shaped cgroup, traced by the syscalls probe through the real
// ProbeManager, and the cost the agent's meter reports for its profile checked
// against the same programs' run time read from outside, with bpftool.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { turnOnBpfStats } from '../../engine/cost/bpf-stats.js';
import { CostMeter, type CostReport } from '../../engine/cost/cost-meter.js';
import { eventsByProbe } from '../../engine/cost/probe-events.js';
import { ProbeManager } from '../../engine/probe-manager.js';
import { probeObjectOpener } from '../../engine/probe-objects.js';
import { syscalls } from '../../probes/syscalls/syscalls.js';
import type { ProbeName } from '../../probes/registry.js';
import { BpfObject } from '../../native/index.js';
import { kernelTestBlocker, requireKernel } from '../support/privileged.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';

/** The agent's figure and the outside one agree within this fraction (the bar). */
const TOLERANCE = 0.25;
const CALLS = 2_000_000;

// Joins the cgroup (argv[1]), then calls getppid() argv[2] times. Static, so
// no dynamic loader adds syscalls; prints the loop's own time in ns.
const LOOP_C = String.raw`
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
  char procs[4096];
  if (argc != 3 || strlen(argv[1]) > sizeof(procs) - 16) return 2;
  strcpy(procs, argv[1]);
  strcat(procs, "/cgroup.procs");
  int fd = open(procs, O_WRONLY);
  if (fd < 0 || write(fd, "0", 1) != 1) return 3;
  long n = atol(argv[2]);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%lld\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
  return 0;
}
`;

let workDir: string;
let loop: string;

/** Runs the loop in the pod; resolves with the loop's own duration in ns. */
function runLoop(pod: LocalPod, calls: number): Promise<number> {
  const child = spawn(loop, [pod.dir, String(calls)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`loop exited with ${code}`))));
  });
}

/** Total run_time_ns of these programs, as bpftool reads it from the kernel. */
function bpftoolRunTimeNs(progIds: readonly number[]): bigint {
  let total = 0n;
  for (const id of progIds) {
    const info = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(id)], { encoding: 'utf8' })) as {
      run_time_ns?: number;
    };
    assert.ok(info.run_time_ns !== undefined, `bpftool shows no run_time_ns for program ${id}: statistics are off`);
    total += BigInt(info.run_time_ns);
  }
  return total;
}

function eventsOf(manager: ProbeManager, uids: readonly string[]): Map<string, Map<ProbeName, number>> {
  return new Map(uids.map((uid) => [uid, eventsByProbe(manager.results(uid))]));
}

const pct = (cores: number) => `${(cores * 100).toFixed(3)}% of a CPU`;

describe('cost accounting on the kernel', () => {
  const pods: LocalPod[] = [];
  before(() => {
    if (kernelTestBlocker() !== undefined) return;
    workDir = mkdtempSync(path.join(tmpdir(), 'loupe-cost-'));
    writeFileSync(path.join(workDir, 'loop.c'), LOOP_C);
    loop = path.join(workDir, 'loop');
    execFileSync('cc', ['-O2', '-static', '-o', loop, path.join(workDir, 'loop.c')]);
    pods.push(new LocalPod(), new LocalPod());
  });
  after(() => {
    pods.forEach((p) => p.remove());
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  it('reports the syscalls probe cost of a profile within 25% of what bpftool measures', async (t) => {
    if (!requireKernel(t)) return;
    const [pod] = pods as [LocalPod];
    const stats = turnOnBpfStats();
    assert.ok(stats.measured, stats.measured ? '' : stats.reason);
    const manager = new ProbeManager({ catalog: { syscalls: syscalls.kernel }, openObject: probeObjectOpener((file) => BpfObject.open(file)) });
    const meter = new CostMeter(stats);
    try {
      const untracedNs = await runLoop(pod, CALLS);
      await manager.register('p', { probes: [{ name: 'syscalls' }], targets: [pod.cgroupId] });
      const progIds = manager.loadedObjects().flatMap((p) => p.object.loadedPrograms().map((prog) => prog.id));

      const outsideStart = process.hrtime.bigint();
      const runTimeBefore = bpftoolRunTimeNs(progIds);
      meter.measure(manager.loadedObjects(), eventsOf(manager, ['p']));
      const tracedNs = await runLoop(pod, CALLS);
      manager.collect();
      const report = meter.measure(manager.loadedObjects(), eventsOf(manager, ['p']));
      const runTimeAfter = bpftoolRunTimeNs(progIds);
      const outsideElapsedNs = Number(process.hrtime.bigint() - outsideStart);

      assert.ok(report);
      const cost = report.profiles.get('p')?.cost;
      assert.ok(cost);
      const outsideCores = Number(runTimeAfter - runTimeBefore) / outsideElapsedNs;
      const slowdownCores = (tracedNs - untracedNs) / outsideElapsedNs;
      t.diagnostic(`agent: ${pct(cost.cpuCores)}, ${Math.round(cost.eventsPerSecond)} events/s, maps ${cost.kernelMemoryBytes} B`);
      t.diagnostic(`bpftool run_time_ns: ${pct(outsideCores)} (${runTimeAfter - runTimeBefore} ns in ${(outsideElapsedNs / 1e6).toFixed(0)} ms)`);
      t.diagnostic(
        `loop slowdown: ${untracedNs / CALLS} → ${tracedNs / CALLS} ns per call = ${pct(slowdownCores)} ` +
          '(includes the tracepoint entry path, which run_time_ns does not count)',
      );
      t.diagnostic(`node: agent ${pct(report.node.agentCpuCores)}, ${report.node.agentMemoryBytes} B RSS`);
      console.log(`cost: agent ${pct(cost.cpuCores)} vs bpftool ${pct(outsideCores)} vs loop slowdown ${pct(slowdownCores)}`);

      assert.ok(cost.cpuCores > 0, 'the probe cost something');
      // Compared as kernel time, so that bpftool's own (longer) window does not dilute its figure.
      const agentNs = cost.cpuCores * report.elapsedNs;
      const outsideNs = Number(runTimeAfter - runTimeBefore);
      const ratio = agentNs / outsideNs;
      t.diagnostic(`kernel time: agent ${Math.round(agentNs)} ns, bpftool ${outsideNs} ns, ratio ${ratio.toFixed(3)}`);
      assert.ok(Math.abs(ratio - 1) <= TOLERANCE, `agent ${Math.round(agentNs)} ns vs bpftool ${outsideNs} ns: ratio ${ratio.toFixed(3)}`);
      // The loop's calls (and its few others), within the rounding of the rate to 3 digits.
      const events = cost.eventsPerSecond * (report.elapsedNs / 1e9);
      assert.ok(events >= 0.99 * CALLS && events <= 1.01 * CALLS, `${events} events for ${CALLS} calls`);
      assert.ok(cost.kernelMemoryBytes > 0, 'the probe maps hold kernel memory');
      assert.equal(report.node.cpuCores, cost.cpuCores, 'the only profile carries the whole probe');
      assert.ok(report.node.agentMemoryBytes > 0);
    } finally {
      manager.close();
      meter.close();
    }
  });

  it('splits a shared probe between two profiles by their events', async (t) => {
    if (!requireKernel(t)) return;
    const [a, b] = pods as [LocalPod, LocalPod];
    const stats = turnOnBpfStats();
    assert.ok(stats.measured);
    const manager = new ProbeManager({ catalog: { syscalls: syscalls.kernel }, openObject: probeObjectOpener((file) => BpfObject.open(file)) });
    const meter = new CostMeter(stats);
    try {
      await manager.register('p', { probes: [{ name: 'syscalls' }], targets: [a.cgroupId] });
      await manager.register('q', { probes: [{ name: 'syscalls' }], targets: [b.cgroupId] });
      meter.measure(manager.loadedObjects(), eventsOf(manager, ['p', 'q']));
      await Promise.all([runLoop(a, 3 * CALLS / 4), runLoop(b, CALLS / 4)]);
      manager.collect();
      const report: CostReport | undefined = meter.measure(manager.loadedObjects(), eventsOf(manager, ['p', 'q']));
      const p = report?.profiles.get('p')?.cost;
      const q = report?.profiles.get('q')?.cost;
      assert.ok(p && q);
      t.diagnostic(`p ${pct(p.cpuCores)}, q ${pct(q.cpuCores)}`);
      const share = p.cpuCores / (p.cpuCores + q.cpuCores);
      assert.ok(Math.abs(share - 0.75) < 0.01, `p's share ${share}`);
      assert.ok(Math.abs(p.kernelMemoryBytes - q.kernelMemoryBytes) <= 1, 'map memory is split equally');
    } finally {
      manager.close();
      meter.close();
    }
  });
});
