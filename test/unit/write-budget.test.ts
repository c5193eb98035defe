// The write budget's arithmetic: agents' report interval by cluster size, with
// hysteresis, and the operator's share for results-only profile writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentReportIntervalMs, AGENT_WRITES_PER_SECOND, resultsWriteDueMs, resultsWriteGapMs, WRITE_BUDGET_PER_SECOND } from '../../operator/write-budget.js';

describe('agentReportIntervalMs', () => {
  it('leaves small clusters to the profiles\' intervals (5 s at least) and grows in 5 s steps', () => {
    assert.equal(agentReportIntervalMs(1), 5_000);
    assert.equal(agentReportIntervalMs(230), 5_000);
    assert.equal(agentReportIntervalMs(231), 10_000);
    assert.equal(agentReportIntervalMs(461), 15_000);
    assert.equal(agentReportIntervalMs(5_000), 110_000);
  });

  it('keeps 5,000 agents within their share and their reports 10 s inside 2 minutes, for a write that lands late', () => {
    const intervalMs = agentReportIntervalMs(5_000);
    assert.ok(5_000 / (intervalMs / 1000) <= AGENT_WRITES_PER_SECOND);
    assert.ok(intervalMs <= 110_000);
  });

  it('grows at once but shrinks only once the cluster needs 20% less', () => {
    assert.equal(agentReportIntervalMs(5_000, 60_000), 110_000);
    assert.equal(agentReportIntervalMs(4_700, 110_000), 110_000, 'a few nodes fewer keep the interval');
    assert.equal(agentReportIntervalMs(3_900, 110_000), 85_000);
    assert.equal(agentReportIntervalMs(10, 110_000), 5_000);
  });
});

describe('resultsWriteGapMs', () => {
  it('gives the profiles what the agents leave of the budget', () => {
    const gap = resultsWriteGapMs(5_000, 110_000, 500);
    // With the Lease's one write per 1.5 s and a few Events.
    const total = 5_000 / 110 + 500 / (gap / 1000) + 1.5;
    assert.ok(total <= WRITE_BUDGET_PER_SECOND + 1e-9, `total ${total}/s`);
    assert.equal(gap, 164_180);
  });

  it('lets a small cluster write often, never more than once a second', () => {
    // 200 agents at the 5 s floor would write 40/s: 50 profiles share the other 8.5/s.
    assert.equal(resultsWriteGapMs(200, agentReportIntervalMs(200), 50), 5_883);
    assert.equal(resultsWriteGapMs(3, 5_000, 1), 1_000);
  });
});

describe('resultsWriteDueMs', () => {
  it('writes a profile never written at once', () => {
    assert.equal(resultsWriteDueMs('uid-a', undefined, 164_000), -Infinity);
  });

  it('spreads the next results writes of profiles written in the same second over the gap', () => {
    const tenths = new Array<number>(10).fill(0);
    for (let i = 0; i < 500; i++) {
      const dueMs = resultsWriteDueMs(`${String(i).padStart(8, '0')}-aaaa-bbbb-cccc-000000000000`, 1_000_000, 164_000);
      assert.ok(dueMs > 1_000_000 && dueMs <= 1_000_000 + 164_000, `due ${dueMs - 1_000_000} ms after the write`);
      tenths[Math.floor(((dueMs - 1_000_001) / 164_000) * 10)]! += 1;
    }
    for (const count of tenths) assert.ok(count > 25 && count < 75, `a tenth of the gap holds ${count} of 500 profiles' next writes`);
  });

  it('keeps one profile to one results write per gap, at the same point of each', () => {
    const first = resultsWriteDueMs('uid-a', 0, 60_000);
    const second = resultsWriteDueMs('uid-a', first, 60_000);
    assert.equal(second - first, 60_000);
  });
});
