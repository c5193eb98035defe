import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { profileSelectsPod, profileTargets, runningTargetsOfPod } from '../../operator/pod-targets.js';
import type { TraceProfileSpecInput } from '../../api/traceprofile.js';
import { pod, profile } from './operator-fixtures.js';

describe('profileSelectsPod', () => {
  const labelled = (labels: Record<string, string>) => pod('p', { labels });
  const cases: { name: string; selector: TraceProfileSpecInput['selector']; labels: Record<string, string>; selects: boolean }[] = [
    { name: 'empty selector selects every pod', selector: {}, labels: { anything: 'x' }, selects: true },
    { name: 'matchLabels equal', selector: { matchLabels: { app: 'checkout' } }, labels: { app: 'checkout', tier: 'web' }, selects: true },
    { name: 'matchLabels different value', selector: { matchLabels: { app: 'checkout' } }, labels: { app: 'cart' }, selects: false },
    { name: 'matchLabels missing key', selector: { matchLabels: { app: 'checkout' } }, labels: {}, selects: false },
    { name: 'In matches', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, labels: { tier: 'api' }, selects: true },
    { name: 'In without the key', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }, labels: {}, selects: false },
    { name: 'NotIn with other value', selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, labels: { tier: 'web' }, selects: true },
    { name: 'NotIn without the key', selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, labels: {}, selects: true },
    { name: 'NotIn with that value', selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, labels: { tier: 'db' }, selects: false },
    { name: 'Exists', selector: { matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, labels: { canary: '' }, selects: true },
    { name: 'Exists without the key', selector: { matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, labels: {}, selects: false },
    { name: 'DoesNotExist', selector: { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, labels: { canary: 'yes' }, selects: false },
    {
      name: 'matchLabels AND matchExpressions',
      selector: { matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] },
      labels: { app: 'checkout', tier: 'db' },
      selects: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(profileSelectsPod(profile('t', { selector: c.selector }), labelled(c.labels)), c.selects));
  }

  it('never selects pods of another namespace', () => {
    assert.equal(profileSelectsPod(profile('t', { selector: {} }), pod('p', { namespace: 'other' })), false);
  });
});

describe('runningTargetsOfPod', () => {
  it('lists running containers with their ids, sorted by id', () => {
    const p = pod('web-1', { containers: [['sidecar', 'containerd://bbb'], ['app', 'containerd://aaa']] });
    assert.deepEqual(runningTargetsOfPod(p), [
      { podUid: 'uid-web-1', namespace: 'shop', pod: 'web-1', container: 'app', containerId: 'containerd://aaa' },
      { podUid: 'uid-web-1', namespace: 'shop', pod: 'web-1', container: 'sidecar', containerId: 'containerd://bbb' },
    ]);
  });

  it('filters by container name', () => {
    const p = pod('web-1', { containers: [['sidecar', 'containerd://bbb'], ['app', 'containerd://aaa']] });
    assert.deepEqual(runningTargetsOfPod(p, ['sidecar']).map((t) => t.container), ['sidecar']);
  });

  it('skips pods that are not running or not on a node', () => {
    assert.deepEqual(runningTargetsOfPod(pod('p', { phase: 'Pending' })), []);
    assert.deepEqual(runningTargetsOfPod(pod('p', { phase: 'Succeeded' })), []);
    const unscheduled = pod('p');
    unscheduled.spec = {};
    assert.deepEqual(runningTargetsOfPod(unscheduled), []);
  });

  it('skips containers without an id, waiting or terminated', () => {
    const p = pod('p', { containers: [['a', 'containerd://a'], ['b', ''], ['c', 'containerd://c'], ['d', 'containerd://d']] });
    const statuses = p.status?.containerStatuses ?? [];
    statuses[2]!.state = { waiting: { reason: 'CrashLoopBackOff' } };
    statuses[3]!.state = { terminated: { exitCode: 1 } };
    assert.deepEqual(runningTargetsOfPod(p).map((t) => t.container), ['a']);
  });
});

describe('profileTargets', () => {
  it('groups selected running pods by node and counts pods and containers', () => {
    const pods = [
      pod('a1', { node: 'node-a', containers: [['app', 'containerd://a1'], ['side', 'containerd://a1s']] }),
      pod('a2', { node: 'node-a' }),
      pod('b1', { node: 'node-b' }),
      pod('other', { node: 'node-c', labels: { app: 'cart' } }),
      pod('pending', { node: 'node-d', phase: 'Pending' }),
    ];
    const targets = profileTargets(profile('t'), pods);
    assert.equal(targets.pods, 3);
    assert.equal(targets.containers, 4);
    assert.deepEqual([...targets.byNode.keys()].sort(), ['node-a', 'node-b']);
    assert.deepEqual(targets.byNode.get('node-a')?.map((t) => t.containerId), ['containerd://a1', 'containerd://a1s', 'containerd://a2-app']);
  });
});
