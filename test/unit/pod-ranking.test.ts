// Which pods a profile shows, end to end through the real functions: the
// agent's summary and its cut to the node budget (20 pods, then bytes), then
// the operator's merge and ranking into TraceProfile status. Every probe's
// counts make a pod busy, so the busiest pod is first and never the one cut.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildNodeStatus, buildProfileStatus } from '../../agent/node-status.js';
import type { ProfileResults } from '../../engine/probe-manager.js';
import { summarizeProfile, type PodRef } from '../../agent/profile-summary.js';
import { withBaseline } from '../../agent/result-baseline.js';
import { histogramFromCounts, summarizeLatency } from '../../api/histogram.js';
import type { NodeProfilePlan, NodeProfileStatus } from '../../api/nodetraceplan.js';
import type { BiolatencyResult } from '../../probes/biolatency/biolatency.js';
import type { ExecResult } from '../../probes/exec/exec.js';
import type { ProbeName } from '../../probes/registry.js';
import type { ProfileResult } from '../../probes/profile/profile.js';
import { MAX_STATUS_PODS } from '../../api/traceprofile.js';
import { profileTargets } from '../../operator/pod-targets.js';
import { computeProfileStatus } from '../../operator/profile-status.js';
import { pod, profile } from './operator-fixtures.js';

const now = Date.parse('2026-11-26T07:00:00Z');
const HOT = 'web-hot'; // sorts after web-00…web-23, so a tie-break by name puts it last

const biolatency = (ios: number): BiolatencyResult => ({
  ios,
  errors: 0,
  bytesRead: ios * 4096,
  bytesWritten: 0,
  latencyNs: summarizeLatency(histogramFromCounts(0, [ios])),
  topDevices: [{ key: 'vda', count: ios }],
});
const samples = (n: number): ProfileResult => ({ samples: n, topFrames: [{ key: 'spin (app)', count: n }], topStacks: [] });
const exec = (n: number): ExecResult => ({ execs: n, exits: n, topCommands: n === 0 ? [] : [{ key: '/bin/true', count: n }] });

/** 25 pods on one node, one cgroup each: the hot one last by name. */
const names = [...Array.from({ length: 24 }, (_, i) => `web-${String(i).padStart(2, '0')}`), HOT];
const podRefs = new Map<bigint, PodRef>(names.map((name, i) => [BigInt(i + 1), { podUid: `uid-${name}`, namespace: 'shop', pod: name }]));
const cgroupOf = (name: string): bigint => BigInt(names.indexOf(name) + 1);

function perPod<R>(value: (name: string) => R): Map<bigint, R> {
  return new Map(names.map((name) => [cgroupOf(name), value(name)]));
}

/** What the agent writes for the profile on its node: summary, then the node status cut. */
function nodeEntry(probes: ProbeName[], results: ProfileResults): NodeProfileStatus {
  const summary = summarizeProfile({ probes, active: probes, results, pods: podRefs, topN: 5 });
  const plan: NodeProfilePlan = {
    uid: 'uid-t',
    namespace: 'shop',
    name: 't',
    generation: 1,
    probes: probes.map((name) => ({ name })),
    interval: '10s',
    topN: 5,
    active: true,
    targets: [],
  };
  const entry = buildProfileStatus({
    plan,
    state: { profileId: 'uid-t', slot: 0, active: probes, failed: [] },
    targets: { resolved: [], unresolved: [] },
    summary,
    errors: [],
    shuttingDown: false,
  });
  const status = buildNodeStatus({ heartbeat: new Date(now), agentVersion: '0.1.0', profiles: [entry] });
  const written = status.profiles?.[0];
  assert.ok(written !== undefined);
  return written;
}

/** The operator's TraceProfile status for that one node's report. */
function profileStatus(probes: ProbeName[], entry: NodeProfileStatus) {
  const p = profile('t', { probes: probes.map((name) => ({ name })), output: { status: { topN: 5 } } });
  return computeProfileStatus({
    profile: p,
    targets: profileTargets(p, names.map((name) => pod(name))),
    nodes: ['node-a'],
    reports: new Map([['node-a', { heartbeat: '2026-11-26T06:59:55Z', entry }]]),
    containersOf: () => ['app'],
    nowMs: now,
  }).status;
}

describe('the busiest pod, from the node’s cut to TraceProfile status', () => {
  it('biolatency and profile: the pod with 1M I/Os and 50k samples is first on the node and in the profile', () => {
    const probes: ProbeName[] = ['biolatency', 'profile'];
    const hot = (name: string) => name === HOT;
    const entry = nodeEntry(probes, {
      biolatency: perPod((name) => biolatency(hot(name) ? 1_000_000 : 1)),
      profile: perPod((name) => samples(hot(name) ? 50_000 : 2)),
    });
    assert.equal(entry.pods?.length, MAX_STATUS_PODS);
    assert.equal(entry.pods?.[0]?.pod, HOT, 'the node ranks it first, so its cut keeps it');
    const status = profileStatus(probes, entry);
    assert.equal(status.results?.biolatency?.ios, 1_000_000 + 24, 'the total was always right');
    assert.equal(status.pods?.[0]?.name, HOT);
    assert.equal(status.pods?.[0]?.results.biolatency?.ios, 1_000_000);
  });

  it('exec and profile: the CPU-hot pod that never execs is kept, and first', () => {
    const probes: ProbeName[] = ['exec', 'profile'];
    const entry = nodeEntry(probes, {
      exec: perPod((name) => exec(name === HOT ? 0 : 1)),
      profile: perPod((name) => samples(name === HOT ? 50_000 : 2)),
    });
    assert.equal(entry.pods?.[0]?.pod, HOT);
    assert.equal(profileStatus(probes, entry).pods?.[0]?.name, HOT);
  });

  it('stays first when an agent restart merges the old status in as a baseline', () => {
    const probes: ProbeName[] = ['biolatency'];
    const quiet = { podUid: 'uid-web-00', namespace: 'shop', pod: 'web-00', results: { biolatency: biolatency(1) } };
    const busy = { podUid: `uid-${HOT}`, namespace: 'shop', pod: HOT, results: { biolatency: biolatency(1_000) } };
    const merged = withBaseline({ results: {}, pods: [] }, { results: {}, pods: [quiet, busy] }, probes, 5);
    assert.deepEqual(merged.pods.map((p) => p.pod), [HOT, 'web-00']);
  });
});
