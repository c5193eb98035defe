import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../kube/api-error.js';
import { ManualClock } from '../../kube/clock.js';
import { Informer, type InformerEvent, type ListPage, type ListWatchSource, type ObjectTransform } from '../../kube/informer.js';
import type { KubeObject } from '../../kube/kube-object.js';

function cm(name: string, resourceVersion: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion, labels } };
}

interface OpenWatch {
  resourceVersion: string;
  aborted: boolean;
  send(type: string, object: unknown): void;
  close(error?: unknown): void;
}

/** A scripted API server: tests set the list result and drive the open watch. */
class FakeSource implements ListWatchSource<KubeObject> {
  readonly description = 'fake configmaps';
  listResult: ListPage<KubeObject> = { items: [], resourceVersion: '1' };
  /** When set, the list is served in these pages instead of listResult. */
  listPages: ListPage<KubeObject>[] | undefined;
  listError: unknown;
  lists = 0;
  pagesServed = 0;
  watches: OpenWatch[] = [];

  async *list() {
    this.lists++;
    if (this.listError !== undefined) throw this.listError;
    for (const page of this.listPages ?? [this.listResult]) {
      this.pagesServed++;
      yield page;
    }
  }

  async watch(resourceVersion: string, onEvent: (type: string, object: unknown) => void, onClose: (error?: unknown) => void) {
    let open = true;
    const watch: OpenWatch = {
      resourceVersion,
      aborted: false,
      send: (type, object) => open && onEvent(type, object),
      close: (error) => {
        if (open) onClose(error);
        open = false;
      },
    };
    this.watches.push(watch);
    return {
      abort: () => {
        watch.aborted = true;
        open = false;
      },
    };
  }

  get current(): OpenWatch {
    const watch = this.watches.at(-1);
    assert.ok(watch, 'no watch open');
    return watch;
  }
}

function setup(options: { resyncPeriodMs?: number; transform?: ObjectTransform<KubeObject> } = {}) {
  const clock = new ManualClock();
  const source = new FakeSource();
  const informer = new Informer(source, { clock, random: () => 0, resyncPeriodMs: options.resyncPeriodMs ?? 0, transform: options.transform });
  const events: string[] = [];
  informer.on((event: InformerEvent<KubeObject>) => events.push(`${event.type} ${event.object.metadata?.name}@${event.object.metadata?.resourceVersion}`));
  return { clock, source, informer, events };
}

describe('Informer', () => {
  it('lists into the cache, then watches from the list resourceVersion', async () => {
    const { clock, source, informer, events } = setup();
    source.listResult = { items: [cm('a', '5'), cm('b', '6')], resourceVersion: '7' };
    informer.start();
    await informer.waitForSync();
    await clock.advance(0);
    assert.deepEqual(events, ['added a@5', 'added b@6']);
    assert.equal(source.current.resourceVersion, '7');
    source.current.send('ADDED', cm('c', '8'));
    source.current.send('MODIFIED', cm('a', '9'));
    source.current.send('DELETED', cm('b', '10'));
    assert.deepEqual(events.slice(2), ['added c@8', 'modified a@9', 'deleted b@10']);
    assert.deepEqual(informer.keys().sort(), ['ns/a', 'ns/c']);
    assert.equal(informer.get('a', 'ns')?.metadata?.resourceVersion, '9');
    await informer.stop();
  });

  it('resumes a dropped watch from the last resourceVersion without relisting', async () => {
    const { clock, source, informer } = setup();
    informer.start();
    await clock.advance(0);
    source.current.send('ADDED', cm('a', '12'));
    source.current.send('BOOKMARK', { metadata: { resourceVersion: '20' } });
    await clock.advance(5_000);
    source.current.close();
    await clock.advance(0);
    assert.equal(source.watches.length, 2);
    assert.equal(source.current.resourceVersion, '20');
    assert.equal(source.lists, 1);
    await informer.stop();
  });

  it('relists on 410 Gone and reports what changed while it was not watching', async () => {
    const { clock, source, informer, events } = setup();
    source.listResult = { items: [cm('a', '1'), cm('b', '1'), cm('c', '1')], resourceVersion: '1' };
    informer.start();
    await clock.advance(0);
    source.listResult = { items: [cm('a', '1'), cm('b', '7'), cm('d', '8')], resourceVersion: '9' };
    source.current.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    source.current.close();
    await clock.advance(0);
    assert.equal(source.lists, 2);
    assert.deepEqual(events.slice(3).sort(), ['added d@8', 'deleted c@1', 'modified b@7']);
    assert.equal(source.current.resourceVersion, '9');
    await informer.stop();
  });

  it('relists when the watch request itself is refused with 410', async () => {
    const { clock, source, informer } = setup();
    informer.start();
    await clock.advance(0);
    source.current.close(new ApiError(410, 'Expired', 'too old', 'WATCH', '/api/v1/configmaps'));
    await clock.advance(0);
    assert.equal(source.lists, 2);
    await informer.stop();
  });

  it('backs off exponentially while the server is unreachable, and recovers', async () => {
    const { clock, source, informer } = setup();
    source.listError = new Error('connection refused');
    informer.start();
    // With random() = 0 the delays are 800, 1600, 3200 ms: attempts at 0, 800, 2400, 5600.
    await clock.advance(5_599);
    assert.equal(source.lists, 3);
    await clock.advance(1);
    assert.equal(source.lists, 4);
    assert.equal(informer.hasSynced, false);
    source.listError = undefined;
    await clock.advance(6_400);
    assert.equal(informer.hasSynced, true);
    await informer.stop();
  });

  it('treats a watch that closes at once with nothing delivered as a failure', async () => {
    const { clock, source, informer } = setup();
    informer.start();
    await clock.advance(0);
    source.current.close();
    await clock.advance(0);
    assert.equal(source.watches.length, 1, 'no immediate reconnect');
    await clock.advance(800);
    assert.equal(source.watches.length, 2);
    await informer.stop();
  });

  it('replays the cache every resync period', async () => {
    const { clock, source, informer, events } = setup({ resyncPeriodMs: 60_000 });
    source.listResult = { items: [cm('a', '1')], resourceVersion: '1' };
    informer.start();
    await clock.advance(59_999);
    assert.deepEqual(events, ['added a@1']);
    await clock.advance(1);
    assert.deepEqual(events, ['added a@1', 'resync a@1']);
    await informer.stop();
  });

  it('stop closes the open watch connection', async () => {
    const { clock, source, informer } = setup();
    informer.start();
    await clock.advance(0);
    const watch = source.current;
    await informer.stop();
    assert.equal(watch.aborted, true);
    await clock.advance(60_000);
    assert.equal(source.watches.length, 1, 'no watch after stop');
  });

  it('ignores a modification it has already seen', async () => {
    const { clock, source, informer, events } = setup();
    source.listResult = { items: [cm('a', '3')], resourceVersion: '3' };
    informer.start();
    await clock.advance(0);
    source.current.send('MODIFIED', cm('a', '3'));
    assert.deepEqual(events, ['added a@3']);
    await informer.stop();
  });
});

describe('Informer with a transform', () => {
  /** Keeps name, namespace and resourceVersion; records which list page was being served when it ran. */
  function slimming() {
    const calls: string[] = [];
    let source: FakeSource | undefined;
    const transform: ObjectTransform<KubeObject> = (object) => {
      const { name, namespace, resourceVersion } = (object as KubeObject).metadata ?? {};
      calls.push(`${name}@${resourceVersion} page ${source?.pagesServed}`);
      return { metadata: { name, namespace, resourceVersion, labels: { slim: 'yes' } } };
    };
    const test = setup({ transform });
    source = test.source;
    return { ...test, calls };
  }
  const withData = (name: string, resourceVersion: string) => ({ ...cm(name, resourceVersion), data: { big: 'x'.repeat(1000) } });

  it('transforms each list page before the next is fetched, and caches only what it returns', async () => {
    const { clock, source, informer, calls } = slimming();
    source.listPages = [
      { items: [withData('a', '5'), withData('b', '6')], resourceVersion: '7' },
      { items: [withData('c', '8')], resourceVersion: '9' },
    ];
    const seen: KubeObject[] = [];
    informer.on((event) => seen.push(event.object));
    informer.start();
    await informer.waitForSync();
    await clock.advance(0);
    assert.deepEqual(calls, ['a@5 page 1', 'b@6 page 1', 'c@8 page 2']);
    assert.deepEqual(informer.get('c', 'ns'), { metadata: { name: 'c', namespace: 'ns', resourceVersion: '8', labels: { slim: 'yes' } } });
    assert.deepEqual(
      seen.map((object) => Object.keys(object)),
      [['metadata'], ['metadata'], ['metadata']],
      'handlers get the transformed objects',
    );
    assert.equal(source.current.resourceVersion, '9', 'watches from the last page');
    await informer.stop();
  });

  it('transforms watch events, but not bookmarks or errors', async () => {
    const { clock, source, informer, events, calls } = slimming();
    informer.start();
    await clock.advance(0);
    source.current.send('ADDED', withData('a', '12'));
    source.current.send('MODIFIED', withData('a', '13'));
    source.current.send('BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '20' } });
    source.current.send('DELETED', withData('a', '21'));
    assert.deepEqual(calls, ['a@12 page 1', 'a@13 page 1', 'a@21 page 1']);
    assert.deepEqual(events, ['added a@12', 'modified a@13', 'deleted a@21']);
    source.current.send('ADDED', withData('b', '22'));
    assert.deepEqual(informer.get('b', 'ns')?.metadata?.labels, { slim: 'yes' });
    source.current.send('ERROR', { kind: 'Status', code: 410 });
    assert.equal(calls.length, 4);
    await informer.stop();
  });

  it('still tells a modification from a repeat by resourceVersion', async () => {
    const { clock, source, informer, events } = slimming();
    source.listResult = { items: [withData('a', '3')], resourceVersion: '3' };
    informer.start();
    await clock.advance(0);
    const modified: InformerEvent<KubeObject>[] = [];
    informer.on((event) => modified.push(event));
    source.current.send('MODIFIED', withData('a', '3'));
    source.current.send('MODIFIED', withData('a', '4'));
    assert.deepEqual(events, ['added a@3', 'modified a@4']);
    assert.equal(modified[0]?.previous?.metadata?.resourceVersion, '3');
    assert.deepEqual(Object.keys(modified[0]?.previous ?? {}), ['metadata'], 'previous is the cached, transformed object');
    // A relist with nothing new reports nothing.
    source.listResult = { items: [withData('a', '4')], resourceVersion: '5' };
    source.current.send('ERROR', { kind: 'Status', code: 410 });
    source.current.close();
    await clock.advance(0);
    assert.equal(source.lists, 2);
    assert.deepEqual(events, ['added a@3', 'modified a@4']);
    await informer.stop();
  });

  it('a transform that throws fails the watch, which resumes from before that event', async () => {
    const clock = new ManualClock();
    const source = new FakeSource();
    const transform: ObjectTransform<KubeObject> = (object) => {
      if ((object as KubeObject).metadata?.name === 'bad') throw new Error('cannot trim');
      return object as KubeObject;
    };
    const informer = new Informer(source, { clock, random: () => 0, resyncPeriodMs: 0, transform });
    informer.start();
    await clock.advance(0);
    source.current.send('ADDED', cm('a', '12'));
    source.current.send('ADDED', cm('bad', '13'));
    await clock.advance(800);
    assert.equal(source.watches.length, 2);
    assert.equal(source.current.resourceVersion, '12');
    assert.deepEqual(informer.keys(), ['ns/a']);
    await informer.stop();
  });
});
