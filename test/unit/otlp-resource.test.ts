// The OTLP resource of a traced container: Kubernetes semantic conventions,
// the profile, the user's extra attributes, and one object per container.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseContainerId, ResourceCache, resourceAttributes, type OtlpTarget } from '../../agent/otlp/resource.js';

const target: OtlpTarget = {
  pod: { namespace: 'shop', name: 'checkout-7d9f', uid: '0b7c0e4e-1111-4c3a-9d55-2f1d0d5e6a01' },
  container: { name: 'app', id: 'containerd://4f1c2b' },
};
const context = { nodeName: 'node-a', profile: { namespace: 'shop', name: 'checkout-latency' } };

describe('resource attributes', () => {
  it('names the pod, container, node and profile with the semantic conventions', () => {
    assert.deepEqual(resourceAttributes(target, context), {
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'checkout-7d9f',
      'k8s.pod.uid': '0b7c0e4e-1111-4c3a-9d55-2f1d0d5e6a01',
      'k8s.container.name': 'app',
      'container.id': '4f1c2b',
      'container.runtime.name': 'containerd',
      'k8s.node.name': 'node-a',
      'loupe.profile': 'shop/checkout-latency',
    });
  });

  it("adds the user's attributes but never lets them rename where data came from", () => {
    const attributes = resourceAttributes(target, {
      ...context,
      extraAttributes: { 'deployment.environment': 'prod', 'k8s.pod.name': 'spoofed' },
    });
    assert.equal(attributes['deployment.environment'], 'prod');
    assert.equal(attributes['k8s.pod.name'], 'checkout-7d9f');
  });

  it('takes container ids with or without the runtime prefix', () => {
    assert.deepEqual(parseContainerId('cri-o://abc123'), { runtime: 'cri-o', id: 'abc123' });
    assert.deepEqual(parseContainerId('abc123'), { id: 'abc123' });
    const bare = resourceAttributes({ ...target, container: { name: 'app', id: 'abc123' } }, context);
    assert.equal(bare['container.id'], 'abc123');
    assert.equal('container.runtime.name' in bare, false);
  });
});

describe('resource cache', () => {
  it('returns the same object for the same container, so logs group under one resource', () => {
    const cache = new ResourceCache(context);
    const first = cache.get(target);
    assert.equal(cache.get({ ...target }), first);
    assert.equal(first.attributes['k8s.pod.uid'], target.pod.uid);
    assert.notEqual(cache.get({ ...target, container: { name: 'app', id: 'containerd://restarted' } }), first);
  });

  it('forgets the least recently used container beyond its capacity', () => {
    const cache = new ResourceCache(context, 2);
    const at = (id: string): OtlpTarget => ({ ...target, container: { name: 'app', id } });
    const a = cache.get(at('a'));
    const b = cache.get(at('b'));
    assert.equal(cache.get(at('a')), a, 'a is used again, so b is now the oldest');
    cache.get(at('c'));
    assert.equal(cache.get(at('a')), a);
    assert.notEqual(cache.get(at('b')), b, 'b was evicted and comes back as a new object');
  });
});
