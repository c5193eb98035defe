import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../kube/kube-object.js';
import { matchesLabelSelector } from '../../kube/label-selector.js';
import { ObjectCache } from '../../kube/object-cache.js';

const pod = (namespace: string | undefined, name: string, labels: Record<string, string>): KubeObject => ({ metadata: { namespace, name, labels } });

describe('matchesLabelSelector', () => {
  const labels = { app: 'checkout', tier: 'web' };

  it('matches everything when empty', () => {
    assert.equal(matchesLabelSelector({}, labels), true);
    assert.equal(matchesLabelSelector({}, undefined), true);
  });

  it('ANDs matchLabels and every expression', () => {
    assert.equal(matchesLabelSelector({ matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, labels), true);
    assert.equal(matchesLabelSelector({ matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }] }, labels), false);
    assert.equal(matchesLabelSelector({ matchLabels: { app: 'cart' } }, labels), false);
  });

  it('NotIn and DoesNotExist accept a missing label; In and Exists do not', () => {
    assert.equal(matchesLabelSelector({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels), true);
    assert.equal(matchesLabelSelector({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels), true);
    assert.equal(matchesLabelSelector({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, labels), false);
    assert.equal(matchesLabelSelector({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels), false);
    assert.equal(matchesLabelSelector({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['checkout'] }] }, labels), false);
  });
});

describe('ObjectCache', () => {
  const cache = new ObjectCache<KubeObject>();
  cache.put(pod('shop', 'checkout-1', { app: 'checkout' }));
  cache.put(pod('shop', 'cart-1', { app: 'cart' }));
  cache.put(pod('other', 'checkout-2', { app: 'checkout' }));
  cache.put(pod(undefined, 'node-a', {}));

  it('gets by name and namespace, and by key', () => {
    assert.equal(cache.get('cart-1', 'shop')?.metadata?.name, 'cart-1');
    assert.equal(cache.get('cart-1', 'other'), undefined);
    assert.equal(cache.getByKey('other/checkout-2')?.metadata?.namespace, 'other');
    assert.equal(cache.getByKey('node-a')?.metadata?.name, 'node-a');
  });

  it('lists by namespace and labels', () => {
    const names = (objects: KubeObject[]) => objects.map((o) => o.metadata?.name).sort();
    assert.deepEqual(names(cache.list({ namespace: 'shop' })), ['cart-1', 'checkout-1']);
    assert.deepEqual(names(cache.list({ labelSelector: { matchLabels: { app: 'checkout' } } })), ['checkout-1', 'checkout-2']);
    assert.deepEqual(names(cache.list({ namespace: 'shop', labelSelector: { matchLabels: { app: 'checkout' } } })), ['checkout-1']);
    assert.deepEqual(cache.list({ namespace: 'none' }), []);
    assert.deepEqual(cache.keys().sort(), ['node-a', 'other/checkout-2', 'shop/cart-1', 'shop/checkout-1']);
  });

  it('put returns the replaced object and remove forgets it', () => {
    const local = new ObjectCache<KubeObject>();
    assert.equal(local.put(pod('a', 'x', {})), undefined);
    assert.equal(local.put(pod('a', 'x', { v: '2' }))?.metadata?.labels?.v, undefined);
    assert.equal(local.remove(pod('a', 'x', {}))?.metadata?.labels?.v, '2');
    assert.equal(local.size, 0);
  });
});
