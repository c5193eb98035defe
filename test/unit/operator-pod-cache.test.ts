import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { TraceProfileSpecInput } from '../../api/traceprofile.js';
import { ObjectCache } from '../../kube/object-cache.js';
import { trimPod } from '../../operator/pod-cache.js';
import { configHashOf, profileSelectsPod, profileTargets, runningTargetsOfPod, type Pod } from '../../operator/pod-targets.js';
import { PodsByNode } from '../../operator/reconcilers/pods-by-node.js';
import { profile } from './operator-fixtures.js';

/** Pods as `kubectl get pod -o json` shows them: a Deployment's pod (init, native sidecar, crash-looping and ephemeral containers) and a static pod's mirror. */
const fullPod = (file: string): Pod => JSON.parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')) as Pod;
const deployment = () => fullPod('pod-deployment.json');
const mirror = () => fullPod('pod-static-mirror.json');

/** The fixtures, and the same pods at other points of their lives. */
function podShapes(): { name: string; pod: Pod }[] {
  const pending = deployment();
  pending.status!.phase = 'Pending';
  for (const container of pending.status!.containerStatuses!) {
    delete container.containerID;
    container.state = { waiting: { reason: 'PodInitializing' } };
  }
  delete pending.status!.ephemeralContainerStatuses;
  const unscheduled = deployment();
  delete unscheduled.spec!.nodeName;
  unscheduled.status = { phase: 'Pending' };
  const succeeded = mirror();
  succeeded.status!.phase = 'Succeeded';
  const hashOnly = mirror();
  delete hashOnly.metadata!.annotations!['kubernetes.io/config.mirror'];
  return [
    { name: 'deployment pod', pod: deployment() },
    { name: 'static mirror pod', pod: mirror() },
    { name: 'pending, init containers running', pod: pending },
    { name: 'not yet scheduled', pod: unscheduled },
    { name: 'succeeded', pod: succeeded },
    { name: 'config.hash without config.mirror', pod: hashOnly },
  ];
}

const profiles: { name: string; namespace: string; spec: Partial<TraceProfileSpecInput> }[] = [
  { name: 'app label', namespace: 'shop', spec: { selector: { matchLabels: { app: 'checkout' } } } },
  { name: 'every pod of shop', namespace: 'shop', spec: { selector: {} } },
  { name: 'expression', namespace: 'shop', spec: { selector: { matchExpressions: [{ key: 'pod-template-hash', operator: 'Exists' }, { key: 'tier', operator: 'In', values: ['web'] }] } } },
  { name: 'named containers', namespace: 'shop', spec: { selector: {}, containers: ['app', 'mesh-proxy', 'log-shipper'] } },
  { name: 'control plane', namespace: 'kube-system', spec: { selector: { matchLabels: { component: 'kube-apiserver' } } } },
  { name: 'label not on the pods', namespace: 'shop', spec: { selector: { matchLabels: { app: 'cart' } } } },
];

describe('trimPod', () => {
  it('keeps exactly the fields the operator reads', () => {
    assert.deepEqual(trimPod(deployment()), {
      metadata: {
        name: 'checkout-7c9f8d6b5-x2k4q',
        namespace: 'shop',
        uid: '3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d',
        resourceVersion: '48213377',
        labels: {
          app: 'checkout',
          'app.kubernetes.io/name': 'checkout',
          'app.kubernetes.io/part-of': 'shop',
          'app.kubernetes.io/version': '2.14.1',
          'pod-template-hash': '7c9f8d6b5',
          tier: 'web',
        },
      },
      spec: { nodeName: 'node-b' },
      status: {
        phase: 'Running',
        initContainerStatuses: [
          { name: 'migrate', containerID: 'containerd://0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0', state: { terminated: {} } },
          { name: 'mesh-proxy', containerID: 'containerd://c3d4e5f6a7b8091a2b3c4d5e6f708192c3d4e5f6a7b8091a2b3c4d5e6f708192', state: { running: {} } },
        ],
        containerStatuses: [
          { name: 'app', containerID: 'containerd://9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9', state: { running: {} } },
          { name: 'log-shipper', containerID: 'containerd://7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f', state: { waiting: {} } },
        ],
        ephemeralContainerStatuses: [
          { name: 'debugger-x7k2p', containerID: 'containerd://b2a3c4d5e6f70819a2b3c4d5e6f70819a2b3c4d5e6f70819a2b3c4d5e6f70819', state: { running: {} } },
        ],
      },
    });
  });

  it("keeps a static pod's config annotations and no other", () => {
    assert.deepEqual(trimPod(mirror()).metadata?.annotations, {
      'kubernetes.io/config.mirror': '8f2b6d1c4a7e9f0b3c5d2e1a6f8b7c9d',
      'kubernetes.io/config.hash': '8f2b6d1c4a7e9f0b3c5d2e1a6f8b7c9d',
    });
    assert.equal(trimPod(deployment()).metadata?.annotations, undefined);
  });

  it('leaves the received object as it was', () => {
    const pod = deployment();
    trimPod(pod);
    assert.deepEqual(pod, deployment());
  });

  it('keeps a tenth of the JSON or less', () => {
    for (const pod of [deployment(), mirror()]) {
      const full = JSON.stringify(pod).length;
      const trimmed = JSON.stringify(trimPod(pod)).length;
      assert.ok(trimmed * 10 <= full, `${pod.metadata?.name}: ${trimmed} of ${full} bytes`);
    }
  });

  it('invents no spec or status for an object without them', () => {
    assert.deepEqual(trimPod({ metadata: { name: 'p', namespace: 'shop', uid: 'u', resourceVersion: '9' } }), {
      metadata: { name: 'p', namespace: 'shop', uid: 'u', resourceVersion: '9' },
    });
  });
});

describe('a trimmed pod plans like the full pod', () => {
  for (const { name, pod } of podShapes()) {
    const trimmed = trimPod(pod);
    it(`${name}: same selection, targets and config hash for every profile`, () => {
      assert.equal(configHashOf(trimmed), configHashOf(pod));
      for (const p of profiles) {
        const traceProfile = profile(p.name.replaceAll(' ', '-'), p.spec, { namespace: p.namespace });
        assert.equal(profileSelectsPod(traceProfile, trimmed), profileSelectsPod(traceProfile, pod), p.name);
        assert.deepEqual(runningTargetsOfPod(trimmed, traceProfile.spec.containers), runningTargetsOfPod(pod, traceProfile.spec.containers), p.name);
      }
    });
  }

  it('the fixtures have something to trace: the comparison is not of empty lists', () => {
    assert.deepEqual(
      runningTargetsOfPod(trimPod(deployment())).map((t) => t.container),
      ['app', 'debugger-x7k2p', 'mesh-proxy'],
    );
    assert.deepEqual(runningTargetsOfPod(trimPod(mirror())).map((t) => t.configHash), ['8f2b6d1c4a7e9f0b3c5d2e1a6f8b7c9d']);
  });

  it('same targets by node, pod and container counts', () => {
    const full = podShapes().map((shape) => shape.pod);
    for (const p of profiles) {
      const traceProfile = profile(p.name.replaceAll(' ', '-'), p.spec, { namespace: p.namespace });
      assert.deepEqual(profileTargets(traceProfile, full.map(trimPod)), profileTargets(traceProfile, full), p.name);
    }
  });

  it('same node placement and cache queries', () => {
    const placement = (transform: (pod: Pod) => Pod) => {
      const cache = new ObjectCache<Pod>();
      const byNode = new PodsByNode(cache);
      const nodes = podShapes().map(({ name, pod }) => {
        const object = transform(pod);
        // Distinct names: the shapes are variants of two pods.
        object.metadata = { ...object.metadata, name };
        cache.put(object);
        return byNode.observe({ type: 'added', object });
      });
      const names = (pods: Pod[]) => pods.map((pod) => pod.metadata?.name).sort();
      // What the profile status reconciler reads: the cache queried by namespace and selector.
      const selected = names(cache.list({ namespace: 'shop', labelSelector: { matchLabels: { app: 'checkout' } } }));
      return { nodes, 'node-a': names(byNode.podsOn('node-a')), 'node-b': names(byNode.podsOn('node-b')), selected };
    };
    const trimmed = placement(trimPod);
    assert.deepEqual(trimmed, placement((pod) => pod));
    assert.deepEqual(trimmed.nodes, [['node-b'], ['node-a'], ['node-b'], [], ['node-a'], ['node-a']]);
    assert.equal(trimmed.selected.length, 3);
  });
});
