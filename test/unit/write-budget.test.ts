// The write budget's arithmetic: agents' report interval by cluster size, with
// hysteresis, and the operator's share for results-only profile writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentReportIntervalMs, AGENT_WRITES_PER_SECOND, resultsWriteGapMs, WRITE_BUDGET_PER_SECOND } from '../../operator/write-budget.js';

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
