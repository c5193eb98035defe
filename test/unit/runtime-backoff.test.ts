import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs, watchRestartBackoff } from '../../kube/backoff.js';

describe('backoffDelayMs', () => {
  const policy = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 };

  it('doubles from the initial delay', () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelayMs(policy, n)), [100, 200, 400, 800]);
  });

  it('is capped at the maximum, even for huge attempt counts', () => {
    assert.equal(backoffDelayMs(policy, 5), 1000);
    assert.equal(backoffDelayMs(policy, 10_000), 1000);
  });

  it('treats attempt 0 like the first', () => {
    assert.equal(backoffDelayMs(policy, 0), 100);
  });

  it('adds up to jitter × delay, still under the cap', () => {
    const jittered = { ...policy, jitter: 0.5 };
    assert.equal(backoffDelayMs(jittered, 2, () => 0), 200);
    assert.equal(backoffDelayMs(jittered, 2, () => 1), 300);
    assert.equal(backoffDelayMs(jittered, 4, () => 1), 1000);
  });

  it("matches client-go's watch restart backoff (800ms → 30s)", () => {
    assert.equal(backoffDelayMs(watchRestartBackoff, 1, () => 0), 800);
    assert.equal(backoffDelayMs(watchRestartBackoff, 20, () => 0), 30_000);
  });
});
