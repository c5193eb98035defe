// The bounded export queue: one send in flight, retries with backoff while
// sends fail, drops the oldest (counted) beyond its capacity, never throws.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExportQueue } from '../../agent/otlp/export-queue.js';

/** A collector stand-in the test controls: each send waits until the test answers it. */
class ManualCollector {
  readonly received: string[][] = [];
  private answers: ((ok: boolean) => void)[] = [];

  send = (batch: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      this.received.push(batch);
      this.answers.push((ok) => (ok ? resolve() : reject(new Error('collector unavailable'))));
    });

  /** Answers the oldest open send, once one is open. */
  async answer(ok: boolean): Promise<void> {
    for (let i = 0; i < 200 && this.answers.length === 0; i++) await sleep(5);
    const answer = this.answers.shift();
    assert.ok(answer, 'a send is open');
    answer(ok);
    await sleep(0);
  }

  get open(): number {
    return this.answers.length;
  }
}

function queueFor(collector: ManualCollector, capacity: number) {
  const tally = { dropped: [] as string[][], failures: 0, successes: 0 };
  const queue = new ExportQueue<string[]>({
    send: collector.send,
    sizeOf: (batch) => batch.length,
    capacity,
    onDropped: (batch) => tally.dropped.push(batch),
    onFailed: () => tally.failures++,
    onSucceeded: () => tally.successes++,
    backoff: { initialMs: 10, maxMs: 40 },
  });
  return { queue, tally };
}

describe('export queue', () => {
  it('sends batches in order, one at a time', async () => {
    const collector = new ManualCollector();
    const { queue, tally } = queueFor(collector, 100);
    queue.push(['a']);
    queue.push(['b', 'c']);
    await sleep(5);
    assert.equal(collector.open, 1, 'the second batch waits for the first');
    await collector.answer(true);
    await collector.answer(true);
    assert.deepEqual(collector.received, [['a'], ['b', 'c']]);
    assert.equal(tally.successes, 2);
    assert.equal(queue.size, 0);
  });

  it('retries a failed batch after a backoff, then moves on', async () => {
    const collector = new ManualCollector();
    const { queue, tally } = queueFor(collector, 100);
    queue.push(['a']);
    queue.push(['b']);
    await collector.answer(false);
    assert.equal(collector.open, 0, 'nothing is sent during the backoff');
    await collector.answer(false);
    await collector.answer(true);
    await collector.answer(true);
    assert.deepEqual(collector.received, [['a'], ['a'], ['a'], ['b']]);
    assert.equal(tally.failures, 2);
    assert.deepEqual(tally.dropped, []);
  });

  it('drops the oldest batches beyond its capacity, never the one in flight', async () => {
    const collector = new ManualCollector();
    const { queue, tally } = queueFor(collector, 4);
    queue.push(['a1', 'a2']);
    await sleep(5);
    queue.push(['b1', 'b2']);
    queue.push(['c1']);
    assert.deepEqual(tally.dropped, [['b1', 'b2']], 'a is in flight, so b is the oldest that can go');
    assert.equal(queue.size, 3);
    await collector.answer(true);
    await collector.answer(true);
    assert.deepEqual(collector.received, [['a1', 'a2'], ['c1']]);
  });

  it('drops a batch that failed once newer ones fill the queue', async () => {
    const collector = new ManualCollector();
    const { queue, tally } = queueFor(collector, 2);
    queue.push(['a']);
    await collector.answer(false);
    queue.push(['b']);
    queue.push(['c']);
    assert.deepEqual(tally.dropped, [['a']]);
    await collector.answer(true);
    await collector.answer(true);
    assert.deepEqual(collector.received.slice(1), [['b'], ['c']]);
  });

  it('treats a send that throws as a failed send, not an exception for the caller', async () => {
    let calls = 0;
    const failures: string[] = [];
    const queue = new ExportQueue<string>({
      send: () => {
        calls++;
        throw new Error('serializer broke');
      },
      sizeOf: () => 1,
      capacity: 10,
      onDropped: () => {},
      onFailed: (err) => failures.push(err.message),
      onSucceeded: () => {},
      backoff: { initialMs: 5, maxMs: 5 },
    });
    assert.doesNotThrow(() => queue.push('x'));
    await sleep(40);
    assert.ok(calls >= 2, 'retried');
    assert.equal(failures[0], 'serializer broke');
    queue.close();
  });

  it('flush sends at once instead of waiting out the backoff, and reports whether the queue emptied', async () => {
    const collector = new ManualCollector();
    const queue = new ExportQueue<string[]>({
      send: collector.send,
      sizeOf: () => 1,
      capacity: 10,
      onDropped: () => {},
      onFailed: () => {},
      onSucceeded: () => {},
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    queue.push(['a']);
    await collector.answer(false);
    const flushed = queue.flush(1_000);
    await collector.answer(true);
    assert.equal(await flushed, true);

    queue.push(['b']);
    await collector.answer(false);
    const started = Date.now();
    const timedOut = queue.flush(50);
    await collector.answer(false);
    assert.equal(await timedOut, false);
    assert.ok(Date.now() - started < 1_000);
    queue.close();
  });

  it('close drops what is pending, and the batch in flight if it then fails', async () => {
    const collector = new ManualCollector();
    const { queue, tally } = queueFor(collector, 10);
    queue.push(['a']);
    queue.push(['b']);
    await sleep(5);
    queue.close();
    assert.deepEqual(tally.dropped, [['b']]);
    await collector.answer(false);
    assert.deepEqual(tally.dropped, [['b'], ['a']]);
    queue.push(['c']);
    assert.deepEqual(tally.dropped, [['b'], ['a'], ['c']], 'a closed queue takes nothing');
    assert.equal(queue.size, 0);
    assert.equal(collector.open, 0);
  });
});
