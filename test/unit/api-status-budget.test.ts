import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { summarizeLatency } from '../../api/histogram.js';
import type { NodeTracePlanStatus } from '../../api/nodetraceplan.js';
import type { ProbeResults } from '../../api/results.js';
import type { TopEntry } from '../../api/top-list.js';
import { fitNodeTracePlanStatusToBudget, fitStatusToBudget } from '../../api/status-budget.js';
import { MAX_STATUS_PODS, TraceProfileStatusSchema, type TraceProfileStatus } from '../../api/traceprofile.js';

const bytesOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

function top(prefix: string, n: number): TopEntry[] {
  // Long keys (256 characters, the schema's limit) make lists the bulk of the status.
  return Array.from({ length: n }, (_, i) => ({ key: `${prefix}/${i}/`.padEnd(256, 'x'), count: n - i }));
}

function results(n: number): ProbeResults {
  const latency = summarizeLatency({ zeroCount: 0, buckets: [1, 2, 3, 4] });
  return {
    exec: { execs: 10, exits: 10, topCommands: top('/usr/bin/cmd', n) },
    syscalls: { calls: 100, errors: 1, latencyNs: latency, topSyscalls: top('sys', n) },
    files: { opens: 5, errors: 0, topPaths: top('/etc', n) },
    tcp: { connects: 1, connectFailures: 0, connectLatencyNs: latency, accepts: 0, closed: 1, bytesSent: 1, bytesReceived: 1, retransmits: 0, durationNs: latency, topPeers: top('10.0.0.1', n) },
  };
}

function bigStatus(pods: number, topN: number): TraceProfileStatus {
  return {
    phase: 'Running',
    headline: '1.2k execs, p99 3.1ms',
    results: results(topN),
    pods: Array.from({ length: pods }, (_, i) => ({ namespace: 'shop', name: `checkout-${i}`, node: 'node-a', containers: ['web'], results: results(topN) })),
  };
}

const topEntries = (r: ProbeResults | undefined) =>
  (r?.exec?.topCommands.length ?? 0) + (r?.syscalls?.topSyscalls.length ?? 0) + (r?.files?.topPaths.length ?? 0) + (r?.tcp?.topPeers.length ?? 0);

describe('fitStatusToBudget', () => {
  it('leaves a status that fits as it is, without a truncated mark', () => {
    const status = bigStatus(2, 3);
    assert.deepEqual(fitStatusToBudget(status), status);
  });

  it('drops pods from the end first, and says how many', () => {
    const status = bigStatus(MAX_STATUS_PODS, 10);
    assert.ok(bytesOf(status) > 64 * 1024, 'the input is over budget');
    const fitted = fitStatusToBudget(status);
    assert.ok(bytesOf(fitted) <= 64 * 1024, `${bytesOf(fitted)} bytes`);
    const kept = fitted.pods!.length;
    assert.ok(kept > 0 && kept < MAX_STATUS_PODS);
    assert.deepEqual(fitted.pods!.map((p) => p.name), status.pods!.slice(0, kept).map((p) => p.name));
    assert.deepEqual(fitted.truncated, { pods: MAX_STATUS_PODS - kept, topEntries: 0 });
    assert.deepEqual(fitted.results, status.results, 'totals are untouched');
    assert.ok(TraceProfileStatusSchema.safeParse(fitted).success, 'still a valid status');
  });

  it('then shortens top lists from the tail, and counts what went', () => {
    const status = bigStatus(30, 50);
    const fitted = fitStatusToBudget(status, 16 * 1024);
    assert.ok(bytesOf(fitted) <= 16 * 1024, `${bytesOf(fitted)} bytes`);
    assert.deepEqual(fitted.pods, []);
    const keptTop = topEntries(fitted.results);
    assert.ok(keptTop > 0 && keptTop < 200);
    assert.deepEqual(fitted.truncated, { pods: 30, topEntries: 200 - keptTop });
    assert.deepEqual(fitted.results!.exec!.topCommands, status.results!.exec!.topCommands.slice(0, keptTop / 4));
    assert.equal(status.pods!.length, 30, 'the input is not mutated');
  });

  it('caps the breakdown at MAX_STATUS_PODS even when it fits', () => {
    const fitted = fitStatusToBudget(bigStatus(25, 0), 1024 * 1024);
    assert.equal(fitted.pods!.length, MAX_STATUS_PODS);
    assert.deepEqual(fitted.truncated, { pods: 5, topEntries: 0 });
  });
});

describe('fitNodeTracePlanStatusToBudget', () => {
  it('trims the profiles with the most pods first and marks each profile', () => {
    const profile = (uid: string, pods: number) => ({
      uid,
      state: 'Running' as const,
      probesLoaded: ['exec' as const],
      targets: { resolved: pods },
      results: results(10),
      pods: Array.from({ length: pods }, (_, i) => ({ podUid: `${uid}-${i}`, namespace: 'shop', pod: `p${i}`, results: results(10) })),
    });
    const status: NodeTracePlanStatus = { heartbeat: '2026-11-26T06:45:00Z', profiles: [profile('a', 20), profile('b', 2)] };
    const fitted = fitNodeTracePlanStatusToBudget(status, 128 * 1024);
    assert.ok(bytesOf(fitted) <= 128 * 1024);
    const [a, b] = fitted.profiles!;
    assert.ok(a!.truncated!.pods > 0);
    assert.equal(b!.truncated, undefined, 'the small profile keeps its pods');
    assert.equal(b!.pods!.length, 2);
  });

  it('drops the directories looked in for unresolved containers, but the first, before any result', () => {
    const lookedIn = Array.from({ length: 6 }, (_, i) => `/host/sys/fs/cgroup/kubepods/burstable/pod${i}/`.padEnd(512, 'x'));
    const unresolved = Array.from({ length: 16 }, (_, i) => ({ containerId: `containerd://${i}`, pod: 'shop/p', container: 'app', reason: 'no container', lookedIn }));
    const profile = (uid: string) => ({ uid, state: 'Running' as const, probesLoaded: ['exec' as const], targets: { resolved: 1, unresolved }, results: results(3) });
    const status: NodeTracePlanStatus = { heartbeat: '2026-11-26T06:45:00Z', profiles: [profile('a'), profile('b')] };
    assert.deepEqual(fitNodeTracePlanStatusToBudget(status, 1024 * 1024), status, 'within budget: untouched');
    const fitted = fitNodeTracePlanStatusToBudget(status, 64 * 1024);
    assert.ok(bytesOf(fitted) <= 64 * 1024);
    for (const p of fitted.profiles!) {
      assert.deepEqual(p.targets.unresolved!.map((u) => u.lookedIn?.length ?? 0), [6, ...Array(15).fill(0)]);
      assert.equal(p.truncated, undefined, 'no result lost');
    }
  });
});
