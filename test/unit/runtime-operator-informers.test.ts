import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { Informer, ObjectTransform } from '../../kube/informer.js';
import type { KubeObject } from '../../kube/kube-object.js';
import type { ListWatchScope } from '../../kube/list-watch.js';
import { Operator } from '../../kube/operator.js';
import type { ResourceType } from '../../kube/resource-type.js';

const pods: ResourceType = { group: '', version: 'v1', plural: 'pods' };

/** Never started: informer() only builds informers, it does not connect. */
class InformerOwner extends Operator {
  constructor() {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'none', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'none' }],
      contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
      currentContext: 'none',
    });
    super({ name: 'informer-test', kubeConfig, logger: pino({ level: 'silent' }) });
  }

  protected async init(): Promise<void> {}

  shared<T extends KubeObject>(scope: ListWatchScope, transform?: ObjectTransform<T>): Informer<T> {
    return this.informer<T>(pods, scope, { transform });
  }
}

describe('Operator.informer with a transform', () => {
  const slim: ObjectTransform<KubeObject> = (object) => ({ metadata: (object as KubeObject).metadata });
  const other: ObjectTransform<KubeObject> = (object) => object as KubeObject;

  it('shares one informer between callers passing the same transform', () => {
    const owner = new InformerOwner();
    assert.equal(owner.shared({ namespace: 'shop' }, slim), owner.shared({ namespace: 'shop' }, slim));
    assert.equal(owner.shared({}), owner.shared({}));
  });

  it('refuses to share an informer between different transforms, or a transform and none', () => {
    const owner = new InformerOwner();
    owner.shared({ namespace: 'shop' }, slim);
    assert.throws(() => owner.shared({ namespace: 'shop' }, other), /v1\/pods \{"namespace":"shop"\}: its shared informer was made with another transform/);
    assert.throws(() => owner.shared({ namespace: 'shop' }), /made with another transform/);
    owner.shared({ namespace: 'cart' });
    assert.throws(() => owner.shared({ namespace: 'cart' }, slim), /made with no transform/);
  });

  it('keeps informers of other scopes apart', () => {
    const owner = new InformerOwner();
    assert.notEqual(owner.shared({ namespace: 'shop' }, slim), owner.shared({ namespace: 'cart' }, other));
  });
});
