import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProfileSummary } from '../../agent/profile-summary.js';
import { baselinesFromPlan, withBaseline } from '../../agent/result-baseline.js';
import { histogramFromCounts, summarizeLatency } from '../../api/histogram.js';
import type { NodeProfilePlan, NodeProfileStatus, NodeTracePlan } from '../../api/nodetraceplan.js';
import type { ProbeResults } from '../../api/results.js';
import type { ExecResult } from '../../probes/exec/exec.js';
import type { SyscallsResult } from '../../probes/syscalls/syscalls.js';

const exec = (execs: number, commands: [string, number][] = []): ExecResult => ({
  execs,
  exits: execs,
  topCommands: commands.map(([key, count]) => ({ key, count })),
});
const syscalls = (calls: number, buckets: number[]): SyscallsResult => ({
  calls,
  errors: 0,
  latencyNs: summarizeLatency(histogramFromCounts(0, buckets)),
  topSyscalls: [{ key: 'read', count: calls }],
});
const pod = (name: string, results: ProbeResults) => ({ podUid: `uid-${name}`, namespace: 'shop', pod: name, results });

function planEntry(uid: string, generation: number): NodeProfilePlan {
  return { uid, namespace: 'shop', name: uid, generation, probes: [{ name: 'exec' }], interval: '1s', topN: 2, active: true, targets: [] };
}

function reported(uid: string, observedGeneration: number | undefined, results?: ProbeResults): NodeProfileStatus {
  return {
    uid,
    state: 'Running',
    probesLoaded: ['exec'],
    targets: { resolved: 1 },
    ...(observedGeneration === undefined ? {} : { observedGeneration }),
    ...(results === undefined ? {} : { results, pods: [pod('web-1', results)] }),
  };
}

function plan(entries: NodeProfilePlan[], statuses: NodeProfileStatus[]): NodeTracePlan {
  return {
    apiVersion: 'loupe.dev/v1alpha1',
    kind: 'NodeTracePlan',
    metadata: { name: 'node-a' },
    spec: { nodeName: 'node-a', profiles: entries },
    status: { profiles: statuses },
  };
}

describe('baselinesFromPlan', () => {
  it('keeps the results reported under the generation the spec still carries, for profiles it still carries', () => {
    const baselines = baselinesFromPlan(
      plan(
        [planEntry('same', 3), planEntry('edited', 4), planEntry('unreported', 1), planEntry('no-results', 1)],
        [
          reported('same', 3, { exec: exec(7) }),
          reported('edited', 3, { exec: exec(5) }),
          reported('no-results', 1),
          reported('dropped', 1, { exec: exec(9) }),
        ],
      ),
    );
    assert.deepEqual([...baselines.keys()], ['same']);
    assert.deepEqual(baselines.get('same'), { results: { exec: exec(7) }, pods: [pod('web-1', { exec: exec(7) })] });
  });

  it('is empty for a plan without status', () => {
    const fresh = plan([planEntry('a', 1)], []);
    delete fresh.status;
    assert.equal(baselinesFromPlan(fresh).size, 0);
  });
});

describe('withBaseline', () => {
  const baseline: ProfileSummary = {
    results: { exec: exec(12, [['/bin/true', 10], ['/bin/sh', 2]]), syscalls: syscalls(4, [0, 4]) },
    pods: [pod('old', { exec: exec(5, [['/bin/true', 5]]) }), pod('web-1', { exec: exec(7, [['/bin/true', 5], ['/bin/sh', 2]]) })],
  };

  it('continues the counters exactly, merges histograms and re-ranks top lists cut to topN', () => {
    const live: ProfileSummary = {
      results: { exec: exec(3, [['/bin/ls', 3]]), syscalls: syscalls(2, [0, 0, 2]) },
      pods: [pod('web-1', { exec: exec(3, [['/bin/ls', 3]]) })],
    };
    const merged = withBaseline(live, baseline, ['exec', 'syscalls'], 2);
    assert.deepEqual(merged.results.exec, exec(15, [['/bin/true', 10], ['/bin/ls', 3]]));
    assert.equal(merged.results.syscalls?.calls, 6);
    assert.deepEqual(merged.results.syscalls?.latencyNs.histogram, histogramFromCounts(0, [0, 4, 2]));
    assert.equal(merged.results.syscalls?.latencyNs.count, 6);
    assert.deepEqual(
      merged.pods.map((p) => [p.pod, p.results.exec]),
      [
        ['web-1', exec(10, [['/bin/true', 5], ['/bin/ls', 3]])],
        ['old', exec(5, [['/bin/true', 5]])],
      ],
      'pods matched by uid, a gone pod kept, busiest first',
    );
  });

  it('shows a probe the baseline has even before the new process counts for it', () => {
    const merged = withBaseline({ results: {}, pods: [] }, baseline, ['exec', 'syscalls'], 5);
    assert.deepEqual(merged.results, baseline.results);
    assert.deepEqual(merged.pods.map((p) => [p.pod, p.results.exec?.execs]), [['web-1', 7], ['old', 5]]);
  });

  it('leaves out probes the profile no longer asks for', () => {
    const merged = withBaseline({ results: { exec: exec(1) }, pods: [] }, baseline, ['exec'], 5);
    assert.deepEqual(Object.keys(merged.results), ['exec']);
    assert.equal(merged.results.exec?.execs, 13);
  });

  it('is the live summary when there is no baseline', () => {
    const live: ProfileSummary = { results: { exec: exec(1) }, pods: [] };
    assert.equal(withBaseline(live, undefined, ['exec'], 5), live);
  });
});
