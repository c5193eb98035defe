// When an agent writes its status: at its node's slot of each period, news
// or a heartbeat; after a plan change at once in a small cluster and within a
// window in a large one; spread over the period across nodes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeTracePlanStatus } from '../../api/nodetraceplan.js';
import { newsSpreadMs, StatusReporter } from '../../agent/status-reporter.js';
import { nextSlotMs, slotPhase } from '../../api/write-slot.js';

const status = (execs: number, atMs: number): NodeTracePlanStatus => ({
  heartbeat: new Date(atMs).toISOString(),
  profiles: [{ uid: 'p', state: 'Running', probesLoaded: ['exec'], targets: { resolved: 1 }, results: { exec: { execs, exits: execs, topCommands: [] } } }],
});

describe('slotPhase and nextSlotMs', () => {
  it('spreads 5,000 nodes evenly over the period', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 5_000; i++) buckets[Math.floor(slotPhase(`node-${String(i).padStart(4, '0')}`) * 10)]! += 1;
    for (const count of buckets) assert.ok(count > 400 && count < 600, `a tenth of the period holds ${count} of 5,000 nodes`);
  });

  it('puts the slot at the phase of the period, at or after now', () => {
    assert.equal(nextSlotMs(1_000, 120_000, 0.25), 30_000);
    assert.equal(nextSlotMs(30_000, 120_000, 0.25), 30_000);
    assert.equal(nextSlotMs(30_001, 120_000, 0.25), 150_000);
  });
});

describe('StatusReporter', () => {
  it('writes once per period at its slot, news or heartbeat, and at once on a plan change in a small cluster', async () => {
    const writes: number[] = [];
    let now = 0;
    const reporter = new StatusReporter('node-a', async () => void writes.push(now));
    const period = 120_000;
    const slot = nextSlotMs(0, period, slotPhase('node-a'));

    // Its first plan: written at once.
    reporter.planChanged(now, newsSpreadMs(5));
    assert.equal(await reporter.offer(status(1, now), now, period, false), 'written');
    // New results before the slot wait for it.
    now = slot - 1;
    assert.equal(await reporter.offer(status(2, now), now, period, false), 'not due');
    assert.equal(reporter.nextDueMs(now, period), slot);
    now = slot;
    assert.equal(await reporter.offer(status(2, now), now, period, false), 'written');
    // The same results at the next slot: written anyway, as the heartbeat.
    now = slot + period;
    assert.equal(await reporter.offer(status(2, now), now, period, false), 'written');
    // A plan change with news goes out between slots; without news it waits.
    now += 10_000;
    reporter.planChanged(now, newsSpreadMs(5));
    assert.equal(await reporter.offer(status(2, now), now, period, false), 'not due');
    reporter.planChanged(now, newsSpreadMs(undefined));
    assert.equal(await reporter.offer(status(3, now), now, period, false), 'written');
    assert.deepEqual(writes, [0, slot, slot + period, slot + period + 10_000]);
  });

  it('in a large cluster reports a plan change at its point of the window, once, and stopping at once', async () => {
    const writes: number[] = [];
    let now = 0;
    const reporter = new StatusReporter('node-a', async () => void writes.push(now));
    const period = 120_000;
    const spread = newsSpreadMs(120);
    assert.equal(spread, 115_000);
    const newsAt = slotPhase('node-a') * spread;
    assert.ok(newsAt < nextSlotMs(0, period, slotPhase('node-a')), 'the window comes before the slot here');

    reporter.planChanged(now, spread);
    assert.equal(reporter.nextDueMs(now, period), newsAt);
    now = newsAt - 1;
    assert.equal(await reporter.offer(status(1, now), now, period, false), 'not due');
    now = newsAt;
    assert.equal(await reporter.offer(status(1, now), now, period, false), 'written');
    // Its news is out: the next is the slot, not the window again.
    now += 1;
    assert.equal(await reporter.offer(status(2, now), now, period, false), 'not due');
    assert.equal(reporter.nextDueMs(now, period), nextSlotMs(0, period, slotPhase('node-a')));
    // Stopping writes at once whatever the window.
    reporter.planChanged(now, spread);
    assert.equal(await reporter.offer(status(3, now), now, period, true), 'written');
    assert.deepEqual(writes, [newsAt, newsAt + 1]);
  });

  it('spreads 5,000 nodes\' reports of one plan change over the window at the budget\'s rate', async () => {
    const spread = newsSpreadMs(120);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 5_000; i++) {
      const reporter = new StatusReporter(`node-${String(i).padStart(4, '0')}`, async () => {});
      reporter.planChanged(0, spread);
      buckets[Math.floor((10 * reporter.nextDueMs(0, 120_000)) / spread)]! += 1;
    }
    // 5,000 writes over 115 s: about 43 a second, where all at once would be 5,000 in the same second.
    for (const count of buckets) assert.ok(count > 400 && count < 600, `a tenth of the window holds ${count} of 5,000 reports`);
  });

  it('does not retry a failed report of a plan change before the slot', async () => {
    let fail = true;
    const reporter = new StatusReporter('node-d', async () => {
      if (fail) throw new Error('503');
    });
    reporter.planChanged(0, 0);
    await assert.rejects(reporter.offer(status(1, 0), 0, 120_000, false));
    fail = false;
    const slot = nextSlotMs(0, 120_000, slotPhase('node-d'));
    assert.equal(reporter.nextDueMs(1, 120_000), slot);
    assert.equal(await reporter.offer(status(1, 1), 1, 120_000, false), 'not due');
  });

  it('with a short period skips slots without news until the 10 s heartbeat', async () => {
    let now = 0;
    let written = 0;
    const reporter = new StatusReporter('node-b', async () => void written++);
    reporter.planChanged(0, 0);
    await reporter.offer(status(1, 0), 0, 1_000, false);
    for (now = 1_000; now <= 30_000; now += 1_000) await reporter.offer(status(1, now), now, 1_000, false);
    assert.equal(written, 1 + 3, 'one heartbeat per 10 s');
  });

  it('is due again after a failed write', async () => {
    let fail = true;
    const reporter = new StatusReporter('node-c', async () => {
      if (fail) throw new Error('503');
    });
    await assert.rejects(reporter.offer(status(1, 0), 0, 5_000, true));
    fail = false;
    assert.equal(await reporter.offer(status(1, 0), 0, 5_000, true), 'written');
  });
});
