// Accumulated results → the report `loupe trace` prints (and the agent will publish).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramFromCounts } from '../../api/histogram.js';
import type { SyscallsResult } from '../../probes/syscalls/syscalls.js';
import type { ProfileResults } from '../../engine/probe-manager.js';
import { buildProfileReport } from '../../cli/trace/report.js';
import { renderReportText } from '../../cli/trace/report-text.js';
import { formatBytes, formatNs } from '../../api/probe-format.js';

const A = 11n;
const B = 22n;

function syscalls(calls: number, slot: number, top: [string, number][]): SyscallsResult {
  const counts = Array<number>(slot + 1).fill(0);
  counts[slot] = calls;
  // a summary without percentiles, as a reader might hand it over: the report recomputes them
  return { calls, errors: 1, latencyNs: { count: calls, histogram: histogramFromCounts(0, counts) }, topSyscalls: top.map(([key, count]) => ({ key, count })) };
}

const results: ProfileResults = {
  exec: new Map([
    [A, { execs: 3, exits: 2, topCommands: [{ key: '/bin/true', count: 2 }, { key: '/bin/sh', count: 1 }] }],
  ]),
  syscalls: new Map([
    [A, syscalls(100, 10, [['read', 60], ['write', 40]])],
    [B, syscalls(100, 20, [['futex', 70], ['read', 30]])],
  ]),
};

describe('profile report', () => {
  const report = buildProfileReport({
    profileId: 'trace',
    probes: ['exec', 'syscalls'],
    failed: [{ probe: 'tcp', message: 'load tcp.bpf.o: Operation not permitted' }],
    results,
    targets: [
      { label: 'pid 1', cgroupId: A },
      { label: 'container abc', cgroupId: B },
      { label: 'cgroup /a', cgroupId: A }, // the same cgroup again: shown, counted once in totals
    ],
    top: 1,
  });

  it('sums targets into totals, counting a cgroup once', () => {
    assert.equal(report.totals.exec?.execs, 3);
    assert.equal(report.totals.syscalls?.calls, 200);
    assert.deepEqual(report.totals.syscalls?.topSyscalls, [{ key: 'read', count: 90 }], 're-ranked, then cut to top');
  });

  it('recomputes latency percentiles from the merged histogram', () => {
    const latency = report.totals.syscalls!.latencyNs;
    assert.equal(latency.count, 200);
    assert.ok(latency.p50! <= 2 ** 10 && latency.p90! > 2 ** 19, JSON.stringify(latency));
    assert.ok(report.targets[0]!.results.syscalls!.latencyNs.p50! > 2 ** 9, 'per target too');
  });

  it('breaks down per target, with zero results for a target with no activity', () => {
    assert.deepEqual(report.targets.map((t) => [t.target, t.cgroupId, t.results.exec?.execs, t.results.syscalls?.calls]), [
      ['pid 1', '11', 3, 100],
      ['container abc', '22', 0, 100],
      ['cgroup /a', '11', 3, 100],
    ]);
    assert.deepEqual(report.targets[1]!.results.exec, { execs: 0, exits: 0, topCommands: [] });
    assert.deepEqual(report.failed.map((f) => f.probe), ['tcp']);
  });

  it('is plain JSON', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });

  it('renders text with totals, failures and one block per target', () => {
    const text = renderReportText(report, 'loupe trace: 3s');
    assert.match(text, /^loupe trace: 3s\n\ntcp: not loaded: load tcp.bpf.o: Operation not permitted\n/);
    assert.match(text, /^exec {6}3 execs, 2 exits$/m);
    assert.match(text, /^syscalls  200 calls, 2 errors, latency p50 \S+ p90 \S+ p99 \S+$/m);
    assert.match(text, /^container abc \(cgroup 22\)\n {2}exec {6}0 execs, 0 exits$/m);
  });

  it('formats durations and sizes', () => {
    assert.deepEqual([formatNs(999), formatNs(1500), formatNs(2_500_000), formatNs(3e9)], ['999ns', '1.50µs', '2.50ms', '3.00s']);
    assert.deepEqual([formatBytes(512), formatBytes(2048), formatBytes(5 * 1024 ** 3)], ['512B', '2.00KiB', '5.00GiB']);
  });
});
