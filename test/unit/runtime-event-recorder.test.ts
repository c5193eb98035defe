import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../kube/api-error.js';
import { ManualClock } from '../../kube/clock.js';
import { EventRecorder } from '../../kube/event-recorder.js';
import type { KubeObject } from '../../kube/kube-object.js';
import type { ResourceClient } from '../../kube/resource-client.js';

type Writer = Pick<ResourceClient, 'create' | 'mergePatch'>;

/** Records the writes; patches fail with 404 when `expired` is set. */
function fakeWriter() {
  const writes: Array<{ verb: 'create' | 'patch'; body: Record<string, unknown>; name?: string }> = [];
  let created = 0;
  let expired = false;
  const writer: Writer = {
    create: (async (_resource: unknown, object: KubeObject) => {
      writes.push({ verb: 'create', body: object as Record<string, unknown> });
      return { ...object, metadata: { ...object.metadata, name: `event-${++created}` } };
    }) as Writer['create'],
    mergePatch: (async (_resource: unknown, key: { name: string }, patch: unknown) => {
      if (expired) throw new ApiError(404, 'NotFound', 'gone', 'PATCH', '/x');
      writes.push({ verb: 'patch', name: key.name, body: patch as Record<string, unknown> });
      return {};
    }) as Writer['mergePatch'],
  };
  return { writer, writes, expire: () => (expired = true) };
}

const profile: KubeObject = { apiVersion: 'loupe.dev/v1alpha1', kind: 'TraceProfile', metadata: { name: 'checkout', namespace: 'shop', uid: 'u1' } };

describe('EventRecorder', () => {
  it('creates an events.k8s.io/v1 Event naming the object', async () => {
    const { writer, writes } = fakeWriter();
    const recorder = new EventRecorder(writer, { reportingController: 'loupe.dev/operator', reportingInstance: 'op-1', clock: new ManualClock(0) });
    await recorder.record(profile, 'Normal', 'Attached', 'attached on 3 nodes');
    assert.equal(writes.length, 1);
    const body = writes[0]!.body;
    assert.equal(body.type, 'Normal');
    assert.equal(body.reason, 'Attached');
    assert.equal(body.action, 'Attached');
    assert.equal(body.note, 'attached on 3 nodes');
    assert.equal(body.eventTime, '1970-01-01T00:00:00.000000Z');
    assert.deepEqual(body.regarding, { apiVersion: 'loupe.dev/v1alpha1', kind: 'TraceProfile', name: 'checkout', namespace: 'shop', uid: 'u1' });
    const metadata = body.metadata as { name: string; namespace: string };
    assert.equal(metadata.namespace, 'shop');
    assert.match(metadata.name, /^checkout\.[0-9a-f]+$/);
  });

  it('counts repeats in the series of the first event instead of creating more', async () => {
    const { writer, writes } = fakeWriter();
    const recorder = new EventRecorder(writer, { reportingController: 'c', reportingInstance: 'i', clock: new ManualClock(0) });
    await Promise.all([1, 2, 3].map(() => recorder.record(profile, 'Warning', 'NoPods', 'no pod matches')));
    await recorder.record(profile, 'Warning', 'NoPods', 'a different note');
    assert.deepEqual(
      writes.map((w) => [w.verb, w.name, (w.body.series as { count?: number } | undefined)?.count]),
      [
        ['create', undefined, undefined],
        ['patch', 'event-1', 2],
        ['patch', 'event-1', 3],
        ['create', undefined, undefined],
      ],
    );
  });

  it('starts a new event when the first one has expired', async () => {
    const { writer, writes, expire } = fakeWriter();
    const recorder = new EventRecorder(writer, { reportingController: 'c', reportingInstance: 'i', clock: new ManualClock(0) });
    await recorder.record(profile, 'Normal', 'Attached', 'x');
    expire();
    await recorder.record(profile, 'Normal', 'Attached', 'x');
    assert.deepEqual(writes.map((w) => w.verb), ['create', 'create']);
  });

  it('puts events about cluster-scoped objects in default, and truncates long notes to 1 KiB on a character boundary', async () => {
    const { writer, writes } = fakeWriter();
    const recorder = new EventRecorder(writer, { reportingController: 'c', reportingInstance: 'i' });
    await recorder.record({ apiVersion: 'loupe.dev/v1alpha1', kind: 'NodeTracePlan', metadata: { name: 'node-a' } }, 'Warning', 'Stale', 'x' + 'é'.repeat(600));
    assert.equal((writes[0]!.body.metadata as { namespace: string }).namespace, 'default');
    const note = writes[0]!.body.note as string;
    // 1024 bytes would split an 'é'; the cut falls before it.
    assert.equal(note, 'x' + 'é'.repeat(511));
  });

  it('never rejects, even when the API refuses the event', async () => {
    const recorder = new EventRecorder(
      {
        create: async () => {
          throw new ApiError(403, 'Forbidden', 'no', 'POST', '/x');
        },
        mergePatch: async () => ({}),
      } as unknown as Writer,
      { reportingController: 'c', reportingInstance: 'i' },
    );
    await recorder.record(profile, 'Normal', 'X', 'y');
  });
});
