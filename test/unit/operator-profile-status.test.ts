import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { STATUS_BUDGET_BYTES } from '../../api/status-budget.js';
import { TraceProfileStatusSchema } from '../../api/traceprofile.js';
import { PROBE_NAMES } from '../../probes/registry.js';
import { headline } from '../../operator/headline.js';
import { compactCount, compactNanoseconds } from '../../api/probe-format.js';
import { nodeReadiness, type NodeReport } from '../../operator/node-readiness.js';
import { profileTargets } from '../../operator/pod-targets.js';
import { profilePhase, withTransitionTimes, type PhaseInput } from '../../operator/profile-conditions.js';
import { computeProfileStatus, type ProfileStatusInput } from '../../operator/profile-status.js';
import { sameJson } from '../../operator/same-json.js';
import { execReport, pod, profile } from './operator-fixtures.js';

const now = Date.parse('2026-11-26T07:00:00Z');
const fresh = '2026-11-26T06:59:55Z';

describe('nodeReadiness', () => {
  const probes = ['exec'] as const;
  const ready = (report: NodeReport | undefined, nowMs = now) => nodeReadiness('node-a', report, probes, '10s', nowMs);

  it('is ready when Running with every probe loaded and a recent heartbeat', () => {
    const r = ready({ heartbeat: fresh, entry: execReport('u', 0, []) });
    assert.equal(r.ready, true);
    assert.equal(r.error, undefined);
    assert.equal(r.staleAtMs, Date.parse(fresh) + 30_000);
  });

  it('is pending, without error, before the agent reports the profile', () => {
    assert.deepEqual(ready(undefined), { node: 'node-a', ready: false, failed: false });
    assert.deepEqual(ready({ heartbeat: fresh }), { node: 'node-a', ready: false, failed: false });
  });

  it('is not ready while a probe is missing', () => {
    assert.equal(ready({ heartbeat: fresh, entry: { ...execReport('u', 0, []), probesLoaded: [] } }).ready, false);
  });

  it('counts a node that traces with some probes failed, and names them', () => {
    const twoProbes = ['exec', 'tcp'] as const;
    const entry = { ...execReport('u', 0, []), probesLoaded: ['exec' as const], errors: [{ probe: 'tcp' as const, message: 'no tracefs' }] };
    const r = nodeReadiness('node-a', { heartbeat: fresh, entry }, twoProbes, '10s', now);
    assert.equal(r.ready, true, 'the node traces with what loaded');
    assert.deepEqual(r.failedProbes, ['tcp']);
    assert.equal(r.error, 'tcp: no tracefs');
    const silentOnTcp = nodeReadiness('node-a', { heartbeat: fresh, entry: { ...entry, errors: [] } }, twoProbes, '10s', now);
    assert.equal(silentOnTcp.ready, false, 'a probe neither loaded nor reported failed is still to come');
  });

  it('reports a silent agent', () => {
    const r = ready({ heartbeat: fresh, entry: execReport('u', 0, []) }, Date.parse(fresh) + 30_000);
    assert.equal(r.ready, false);
    assert.match(r.error ?? '', /no report from the agent since 2026-11-26T06:59:55Z/);
  });

  it('reports failures and errors', () => {
    const failed = ready({ heartbeat: fresh, entry: { ...execReport('u', 0, []), state: 'Failed', errors: [{ probe: 'exec', message: 'EPERM' }] } });
    assert.deepEqual([failed.failed, failed.error], [true, 'exec: EPERM']);
    const unresolved = ready({
      heartbeat: fresh,
      entry: { ...execReport('u', 0, []), targets: { resolved: 0, unresolved: [{ containerId: 'containerd://x', reason: 'no cgroup' }] } },
    });
    assert.equal(unresolved.ready, true);
    assert.match(unresolved.error ?? '', /1 container\(s\) not found, e\.g\. containerd:\/\/x: no cgroup/);
    const named = ready({
      heartbeat: fresh,
      entry: {
        ...execReport('u', 0, []),
        targets: { resolved: 0, unresolved: [{ containerId: 'cri-o://y', pod: 'shop/web-1', container: 'istio-proxy', reason: 'no container y of pod u', lookedIn: ['/host/sys/fs/cgroup/kubepods/podu'] }] },
      },
    });
    assert.equal(named.error, '1 container(s) not found, e.g. istio-proxy of shop/web-1 (cri-o://y): no container y of pod u');
  });
});

describe('profilePhase', () => {
  const node = (name: string, ready: boolean, failed = false, error?: string) => ({ node: name, ready, failed, ...(error ? { error } : {}) });
  const base: PhaseInput = { namespace: 'shop', suspended: false, expired: false, pods: 2, containers: 2, nodes: [] };
  const cases: { name: string; input: Partial<PhaseInput>; phase: string; ready: string; progressing: string; degraded: string }[] = [
    { name: 'no matching pod', input: { pods: 0, containers: 0 }, phase: 'Pending', ready: 'False/NoMatchingPods', progressing: 'False/NoMatchingPods', degraded: 'False' },
    { name: 'waiting for every node', input: { nodes: [node('a', false)] }, phase: 'Pending', ready: 'False/WaitingForNodes', progressing: 'True/WaitingForNodes', degraded: 'False' },
    { name: 'some nodes tracing', input: { nodes: [node('a', true), node('b', false)] }, phase: 'Running', ready: 'False/NodesNotReady', progressing: 'True/WaitingForNodes', degraded: 'False' },
    { name: 'every node tracing', input: { nodes: [node('a', true), node('b', true)] }, phase: 'Running', ready: 'True/Tracing', progressing: 'False/Tracing', degraded: 'False' },
    { name: 'tracing with errors', input: { nodes: [node('a', true, false, 'tcp: EPERM')] }, phase: 'Running', ready: 'True/Tracing', progressing: 'False/Tracing', degraded: 'True' },
    {
      name: 'tracing with a probe failed on a node',
      input: { nodes: [{ ...node('a', true, false, 'tcp: no tracefs'), failedProbes: ['tcp' as const] }, node('b', true)] },
      phase: 'Running',
      ready: 'False/ProbesFailed',
      progressing: 'False/ProbesFailed',
      degraded: 'True',
    },
    { name: 'every node failed', input: { nodes: [node('a', false, true, 'x'), node('b', false, true, 'y')] }, phase: 'Failed', ready: 'False/NodesFailed', progressing: 'False/NodesFailed', degraded: 'True' },
    { name: 'suspended', input: { suspended: true, nodes: [node('a', true)] }, phase: 'Suspended', ready: 'False/Suspended', progressing: 'False/Suspended', degraded: 'False' },
    { name: 'expired', input: { expired: true, suspended: true, nodes: [node('a', false, false, 'x')] }, phase: 'Completed', ready: 'True/Completed', progressing: 'False/Completed', degraded: 'False' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { phase, conditions } = profilePhase({ ...base, ...c.input });
      const show = (type: string) => {
        const cond = conditions.find((x) => x.type === type);
        return type === 'Degraded' ? cond?.status : `${cond?.status}/${cond?.reason}`;
      };
      assert.deepEqual([phase, show('Ready'), show('Progressing'), show('Degraded')], [c.phase, c.ready, c.progressing, c.degraded]);
    });
  }

  it('names the nodes it waits for, and the errors', () => {
    const { conditions } = profilePhase({ ...base, nodes: [node('a', true), node('b', false, false, 'tcp: EPERM')] });
    assert.equal(conditions.find((x) => x.type === 'Ready')?.message, '1/2 nodes tracing; waiting for b');
    assert.equal(conditions.find((x) => x.type === 'Degraded')?.message, 'b: tcp: EPERM');
  });
});

describe('withTransitionTimes', () => {
  it('keeps lastTransitionTime while the status holds and moves it when it flips', () => {
    const before = withTransitionTimes(
      [{ type: 'Ready', status: 'False', reason: 'WaitingForNodes', message: '0/1' }, { type: 'Degraded', status: 'False', reason: 'NoErrors', message: '' }],
      undefined,
      '2026-11-26T06:00:00Z',
      1,
    );
    const after = withTransitionTimes(
      [{ type: 'Ready', status: 'True', reason: 'Tracing', message: '1/1' }, { type: 'Degraded', status: 'False', reason: 'NoErrors', message: '' }],
      before,
      '2026-11-26T07:00:00Z',
      2,
    );
    assert.deepEqual(after.map((c) => [c.type, c.lastTransitionTime, c.observedGeneration]), [
      ['Ready', '2026-11-26T07:00:00Z', 2],
      ['Degraded', '2026-11-26T06:00:00Z', 2],
    ]);
  });
});

describe('computeProfileStatus', () => {
  const pods = [pod('web-1', { node: 'node-a' }), pod('web-2', { node: 'node-a' }), pod('web-3', { node: 'node-b' })];
  const reports = new Map<string, NodeReport>([
    ['node-a', { heartbeat: fresh, entry: execReport('uid-t', 30, [['/bin/sh', 20], ['/bin/ls', 10]], [['web-1', 25], ['web-2', 5]]) }],
    ['node-b', { heartbeat: fresh, entry: execReport('uid-t', 12, [['/bin/ls', 12], ['/bin/cat', 1]], [['web-3', 12]]) }],
  ]);
  const input = (overrides: Partial<ProfileStatusInput> = {}): ProfileStatusInput => {
    const p = overrides.profile ?? profile('t', { output: { status: { topN: 2 } }, duration: '1h' });
    return {
      profile: p,
      targets: profileTargets(p, pods),
      nodes: ['node-a', 'node-b'],
      reports,
      containersOf: () => ['app'],
      nowMs: now,
      ...overrides,
    };
  };

  it('merges node results: sums counts, re-ranks and cuts top lists, ranks pods busiest first', () => {
    const { status } = computeProfileStatus(input());
    assert.equal(status.results?.exec?.execs, 42);
    assert.deepEqual(status.results?.exec?.topCommands, [{ key: '/bin/ls', count: 22 }, { key: '/bin/sh', count: 20 }]);
    assert.deepEqual(status.pods?.map((p) => [p.name, p.node, p.results.exec?.execs]), [['web-1', 'node-a', 25], ['web-3', 'node-b', 12], ['web-2', 'node-a', 5]]);
    assert.deepEqual(status.targets, { pods: 3, containers: 3, nodes: 2 });
    assert.deepEqual(status.nodes, { ready: 2, total: 2 });
    assert.equal(status.nodesReady, '2/2');
    assert.equal(status.probes, 'exec');
    assert.equal(status.headline, '42 execs');
    assert.equal(status.phase, 'Running');
    assert.equal(status.startedAt, '2026-11-26T07:00:00Z');
    assert.equal(status.expiresAt, '2026-11-26T08:00:00Z');
  });

  it('asks to look again when a node would go silent or the session ends', () => {
    assert.equal(computeProfileStatus(input()).recheckAtMs, Date.parse(fresh) + 30_000);
    const started = profile('t', { duration: '1m' }, { status: { startedAt: '2026-11-26T06:59:30Z' } });
    assert.equal(computeProfileStatus(input({ profile: started, reports: new Map() })).recheckAtMs, Date.parse('2026-11-26T07:00:30Z'));
  });

  it('is the same status when nothing changed but time (no write at steady state)', () => {
    const first = computeProfileStatus(input()).status;
    const stored = profile('t', { output: { status: { topN: 2 } }, duration: '1h' }, { status: first });
    const again = computeProfileStatus(input({ profile: stored, nowMs: now + 5_000 })).status;
    assert.ok(sameJson(first, again), 'no timestamp moved');
  });

  it('completes at expiry and keeps its results once nodes stop reporting', () => {
    const running = profile('t', { duration: '10m' }, { status: { startedAt: '2026-11-26T06:00:00Z' } });
    const completed = computeProfileStatus(input({ profile: running })).status;
    assert.equal(completed.phase, 'Completed');
    assert.equal(completed.results?.exec?.execs, 42);
    const later = profile('t', { duration: '10m' }, { status: completed });
    const kept = computeProfileStatus(input({ profile: later, reports: new Map(), nodes: [] })).status;
    assert.equal(kept.phase, 'Completed');
    assert.equal(kept.results?.exec?.execs, 42);
    assert.equal(kept.pods?.length, 3);
  });

  it('keeps a timeline: what the nodes reported since the last status goes into the column of now', () => {
    const started = profile('t', { duration: '1h', interval: '10s' }, { status: { startedAt: '2026-11-26T06:59:30Z' } });
    const { status } = computeProfileStatus(input({ profile: started }));
    assert.equal(status.timeline?.columnSeconds, 10);
    assert.equal(status.timeline?.columns, 4, 'now is 30 s into the session: the fourth 10 s column');
    assert.deepEqual(status.timeline?.counts.find((c) => c.member === 'execs')?.columns, [0, 0, 0, 42]);
  });

  it('puts what nodes report after expiry into the session\'s last column, never a column after it', () => {
    const expiring = profile('t', { duration: '1m', interval: '10s' }, { status: { startedAt: '2026-11-26T06:58:30Z' } });
    const { status } = computeProfileStatus(input({ profile: expiring }));
    assert.equal(status.phase, 'Completed');
    assert.equal(status.timeline?.columns, 6, 'a 1-minute session in 10 s columns, though it is now 90 s after the start');
    assert.deepEqual(status.timeline?.counts.find((c) => c.member === 'execs')?.columns, [0, 0, 0, 0, 0, 42]);
  });

  it('adds no column while suspended', () => {
    const first = computeProfileStatus(input({ profile: profile('t', { interval: '10s' }, { status: { startedAt: '2026-11-26T06:59:50Z' } }) })).status;
    const suspended = profile('t', { interval: '10s', suspend: true }, { status: first });
    const later = computeProfileStatus(input({ profile: suspended, nowMs: now + 60_000 })).status;
    assert.ok(first.timeline !== undefined);
    assert.deepEqual(later.timeline, first.timeline);
  });

  it('writes a status the CRD accepts for a profile with every probe', () => {
    const every = profile('t', { probes: PROBE_NAMES.map((name) => ({ name })) });
    const { status } = computeProfileStatus(input({ profile: every }));
    assert.equal(status.probes, PROBE_NAMES.join(','));
    assert.deepEqual(TraceProfileStatusSchema.safeParse(status).error?.issues, undefined);
  });

  it('stays within the byte budget, counting what it left out', () => {
    const many = new Map<string, NodeReport>();
    for (let n = 0; n < 40; n++) {
      const podsOnNode = Array.from({ length: 20 }, (_, i) => [`pod-${n}-${i}-${'x'.repeat(200)}`, i] as [string, number]);
      many.set(`node-${n}`, { heartbeat: fresh, entry: execReport('uid-t', 1, [], podsOnNode) });
    }
    const { status } = computeProfileStatus(input({ reports: many }));
    assert.ok(Buffer.byteLength(JSON.stringify(status)) <= STATUS_BUDGET_BYTES);
    assert.equal(status.pods?.length, 20);
    assert.equal(status.truncated?.pods, 40 * 20 - 20);
  });
});

describe('headline', () => {
  it('formats counts and latencies compactly', () => {
    assert.deepEqual([compactCount(999), compactCount(1234), compactCount(48_200), compactCount(3_400_000)], ['999', '1.2k', '48k', '3.4M']);
    assert.deepEqual([compactNanoseconds(850), compactNanoseconds(12_300), compactNanoseconds(3_100_000)], ['850ns', '12µs', '3.1ms']);
  });

  it('summarises every probe that reported, within 128 characters', () => {
    const line = headline({
      exec: { execs: 1200, exits: 1200, topCommands: [] },
      files: { opens: 310, errors: 12, topPaths: [] },
      syscalls: { calls: 48_000, errors: 0, topSyscalls: [], latencyNs: { count: 1, p99: 3_100_000, histogram: { zeroCount: 0, buckets: [] } } },
    });
    assert.equal(line, '1.2k execs, 48k syscalls p99 3.1ms, 310 opens (12 failed)');
    assert.equal(headline(undefined), undefined);
  });

  it('covers every probe and stops at a whole phrase when the line is full', () => {
    const latency = { count: 9, p99: 2_000_000, histogram: { zeroCount: 0, buckets: [] } };
    const line = headline({
      exec: { execs: 1, exits: 1, topCommands: [] },
      syscalls: { calls: 123_456_789, errors: 12_345, topSyscalls: [], latencyNs: latency },
      files: { opens: 99_999, errors: 9_999, topPaths: [] },
      tcp: { connects: 5, accepts: 6, connectFailures: 1, connectLatencyNs: latency, closed: 0, bytesSent: 0, bytesReceived: 0, retransmits: 0, durationNs: latency, topPeers: [] },
      runqlat: { latencyNs: latency, topCommands: [] },
      oomkill: { kills: 2, topCommands: [] },
      biolatency: { ios: 40, errors: 0, bytesRead: 0, bytesWritten: 0, latencyNs: latency, topDevices: [] },
      netbytes: { bytesSent: 1_000_000, bytesReceived: 2_400_000, packetsSent: 10, packetsReceived: 10, topProtocols: [] },
    });
    assert.equal(line, '1 execs, 123M syscalls p99 2ms (12k failed), 100k opens (10k failed), 11 conns (1 failed), runq p99 2ms, 2 OOM kills');
    assert.ok((line ?? '').length <= 128);
  });
});
