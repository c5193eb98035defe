import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configHashOf, profileSelectsPod, profileTargets, runningTargetsOfPod } from '../../operator/pod-targets.js';
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

  it('skips pods that are done or not on a node', () => {
    assert.deepEqual(runningTargetsOfPod(pod('p', { phase: 'Succeeded' })), []);
    assert.deepEqual(runningTargetsOfPod(pod('p', { phase: 'Failed' })), []);
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

describe('init, sidecar and ephemeral containers', () => {
  it('traces an init container while the pod is still Pending', () => {
    const p = pod('p', { phase: 'Pending', containers: [['app', '']] });
    p.status!.containerStatuses![0]!.state = { waiting: { reason: 'PodInitializing' } };
    p.status!.initContainerStatuses = [
      { name: 'migrate', containerID: 'containerd://init2', state: { running: {} } },
      { name: 'fetch', containerID: 'containerd://init1', state: { terminated: { exitCode: 0 } } },
    ];
    assert.deepEqual(runningTargetsOfPod(p), [
      { podUid: 'uid-p', namespace: 'shop', pod: 'p', container: 'migrate', containerId: 'containerd://init2' },
    ]);
  });

  it('traces a native sidecar (a restartable init container) and an ephemeral container by name', () => {
    const p = pod('p', { containers: [['app', 'containerd://app']] });
    p.status!.initContainerStatuses = [{ name: 'istio-proxy', containerID: 'containerd://sidecar', state: { running: {} } }];
    p.status!.ephemeralContainerStatuses = [{ name: 'debugger', containerID: 'containerd://debug', state: { running: {} } }];
    assert.deepEqual(runningTargetsOfPod(p, ['istio-proxy']).map((t) => t.containerId), ['containerd://sidecar']);
    assert.deepEqual(runningTargetsOfPod(p, ['debugger']).map((t) => t.containerId), ['containerd://debug']);
    assert.deepEqual(runningTargetsOfPod(p).map((t) => t.container), ['app', 'debugger', 'istio-proxy']);
  });
});

describe('static pods', () => {
  it('carries the mirror pod’s config hash, which names the pod’s cgroup on its node', () => {
    const p = pod('etcd-node-a');
    p.metadata!.annotations = {
      'kubernetes.io/config.hash': '6d6c5ad4e8a4a0d5b7b0e1f2c3d4e5f6',
      'kubernetes.io/config.mirror': '6d6c5ad4e8a4a0d5b7b0e1f2c3d4e5f6',
      'kubernetes.io/config.source': 'file',
    };
    assert.equal(configHashOf(p), '6d6c5ad4e8a4a0d5b7b0e1f2c3d4e5f6');
    assert.deepEqual(runningTargetsOfPod(p), [
      {
        podUid: 'uid-etcd-node-a',
        configHash: '6d6c5ad4e8a4a0d5b7b0e1f2c3d4e5f6',
        namespace: 'shop',
        pod: 'etcd-node-a',
        container: 'app',
        containerId: 'containerd://etcd-node-a-app',
      },
    ]);
  });

  it('an ordinary pod has none; a hash equal to the uid adds nothing', () => {
    assert.equal(configHashOf(pod('p')), undefined);
    const p = pod('p');
    p.metadata!.annotations = { 'kubernetes.io/config.hash': 'uid-p' };
    assert.equal(configHashOf(p), undefined);
    assert.equal('configHash' in runningTargetsOfPod(p)[0]!, false);
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
    pods.at(-1)!.status!.containerStatuses![0]!.state = { waiting: { reason: 'ContainerCreating' } };
    const targets = profileTargets(profile('t'), pods);
    assert.equal(targets.pods, 3);
    assert.equal(targets.containers, 4);
    assert.deepEqual([...targets.byNode.keys()].sort(), ['node-a', 'node-b']);
    assert.deepEqual(targets.byNode.get('node-a')?.map((t) => t.containerId), ['containerd://a1', 'containerd://a1s', 'containerd://a2-app']);
  });
});
