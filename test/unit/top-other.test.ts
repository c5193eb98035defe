// The (other) entry of a top list is the remainder a folded list could not
// keep, not a key: it is ranked last whatever its count, with its count kept,
// in the node's lists and after the operator's merge across nodes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProfileResults } from '../../engine/probe-manager.js';
import { summarizeProfile, type PodRef } from '../../agent/profile-summary.js';
import { boundTop, foldTop, mergeTop, OTHER_TOP_KEY } from '../../api/top-list.js';
import type { ExecResult } from '../../probes/exec/exec.js';
import type { TopEntry } from '../../api/top-list.js';
import { mergeNodeResults } from '../../operator/profile-results.js';

const top = (entries: [string, number][]): TopEntry[] => entries.map(([key, count]) => ({ key, count }));
const keys = (list: readonly TopEntry[] | undefined) => list?.map((e) => [e.key, e.count]);

describe('(other) in top lists', () => {
  it('ranks last when merged, its counts summed', () => {
    const merged = mergeTop(top([['/bin/sh', 5], [OTHER_TOP_KEY, 40]]), top([[OTHER_TOP_KEY, 30], ['/bin/ls', 7]]));
    assert.deepEqual(keys(merged), [['/bin/ls', 7], ['/bin/sh', 5], [OTHER_TOP_KEY, 70]]);
  });

  it('stays last when a list is cut, and is the first entry a cut drops', () => {
    const list = top([[OTHER_TOP_KEY, 100], ['a', 3], ['b', 2]]);
    assert.deepEqual(keys(boundTop(list, 3)), [['a', 3], ['b', 2], [OTHER_TOP_KEY, 100]]);
    assert.deepEqual(keys(boundTop(list, 2)), [['a', 3], ['b', 2]]);
  });

  it('folding twice keeps it last', () => {
    const folded = foldTop(top([['a', 1], ['b', 2], ['c', 3], ['d', 4]]), 2);
    assert.deepEqual(keys(foldTop([...folded, { key: 'e', count: 1 }], 3)), [['d', 4], ['e', 1], [OTHER_TOP_KEY, 6]]);
  });

  it('is last in the node’s summary and after the operator’s merge across nodes', () => {
    // Two cgroups of one pod whose folded lists each left a big remainder.
    const pod: PodRef = { podUid: 'uid-web', namespace: 'shop', pod: 'web' };
    const folded = (execs: number, entries: [string, number][]): ExecResult => ({ execs, exits: 0, topCommands: top(entries) });
    const results: ProfileResults = {
      exec: new Map([
        [1n, folded(505, [['/bin/true', 5], [OTHER_TOP_KEY, 500]])],
        [2n, folded(303, [['/bin/sh', 3], [OTHER_TOP_KEY, 300]])],
      ]),
    };
    const summary = summarizeProfile({ probes: ['exec'], active: ['exec'], results, pods: new Map([[1n, pod], [2n, pod]]), topN: 5 });
    assert.deepEqual(keys(summary.results.exec?.topCommands), [['/bin/true', 5], ['/bin/sh', 3], [OTHER_TOP_KEY, 800]]);
    assert.deepEqual(keys(summary.pods[0]?.results.exec?.topCommands), [['/bin/true', 5], ['/bin/sh', 3], [OTHER_TOP_KEY, 800]]);

    const entry = (results: typeof summary.results) => ({
      uid: 'uid-t',
      state: 'Running' as const,
      probesLoaded: ['exec' as const],
      targets: { resolved: 1 },
      results,
    });
    const merged = mergeNodeResults(
      [
        { node: 'node-a', entry: entry(summary.results) },
        { node: 'node-b', entry: entry({ exec: folded(902, [['/bin/ls', 2], [OTHER_TOP_KEY, 900]]) }) },
      ],
      5,
      () => ['app'],
    );
    assert.deepEqual(keys(merged.results?.exec?.topCommands), [['/bin/true', 5], ['/bin/sh', 3], ['/bin/ls', 2], [OTHER_TOP_KEY, 1700]]);
  });
});
