import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentTickMs, MIN_INTERVAL_MS, profileIntervalMs, statusPeriodMs } from '../../agent/plan-interval.js';

describe('profileIntervalMs', () => {
  it('reads Go durations', () => {
    assert.equal(profileIntervalMs('10s'), 10_000);
    assert.equal(profileIntervalMs('1m30s'), 90_000);
    assert.equal(profileIntervalMs('1.5s'), 1500);
  });

  it('never goes below the floor, and defaults what it cannot read', () => {
    assert.equal(profileIntervalMs('10ms'), MIN_INTERVAL_MS);
    assert.equal(profileIntervalMs('ten seconds'), 10_000);
    assert.equal(profileIntervalMs(''), 10_000);
  });
});

describe('agent timing', () => {
  it('wakes at the shortest interval, or the default with no profiles', () => {
    assert.equal(agentTickMs(['30s', '5s', '1m']), 5000);
    assert.equal(agentTickMs([]), 10_000);
  });

  it('writes status at the shortest interval, never more often than the plan allows', () => {
    assert.equal(statusPeriodMs(['5s', '1m'], undefined), 5_000);
    assert.equal(statusPeriodMs(['5s', '1m'], 5), 5_000);
    assert.equal(statusPeriodMs(['5s', '1m'], 120), 120_000, 'a large cluster: the operator\'s report interval');
    assert.equal(statusPeriodMs(['2m'], 30), 120_000);
  });
});
