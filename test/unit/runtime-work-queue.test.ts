import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, settle } from '../../kube/clock.js';
import { WorkQueue } from '../../kube/work-queue.js';

/** A reconcile whose calls stay open until the test finishes them. */
function controlledReconcile() {
  const calls: Array<{ key: string; finish: (error?: Error) => void }> = [];
  const reconcile = (key: string): Promise<void> =>
    new Promise((resolve, reject) => calls.push({ key, finish: (error) => (error ? reject(error) : resolve()) }));
  return { calls, reconcile };
}

describe('WorkQueue', () => {
  it('coalesces a key added while it is pending into one reconcile', async () => {
    const { calls, reconcile } = controlledReconcile();
    const queue = new WorkQueue(reconcile, { clock: new ManualClock() });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    queue.start();
    await settle();
    assert.deepEqual(calls.map((c) => c.key), ['ns/a']);
    calls[0]!.finish();
    await settle();
    assert.equal(calls.length, 1);
    assert.equal(queue.length, 0);
  });

  it('never runs one key twice at once, and reruns it once if it changed while running', async () => {
    const { calls, reconcile } = controlledReconcile();
    const queue = new WorkQueue(reconcile, { clock: new ManualClock(), concurrency: 4 });
    queue.start();
    queue.add('a');
    await settle();
    queue.add('a');
    queue.add('a');
    await settle();
    assert.equal(calls.length, 1, 'second run must wait for the first');
    calls[0]!.finish();
    await settle();
    assert.equal(calls.length, 2, 'changes during the run coalesce into one rerun');
    calls[1]!.finish();
    await settle();
    assert.equal(calls.length, 2);
  });

  it('runs different keys concurrently up to the concurrency bound, in arrival order', async () => {
    const { calls, reconcile } = controlledReconcile();
    const queue = new WorkQueue(reconcile, { clock: new ManualClock(), concurrency: 2 });
    for (const key of ['a', 'b', 'c', 'd']) queue.add(key);
    queue.start();
    await settle();
    assert.deepEqual(calls.map((c) => c.key), ['a', 'b']);
    assert.equal(queue.inFlight, 2);
    calls[1]!.finish();
    await settle();
    assert.deepEqual(calls.map((c) => c.key), ['a', 'b', 'c']);
  });

  it('retries a failing key with exponential backoff, capped', async () => {
    const clock = new ManualClock();
    const startedAt: number[] = [];
    const queue = new WorkQueue(
      async () => {
        startedAt.push(clock.now());
        throw new Error('boom');
      },
      { clock, retryBackoff: { initialMs: 100, maxMs: 500, factor: 2, jitter: 0 } },
    );
    queue.start();
    queue.add('a');
    await clock.advance(2000);
    // Failures at 0, then retries 100, 200, 400, 500 (cap), 500 ms apart.
    assert.deepEqual(startedAt.slice(0, 6), [0, 100, 300, 700, 1200, 1700]);
    assert.equal(queue.retriesOf('a'), startedAt.length);
  });

  it('gives up after maxRetries and forgets the failures on the next success', async () => {
    const clock = new ManualClock();
    let runs = 0;
    let failing = true;
    const queue = new WorkQueue(
      async () => {
        runs++;
        if (failing) throw new Error('boom');
      },
      { clock, maxRetries: 2, retryBackoff: { initialMs: 10, maxMs: 10, factor: 2, jitter: 0 } },
    );
    queue.start();
    queue.add('a');
    await clock.advance(1000);
    assert.equal(runs, 3, 'first attempt plus two retries');
    assert.equal(queue.length, 0);
    failing = false;
    queue.add('a');
    await clock.advance(0);
    assert.equal(runs, 4);
    assert.equal(queue.retriesOf('a'), 0);
  });

  it('a new event for a key waiting on backoff runs it at once', async () => {
    const clock = new ManualClock();
    let runs = 0;
    const queue = new WorkQueue(
      async () => {
        runs++;
        if (runs === 1) throw new Error('boom');
      },
      { clock, retryBackoff: { initialMs: 10_000, maxMs: 10_000, factor: 2, jitter: 0 } },
    );
    queue.start();
    queue.add('a');
    await clock.advance(0);
    assert.equal(runs, 1);
    queue.add('a');
    await clock.advance(0);
    assert.equal(runs, 2);
    await clock.advance(20_000);
    assert.equal(runs, 2, 'the superseded retry does not fire');
  });

  it('rate-limits reconciles of one key', async () => {
    const clock = new ManualClock();
    const startedAt: number[] = [];
    const queue = new WorkQueue(
      async () => {
        startedAt.push(clock.now());
      },
      { clock, perKeyMinIntervalMs: 1000 },
    );
    queue.start();
    queue.add('a');
    await clock.advance(10);
    queue.add('a');
    queue.add('b');
    await clock.advance(10);
    assert.deepEqual(startedAt, [0, 10], "'b' is not held back by 'a'");
    await clock.advance(2000);
    assert.deepEqual(startedAt, [0, 10, 1000]);
  });

  it('addAfter keeps the earliest schedule', async () => {
    const clock = new ManualClock();
    const startedAt: number[] = [];
    const queue = new WorkQueue(async () => void startedAt.push(clock.now()), { clock });
    queue.start();
    queue.addAfter('a', 500);
    queue.addAfter('a', 300);
    queue.addAfter('a', 900);
    await clock.advance(2000);
    assert.deepEqual(startedAt, [300]);
  });

  it('pause holds keys until start', async () => {
    const { calls, reconcile } = controlledReconcile();
    const queue = new WorkQueue(reconcile, { clock: new ManualClock() });
    queue.add('a');
    await settle();
    assert.equal(calls.length, 0);
    queue.start();
    queue.pause();
    queue.add('b');
    await settle();
    assert.deepEqual(calls.map((c) => c.key), ['a']);
    queue.start();
    await settle();
    assert.deepEqual(calls.map((c) => c.key), ['a', 'b']);
  });

  it('paused, puts a key that changes again first, so a new leader applies what changed while no one led before its sweep', async () => {
    const { calls, reconcile } = controlledReconcile();
    const queue = new WorkQueue(reconcile, { clock: new ManualClock(), concurrency: 1 });
    for (const key of ['a', 'b', 'c', 'd']) queue.add(key); // a standby's first list
    queue.add('c'); // then c changes, then b, then a new key e arrives
    queue.add('b');
    queue.add('e');
    queue.start();
    for (let i = 0; i < 5; i++) {
      await settle();
      calls[i]?.finish();
    }
    await settle();
    assert.deepEqual(calls.map((c) => c.key), ['b', 'c', 'a', 'd', 'e']);
    // Leading, arrival order again.
    for (const key of ['x', 'y']) queue.add(key);
    for (let i = 5; i < 7; i++) {
      await settle();
      calls[i]?.finish();
    }
    assert.deepEqual(calls.slice(5).map((c) => c.key), ['x', 'y']);
  });

  it('drain finishes pending work, refuses new keys, and gives up at the timeout', async () => {
    const clock = new ManualClock();
    const { calls, reconcile } = controlledReconcile();
    const queue = new WorkQueue(reconcile, { clock, concurrency: 1 });
    queue.start();
    queue.add('a');
    queue.add('b');
    await settle();
    const drained = queue.drain(5000);
    queue.add('c');
    calls[0]!.finish();
    await settle();
    assert.deepEqual(calls.map((c) => c.key), ['a', 'b'], "pending 'b' still runs; 'c' is refused");
    await clock.advance(5000);
    assert.equal(await drained, false, "'b' never finished");
    calls[1]!.finish();
  });

  it('drain resolves true once idle', async () => {
    const { calls, reconcile } = controlledReconcile();
    const queue = new WorkQueue(reconcile, { clock: new ManualClock() });
    queue.start();
    queue.add('a');
    await settle();
    const drained = queue.drain(5000);
    calls[0]!.finish();
    assert.equal(await drained, true);
  });
});
