import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildNodeStatus, buildProfileStatus, probeFailureMessage, sameReport, SHUTDOWN_MESSAGE, type ProfileStatusInput } from '../../agent/node-status.js';
import type { ProfileResults } from '../../engine/probe-manager.js';
import { summarizeProfile, type PodRef } from '../../agent/profile-summary.js';
import { histogramFromCounts, summarizeLatency } from '../../api/histogram.js';
import { NodeTracePlanStatusSchema, type NodeProfilePlan } from '../../api/nodetraceplan.js';
import type { ExecResult } from '../../probes/exec/exec.js';
import type { SyscallsResult } from '../../probes/syscalls/syscalls.js';
import { NODE_STATUS_BUDGET_BYTES } from '../../api/status-budget.js';

const exec = (execs: number, commands: [string, number][]): ExecResult => ({
  execs,
  exits: execs,
  topCommands: commands.map(([key, count]) => ({ key, count })),
});
const syscalls = (calls: number, bucketCounts: number[]): SyscallsResult => ({
  calls,
  errors: 0,
  latencyNs: summarizeLatency(histogramFromCounts(0, bucketCounts)),
  topSyscalls: [{ key: 'read', count: calls }],
});

const podA: PodRef = { podUid: 'uid-a', namespace: 'shop', pod: 'web-a' };
const podB: PodRef = { podUid: 'uid-b', namespace: 'shop', pod: 'web-b' };
// Pod A had a container restart: two cgroups (10 and 11); pod B has one (20).
const pods = new Map<bigint, PodRef>([
  [10n, podA],
  [11n, podA],
  [20n, podB],
]);
const results: ProfileResults = {
  exec: new Map([
    [10n, exec(2, [['/bin/true', 2]])],
    [11n, exec(3, [['/bin/sh', 1], ['/bin/true', 2]])],
    [20n, exec(4, [['/bin/ls', 4]])],
  ]),
  syscalls: new Map([
    [10n, syscalls(4, [0, 4])],
    [20n, syscalls(2, [0, 0, 0, 2])],
  ]),
};

function plan(overrides: Partial<NodeProfilePlan> = {}): NodeProfilePlan {
  return {
    uid: 'p-1',
    namespace: 'shop',
    name: 'web',
    generation: 3,
    probes: [{ name: 'exec' }, { name: 'syscalls' }, { name: 'tcp' }],
    interval: '10s',
    topN: 2,
    active: true,
    targets: [],
    ...overrides,
  };
}

const target = { podUid: 'uid-a', namespace: 'shop', pod: 'web-a', container: 'app', containerId: 'containerd://aa' };

function input(overrides: Partial<ProfileStatusInput> = {}): ProfileStatusInput {
  return {
    plan: plan(),
    state: { profileId: 'p-1', slot: 0, active: ['syscalls', 'exec'], failed: [] },
    targets: { resolved: [{ target, cgroupId: 11n }], unresolved: [] },
    errors: [],
    shuttingDown: false,
    ...overrides,
  };
}

describe('summarizeProfile', () => {
  const summary = summarizeProfile({ probes: ['exec', 'syscalls', 'tcp'], active: ['exec', 'syscalls', 'tcp'], results, pods, topN: 2 });

  it('merges over every cgroup the profile counted in, top lists cut to topN', () => {
    assert.deepEqual(summary.results.exec, exec(9, [['/bin/ls', 4], ['/bin/true', 4]])); // ties by key; /bin/sh is cut
    assert.equal(summary.results.syscalls?.calls, 6);
    assert.deepEqual(summary.results.syscalls?.latencyNs.histogram, histogramFromCounts(0, [0, 4, 0, 2]), 'histograms add bucket by bucket');
  });

  it('shows an active probe with nothing counted yet as zeros', () => {
    assert.equal(summary.results.tcp?.connects, 0);
  });

  it('breaks results down per pod, a restarted container’s cgroups together, busiest first', () => {
    assert.deepEqual(
      summary.pods.map((p) => [p.pod, p.results.exec?.execs, p.results.syscalls?.calls]),
      [
        ['web-a', 5, 4],
        ['web-b', 4, 2],
      ],
    );
  });

  it('leaves out probes that are neither active nor counted', () => {
    const stopped = summarizeProfile({ probes: ['exec', 'tcp'], active: [], results, pods, topN: 2 });
    assert.deepEqual(Object.keys(stopped.results), ['exec']);
  });
});

describe('buildProfileStatus', () => {
  it('reports a tracing profile as Running with its probes, targets and generation', () => {
    const status = buildProfileStatus(input({ targets: { resolved: [{ target, cgroupId: 11n }], unresolved: [{ target: { ...target, containerId: 'containerd://gone' }, reason: 'went away' }] } }));
    assert.deepEqual(status, {
      uid: 'p-1',
      state: 'Running',
      probesLoaded: ['exec', 'syscalls'],
      targets: { resolved: 1, unresolved: [{ containerId: 'containerd://gone', pod: 'shop/web-a', container: 'app', reason: 'went away' }] },
      observedGeneration: 3,
    });
  });

  it('names, per container it cannot find, the pod, the container and the directories it looked in', () => {
    const lookedIn = ['/host/sys/fs/cgroup/kubepods/burstable/poduid-b/cc'];
    const missing = { ...target, pod: 'web-b', container: 'sidecar', containerId: 'containerd://cc' };
    const status = buildProfileStatus(input({ targets: { resolved: [], unresolved: [{ target: missing, reason: 'no container cc of pod uid-b', lookedIn }] } }));
    assert.equal(status.state, 'Pending', 'never Running with nothing to trace');
    assert.deepEqual(status.targets.unresolved, [
      { containerId: 'containerd://cc', pod: 'shop/web-b', container: 'sidecar', reason: 'no container cc of pod uid-b', lookedIn },
    ]);
  });

  it('is Pending while none of its containers is found, Failed when no probe loads, Stopped when inactive or shutting down', () => {
    assert.equal(buildProfileStatus(input({ targets: { resolved: [], unresolved: [] } })).state, 'Pending');
    const failed = buildProfileStatus(input({ state: { profileId: 'p-1', slot: 0, active: [], failed: [{ probe: 'exec', message: 'load failed' }] } }));
    assert.equal(failed.state, 'Failed');
    assert.deepEqual(failed.errors, [{ probe: 'exec', message: 'load failed' }]);
    assert.equal(buildProfileStatus(input({ state: undefined, refusal: 'too many profiles' })).state, 'Failed');
    const inactive = buildProfileStatus(input({ plan: plan({ active: false }) }));
    assert.deepEqual([inactive.state, inactive.probesLoaded], ['Stopped', []]);
    const shutdown = buildProfileStatus(input({ shuttingDown: true }));
    assert.deepEqual([shutdown.state, shutdown.probesLoaded, shutdown.errors], ['Stopped', [], [{ message: SHUTDOWN_MESSAGE }]]);
  });

  it('keeps the end of a verifier log, where the reason is, within the schema’s 512 characters', () => {
    const message = probeFailureMessage({ probe: 'tcp', message: 'load tcp.bpf.o: Permission denied', verifierLog: `${'x'.repeat(5000)}\nR1 invalid mem access 'scalar'\nprocessed 12 insns` });
    assert.ok(message.length <= 512, String(message.length));
    assert.match(message, /^load tcp\.bpf\.o: Permission denied; verifier: …x+ \| R1 invalid mem access 'scalar' \| processed 12 insns$/);
  });

  it('bounds errors to the schema’s 8, saying how many more there were', () => {
    const errors = Array.from({ length: 12 }, (_, i) => ({ message: `otlp ${i}` }));
    const status = buildProfileStatus(input({ errors }));
    assert.equal(status.errors?.length, 8);
    assert.equal(status.errors?.at(-1)?.message, "and 5 more errors (see the agent's log)");
  });
});

describe('buildNodeStatus', () => {
  it('writes a status the schema accepts', () => {
    const summary = summarizeProfile({ probes: ['exec', 'syscalls'], active: ['exec', 'syscalls'], results, pods, topN: 2 });
    const status = buildNodeStatus({ heartbeat: new Date('2026-11-26T07:00:00Z'), agentVersion: '0.1.0', profiles: [buildProfileStatus(input({ summary }))] });
    const parsed = NodeTracePlanStatusSchema.safeParse(status);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    assert.equal(status.heartbeat, '2026-11-26T07:00:00.000Z');
  });

  it('fits many busy profiles into the node budget, recording what it dropped', () => {
    const manyPods = new Map<bigint, PodRef>();
    const execs = new Map<bigint, ExecResult>();
    for (let i = 0; i < 200; i++) {
      manyPods.set(BigInt(i), { podUid: `uid-${i}`, namespace: 'shop', pod: `pod-${'x'.repeat(200)}-${i}` });
      execs.set(BigInt(i), exec(i + 1, Array.from({ length: 50 }, (_, k) => [`/usr/bin/${'c'.repeat(200)}-${k}`, k + 1] as [string, number])));
    }
    const summary = summarizeProfile({ probes: ['exec'], active: ['exec'], results: { exec: execs }, pods: manyPods, topN: 50 });
    const profiles = Array.from({ length: 64 }, (_, i) => buildProfileStatus(input({ plan: plan({ uid: `p-${i}`, topN: 50 }), summary })));
    const status = buildNodeStatus({ heartbeat: new Date(), agentVersion: '0.1.0', profiles });
    assert.ok(Buffer.byteLength(JSON.stringify(status)) <= NODE_STATUS_BUDGET_BYTES);
    assert.ok(status.profiles?.every((p) => p.results?.exec?.execs === 20_100), 'counters are never trimmed');
    assert.ok((status.profiles?.[0]?.truncated?.pods ?? 0) > 0);
    assert.ok(NodeTracePlanStatusSchema.safeParse(status).success);
  });
});

describe('sameReport', () => {
  it('ignores the heartbeat and sees any other change', () => {
    const profiles = [buildProfileStatus(input())];
    const first = buildNodeStatus({ heartbeat: new Date(1000), agentVersion: '0.1.0', profiles });
    assert.ok(sameReport(first, buildNodeStatus({ heartbeat: new Date(2000), agentVersion: '0.1.0', profiles })));
    const changed = buildNodeStatus({ heartbeat: new Date(1000), agentVersion: '0.1.0', profiles: [buildProfileStatus(input({ shuttingDown: true }))] });
    assert.ok(!sameReport(first, changed));
    assert.ok(!sameReport(undefined, first));
  });
});
