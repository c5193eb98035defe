import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_NODE_PROFILES } from '../../api/nodetraceplan.js';
import { desiredNodePlan, planNeedsWrite, profilesWithResults } from '../../operator/node-plan.js';
import { execReport, pod, profile } from './operator-fixtures.js';

const now = Date.parse('2026-11-26T07:00:00Z');

describe('desiredNodePlan', () => {
  it('has one entry per profile with targets on the node, sorted by uid, with the profile settings', () => {
    const plan = desiredNodePlan({
      nodeName: 'node-a',
      profiles: [
        profile('z-exec', { probes: [{ name: 'exec' }] }, { uid: 'uid-z' }),
        profile('a-tcp', { probes: [{ name: 'tcp' }], interval: '30s', output: { status: { topN: 5 } } }, { uid: 'uid-a' }),
      ],
      podsOnNode: [pod('web-1'), pod('web-2'), pod('db-1', { labels: { app: 'db' } })],
      nowMs: now,
    });
    assert.ok(plan);
    assert.equal(plan.nodeName, 'node-a');
    assert.deepEqual(plan.profiles.map((p) => p.uid), ['uid-a', 'uid-z']);
    const [tcp, exec] = plan.profiles;
    assert.deepEqual(
      { probes: tcp?.probes, interval: tcp?.interval, topN: tcp?.topN, active: tcp?.active, name: tcp?.name, namespace: tcp?.namespace },
      { probes: [{ name: 'tcp' }], interval: '30s', topN: 5, active: true, name: 'a-tcp', namespace: 'shop' },
    );
    assert.deepEqual(exec?.targets.map((t) => t.pod), ['web-1', 'web-2']);
    assert.equal(exec?.interval, '10s', 'the default interval is filled in');
  });

  it('is undefined when no profile targets the node', () => {
    assert.equal(desiredNodePlan({ nodeName: 'node-a', profiles: [profile('t')], podsOnNode: [pod('db', { labels: { app: 'db' } })], nowMs: now }), undefined);
    assert.equal(desiredNodePlan({ nodeName: 'node-a', profiles: [], podsOnNode: [pod('web-1')], nowMs: now }), undefined);
  });

  it('leaves out profiles being deleted', () => {
    const deleting = profile('t', {}, { deletionTimestamp: '2026-11-26T06:59:00Z' });
    assert.equal(desiredNodePlan({ nodeName: 'node-a', profiles: [deleting], podsOnNode: [pod('web-1')], nowMs: now }), undefined);
  });

  it('follows pod churn: a restarted container brings its new id', () => {
    const before = desiredNodePlan({ nodeName: 'node-a', profiles: [profile('t')], podsOnNode: [pod('web-1', { containers: [['app', 'containerd://old']] })], nowMs: now });
    const after = desiredNodePlan({ nodeName: 'node-a', profiles: [profile('t')], podsOnNode: [pod('web-1', { containers: [['app', 'containerd://new']] })], nowMs: now });
    assert.deepEqual(before?.profiles[0]?.targets.map((t) => t.containerId), ['containerd://old']);
    assert.deepEqual(after?.profiles[0]?.targets.map((t) => t.containerId), ['containerd://new']);
    assert.ok(before && after && planNeedsWrite(before, after));
  });

  it('freezes a suspended profile where it is planned, with active false, and does not plan it elsewhere', () => {
    const running = desiredNodePlan({ nodeName: 'node-a', profiles: [profile('t')], podsOnNode: [pod('web-1')], nowMs: now });
    const suspended = profile('t', { suspend: true }, { generation: 2 });
    const frozen = desiredNodePlan({ nodeName: 'node-a', profiles: [suspended], podsOnNode: [pod('web-1'), pod('web-2')], current: running, nowMs: now });
    assert.equal(frozen?.profiles[0]?.active, false);
    assert.equal(frozen?.profiles[0]?.generation, 2);
    assert.deepEqual(frozen?.profiles[0]?.targets.map((t) => t.pod), ['web-1'], 'targets stay as they were when it stopped');
    assert.equal(desiredNodePlan({ nodeName: 'node-b', profiles: [suspended], podsOnNode: [pod('web-3', { node: 'node-b' })], nowMs: now }), undefined);
  });

  it('marks an expired profile inactive', () => {
    const started = { startedAt: '2026-11-26T06:00:00Z' };
    const live = profile('t', { duration: '2h' }, { status: started });
    const expired = profile('t', { duration: '10m' }, { status: started });
    const running = desiredNodePlan({ nodeName: 'node-a', profiles: [live], podsOnNode: [pod('web-1')], nowMs: now });
    assert.equal(running?.profiles[0]?.active, true);
    const completed = desiredNodePlan({ nodeName: 'node-a', profiles: [expired], podsOnNode: [pod('web-1')], current: running, nowMs: now });
    assert.equal(completed?.profiles[0]?.active, false);
  });

  it('keeps a profile the node has results for, with no targets, once its last pod there is gone', () => {
    const running = desiredNodePlan({ nodeName: 'node-a', profiles: [profile('t')], podsOnNode: [pod('web-1')], nowMs: now });
    const reported = profilesWithResults({ profiles: [execReport('uid-t', 5, [['/bin/true', 5]])] });
    const kept = desiredNodePlan({ nodeName: 'node-a', profiles: [profile('t')], podsOnNode: [], current: running, reported, nowMs: now });
    assert.deepEqual(kept?.profiles.map((p) => [p.uid, p.active, p.targets.length]), [['uid-t', true, 0]]);
    const suspended = profile('t', { suspend: true }, { generation: 2 });
    assert.deepEqual(
      desiredNodePlan({ nodeName: 'node-a', profiles: [suspended], podsOnNode: [], current: kept, reported, nowMs: now })?.profiles.map((p) => [p.active, p.targets.length]),
      [[false, 0]],
      'a stopped profile stays too: its final results are still needed',
    );
    assert.equal(desiredNodePlan({ nodeName: 'node-a', profiles: [profile('t')], podsOnNode: [], current: running, nowMs: now }), undefined, 'no results: nothing to keep');
  });

  it('lets go of a reported profile that is being deleted, and never adds one on results alone', () => {
    const running = desiredNodePlan({ nodeName: 'node-a', profiles: [profile('t')], podsOnNode: [pod('web-1')], nowMs: now });
    const reported = new Set(['uid-t']);
    const deleting = profile('t', {}, { deletionTimestamp: '2026-11-26T06:59:00Z' });
    assert.equal(desiredNodePlan({ nodeName: 'node-a', profiles: [deleting], podsOnNode: [], current: running, reported, nowMs: now }), undefined);
    assert.equal(desiredNodePlan({ nodeName: 'node-a', profiles: [profile('t')], podsOnNode: [], reported, nowMs: now }), undefined, 'not planned here');
  });

  it('keeps the oldest profiles when a node is over capacity', () => {
    const profiles = Array.from({ length: MAX_NODE_PROFILES + 2 }, (_, i) =>
      profile(`p${i}`, {}, { uid: `uid-${String(i).padStart(3, '0')}`, creationTimestamp: new Date(now - 60_000 * (100 - i)).toISOString() }),
    );
    const plan = desiredNodePlan({ nodeName: 'node-a', profiles, podsOnNode: [pod('web-1')], nowMs: now });
    assert.equal(plan?.profiles.length, MAX_NODE_PROFILES);
    const uids = new Set(plan?.profiles.map((p) => p.uid));
    assert.ok(uids.has('uid-000') && !uids.has('uid-064') && !uids.has('uid-065'), 'the two newest are left out');
  });
});

describe('profilesWithResults', () => {
  it('names the profiles whose status entry carries results', () => {
    const withoutResults = execReport('uid-b', 0, []);
    delete withoutResults.results;
    assert.deepEqual([...profilesWithResults({ profiles: [execReport('uid-a', 0, []), withoutResults] })], ['uid-a']);
    assert.deepEqual([...profilesWithResults(undefined)], []);
  });
});

describe('planNeedsWrite', () => {
  const plan = desiredNodePlan({
    nodeName: 'node-a',
    profiles: [profile('a', {}, { uid: 'uid-a' }), profile('b', {}, { uid: 'uid-b' })],
    podsOnNode: [pod('web-1', { containers: [['app', 'containerd://1'], ['side', 'containerd://2']] })],
    nowMs: now,
  });
  assert.ok(plan);

  it('ignores order of entries, targets and keys', () => {
    const shuffled = JSON.parse(JSON.stringify({ ...plan, profiles: [...plan.profiles].reverse() }));
    shuffled.profiles[0].targets.reverse();
    assert.equal(planNeedsWrite(shuffled, plan), false);
  });

  it('sees any change of content', () => {
    assert.equal(planNeedsWrite(undefined, plan), true);
    const edited = structuredClone(plan);
    edited.profiles[0]!.active = false;
    assert.equal(planNeedsWrite(edited, plan), true);
  });
});
