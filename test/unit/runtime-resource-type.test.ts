import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { microTime } from '../../kube/kube-object.js';
import { objectKey, parseObjectKey, resourcePath } from '../../kube/resource-type.js';

describe('resourcePath', () => {
  it('puts the core group under /api and others under /apis', () => {
    assert.equal(resourcePath({ group: '', version: 'v1', plural: 'pods' }, { namespace: 'ns', name: 'p' }), '/api/v1/namespaces/ns/pods/p');
    assert.equal(resourcePath({ group: 'loupe.dev', version: 'v1alpha1', plural: 'nodetraceplans' }, { name: 'node-a', subresource: 'status' }), '/apis/loupe.dev/v1alpha1/nodetraceplans/node-a/status');
    assert.equal(resourcePath({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases' }), '/apis/coordination.k8s.io/v1/leases');
  });
});

describe('objectKey', () => {
  it('round-trips namespaced and cluster-scoped keys', () => {
    assert.equal(objectKey({ namespace: 'ns', name: 'a' }), 'ns/a');
    assert.equal(objectKey({ name: 'node-a' }), 'node-a');
    assert.deepEqual(parseObjectKey('ns/a'), { namespace: 'ns', name: 'a' });
    assert.deepEqual(parseObjectKey('node-a'), { name: 'node-a' });
  });
});

describe('microTime', () => {
  it('writes six fractional digits, as metav1.MicroTime requires', () => {
    assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), '2026-01-02T03:04:05.678000Z');
  });
});
