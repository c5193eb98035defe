// Which node reports the operator may hold back for a profile's turn in the
// write budget: those that only move its results, from a node still in time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeProfileStatus, NodeTracePlanSpec } from '../../api/nodetraceplan.js';
import { onlyResultsMoved } from '../../operator/node-readiness.js';

const spec: NodeTracePlanSpec = {
  nodeName: 'node-a',
  reportIntervalSeconds: 120,
  profiles: [{ uid: 'p', namespace: 'shop', name: 'p', generation: 1, probes: [{ name: 'exec' }], interval: '10s', topN: 10, active: true, targets: [] }],
};
const entry = (execs: number, extra: Partial<NodeProfileStatus> = {}): NodeProfileStatus => ({
  uid: 'p',
  state: 'Running',
  probesLoaded: ['exec'],
  targets: { resolved: 1 },
  results: { exec: { execs, exits: execs, topCommands: [] } },
  ...extra,
});
const at = Date.parse('2026-12-07T10:00:00Z');
const report = (heartbeatMs: number, profile: NodeProfileStatus) => ({ spec, status: { heartbeat: new Date(heartbeatMs).toISOString(), profiles: [profile] } });

describe('onlyResultsMoved', () => {
  it('holds back a report whose only news is more results', () => {
    assert.equal(onlyResultsMoved(report(at, entry(1)), report(at + 120_000, entry(9)), 'p', at + 120_000), true);
  });

  it('lets through a state change, a first report, and another profile', () => {
    assert.equal(onlyResultsMoved(report(at, entry(1)), report(at + 1, entry(1, { state: 'Failed' })), 'p', at + 1), false);
    assert.equal(onlyResultsMoved(undefined, report(at, entry(1)), 'p', at), false);
    assert.equal(onlyResultsMoved(report(at, entry(1)), report(at + 1, entry(2)), 'q', at + 1), false);
  });

  it('lets through a report that revives a node silent for 3 × the plan\'s report interval', () => {
    assert.equal(onlyResultsMoved(report(at, entry(1)), report(at + 359_000, entry(2)), 'p', at + 359_000), true);
    assert.equal(onlyResultsMoved(report(at, entry(1)), report(at + 360_000, entry(2)), 'p', at + 360_000), false);
  });
});
