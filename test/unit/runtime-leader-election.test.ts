import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../kube/clock.js';
import {
  LeaderElector,
  LeaseConflictError,
  type LeaderElectionOptions,
  type LeaseRecord,
  type LeaseStore,
  type StoredLease,
} from '../../kube/leader-election.js';

/** One Lease in memory with the API server's compare-and-swap semantics; can be made unreachable. */
class FakeLeaseStore implements LeaseStore {
  readonly description = 'fake lease';
  lease: StoredLease | undefined;
  reachable = true;
  private version = 0;

  async get(): Promise<StoredLease | undefined> {
    this.check();
    return this.lease;
  }

  async create(record: LeaseRecord): Promise<StoredLease> {
    this.check();
    if (this.lease !== undefined) throw new LeaseConflictError();
    return this.store(record);
  }

  async update(record: LeaseRecord, version: string): Promise<StoredLease> {
    this.check();
    if (this.lease?.version !== version) throw new LeaseConflictError();
    return this.store(record);
  }

  private store(record: LeaseRecord): StoredLease {
    this.lease = { record: { ...record }, version: String(++this.version) };
    return this.lease;
  }

  private check(): void {
    if (!this.reachable) throw new Error('connection refused');
  }
}

const timing = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function elector(identity: string, store: LeaseStore, clock: ManualClock, extra: Partial<LeaderElectionOptions> = {}) {
  const transitions: string[] = [];
  const instance = new LeaderElector({
    identity,
    store,
    clock,
    random: () => 0,
    ...timing,
    onStartedLeading: () => void transitions.push('started'),
    onStoppedLeading: () => void transitions.push('stopped'),
    ...extra,
  });
  return { elector: instance, transitions };
}

describe('LeaderElector', () => {
  it('acquires a missing lease and renews it every retry period', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new FakeLeaseStore();
    const a = elector('a', store, clock);
    a.elector.start();
    await clock.advance(0);
    assert.equal(a.elector.isLeader, true);
    assert.deepEqual(a.transitions, ['started']);
    assert.equal(store.lease?.record.holderIdentity, 'a');
    assert.equal(store.lease?.record.leaseTransitions, 0);
    await clock.advance(2_000);
    assert.equal(store.lease?.record.renewTimeMs, 1_002_000);
    assert.equal(store.lease?.record.acquireTimeMs, 1_000_000, 'renewal keeps the acquire time');
    await a.elector.stop();
  });

  it('exactly one of two contenders leads', async () => {
    const clock = new ManualClock();
    const store = new FakeLeaseStore();
    const a = elector('a', store, clock);
    const b = elector('b', store, clock);
    a.elector.start();
    b.elector.start();
    for (let i = 0; i < 20; i++) {
      await clock.advance(1_000);
      assert.equal(Number(a.elector.isLeader) + Number(b.elector.isLeader), 1);
    }
    await a.elector.stop();
    await b.elector.stop();
  });

  it('a graceful stop releases the lease and the follower takes over within a retry period', async () => {
    const clock = new ManualClock();
    const store = new FakeLeaseStore();
    const a = elector('a', store, clock);
    const b = elector('b', store, clock);
    a.elector.start();
    await clock.advance(0);
    b.elector.start();
    await clock.advance(5_000);
    assert.equal(b.elector.isLeader, false);
    await a.elector.stop();
    assert.deepEqual(a.transitions, ['started', 'stopped']);
    assert.equal(store.lease?.record.holderIdentity, '');
    await clock.advance(2_000 * 2.2); // one jittered retry period at most
    assert.equal(b.elector.isLeader, true);
    assert.equal(store.lease?.record.leaseTransitions, 1);
    await b.elector.stop();
  });

  it('a follower waits for a crashed leader’s lease to expire, judged by its own observation time', async () => {
    const clock = new ManualClock();
    const store = new FakeLeaseStore();
    // The lease was renewed "in the future" by a skewed clock; b must not trust that timestamp.
    store.lease = {
      version: 'x',
      record: { holderIdentity: 'crashed', leaseDurationSeconds: 15, acquireTimeMs: 9e12, renewTimeMs: 9e12, leaseTransitions: 3 },
    };
    const b = elector('b', store, clock);
    b.elector.start();
    await clock.advance(14_000);
    assert.equal(b.elector.isLeader, false);
    await clock.advance(4_000);
    assert.equal(b.elector.isLeader, true);
    assert.equal(store.lease?.record.leaseTransitions, 4);
    await b.elector.stop();
  });

  it('a leader that cannot renew steps down within the renew deadline, before its lease expires', async () => {
    const clock = new ManualClock();
    const store = new FakeLeaseStore();
    const a = elector('a', store, clock);
    a.elector.start();
    await clock.advance(0);
    store.reachable = false;
    await clock.advance(9_000);
    assert.equal(a.elector.isLeader, true);
    await clock.advance(1_000);
    assert.equal(a.elector.isLeader, false, 'stepped down after 10s without renewal');
    assert.deepEqual(a.transitions, ['started', 'stopped']);
    store.reachable = true;
    await clock.advance(4_000);
    assert.equal(a.elector.isLeader, true, 'its own unexpired lease can be re-acquired');
    await a.elector.stop();
  });

  it('steps down when a renewal hangs past the deadline', async () => {
    const clock = new ManualClock();
    const store = new FakeLeaseStore();
    const a = elector('a', store, clock);
    a.elector.start();
    await clock.advance(0);
    store.get = () => new Promise(() => {});
    await clock.advance(12_000);
    assert.equal(a.elector.isLeader, false);
    await a.elector.stop();
  });

  it('rejects timings where the lease could expire before the leader notices', () => {
    const store = new FakeLeaseStore();
    assert.throws(() => new LeaderElector({ identity: 'a', store, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }));
    assert.throws(() => new LeaderElector({ identity: 'a', store, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }));
  });
});
