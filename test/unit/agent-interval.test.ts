import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentTickMs, heartbeatPeriodMs, MIN_INTERVAL_MS, profileIntervalMs } from '../../agent/plan-interval.js';

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

  it('heartbeats at most once per tick and often enough for the operator’s 30 s staleness', () => {
    assert.equal(heartbeatPeriodMs(['1s']), 10_000);
    assert.equal(heartbeatPeriodMs(['5s', '1m']), 10_000);
    assert.equal(heartbeatPeriodMs(['1m']), 60_000, 'stale after 3 × interval: one heartbeat per interval is in time');
    assert.equal(heartbeatPeriodMs([]), 10_000);
  });
});
