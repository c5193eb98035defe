// Leader election on a Lease, following client-go's leaderelection: acquire
// or renew every retry period with optimistic concurrency on the lease's
// version, judge expiry by when *we* last saw the record change (so clock skew
// between replicas does not matter), and give up leadership when renewals
// have failed for the renew deadline, before the lease can expire for others.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { sleep, systemClock, type Clock } from './clock.js';

export interface LeaseRecord {
  /** Empty when released. */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTimeMs: number;
  renewTimeMs: number;
  leaseTransitions: number;
}

export interface StoredLease {
  record: LeaseRecord;
  /** Opaque version for compare-and-swap (resourceVersion for a Lease object). */
  version: string;
}

/** Thrown by a LeaseStore when a create or update lost a race. */
export class LeaseConflictError extends Error {
  constructor(message = 'lease was changed concurrently') {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

export interface LeaseStore {
  readonly description: string;
  get(): Promise<StoredLease | undefined>;
  create(record: LeaseRecord): Promise<StoredLease>;
  update(record: LeaseRecord, version: string): Promise<StoredLease>;
}

export interface LeaderElectionOptions {
  identity: string;
  store: LeaseStore;
  /** How long a lease stays valid without renewal. client-go default 15s. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failed renewal before stepping down. client-go default 10s. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. client-go default 2s. */
  retryPeriodMs?: number;
  onStartedLeading?: () => void | Promise<void>;
  onStoppedLeading?: () => void | Promise<void>;
  onNewLeader?: (identity: string) => void;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

/** client-go's JitterFactor for acquire retries. */
const acquireJitter = 1.2;

export class LeaderElector {
  readonly identity: string;
  private readonly store: LeaseStore;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger | undefined;
  private readonly callbacks: Pick<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader'>;

  private observed: StoredLease | undefined;
  private observedTimeMs = 0;
  private leading = false;
  private lastReportedLeader: string | undefined;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    const leaseDurationMs = options.leaseDurationMs ?? 15_000;
    const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    const retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (leaseDurationMs < 1000) throw new Error('leaseDurationMs must be at least 1000 (Lease durations are whole seconds)');
    if (renewDeadlineMs >= leaseDurationMs) throw new Error('renewDeadlineMs must be shorter than leaseDurationMs');
    if (retryPeriodMs * acquireJitter >= renewDeadlineMs) throw new Error('retryPeriodMs * 1.2 must be shorter than renewDeadlineMs');
    this.identity = options.identity;
    this.store = options.store;
    this.leaseDurationSeconds = Math.ceil(leaseDurationMs / 1000);
    this.renewDeadlineMs = renewDeadlineMs;
    this.retryPeriodMs = retryPeriodMs;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = options.logger;
    this.callbacks = options;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Identity of the holder as last observed ('' if released or unknown). */
  get observedLeader(): string {
    return this.observed?.record.holderIdentity ?? '';
  }

  /** Starts contending; runs until stop(). Idempotent. */
  start(): void {
    if (this.loop !== undefined) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /** Stops contending; a leader steps down (onStoppedLeading) and releases the lease so a peer takes over at once. */
  async stop(): Promise<void> {
    if (this.loop === undefined) return;
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.acquire(signal);
      if (signal.aborted) break;
      await this.setLeading(true);
      await this.renewUntilLost(signal);
      await this.setLeading(false);
    }
    await this.release();
  }

  private async acquire(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (await untilAborted(this.tryAcquireOrRenew(), signal)) return;
      await sleep(this.clock, this.retryPeriodMs * (1 + acquireJitter * this.random()), signal);
    }
  }

  /** Returns when the lease could not be renewed within the renew deadline, or on stop. */
  private async renewUntilLost(signal: AbortSignal): Promise<void> {
    let lastRenewMs = this.clock.now();
    // A renewal can miss its deadline because the API server is slow or because this process
    // kept its own event loop busy; the warning says which.
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
    try {
      while (!signal.aborted) {
        await sleep(this.clock, this.retryPeriodMs, signal);
        if (signal.aborted) return;
        const deadlineMs = lastRenewMs + this.renewDeadlineMs - this.clock.now();
        const renewed = await this.withDeadline(this.tryAcquireOrRenew(), deadlineMs);
        if (renewed) {
          lastRenewMs = this.clock.now();
          loopDelay.reset();
        } else if (this.clock.now() - lastRenewMs >= this.renewDeadlineMs) {
          const eventLoopDelayMaxMs = Math.round(loopDelay.max / 1e6);
          this.logger?.warn({ lease: this.store.description, eventLoopDelayMaxMs }, 'failed to renew lease within the renew deadline');
          return;
        }
      }
    } finally {
      loopDelay.disable();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    let current: StoredLease | undefined;
    try {
      current = await this.store.get();
    } catch (error) {
      this.logger?.warn({ err: error, lease: this.store.description }, 'cannot read lease');
      return false;
    }
    const fresh: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationSeconds,
      acquireTimeMs: now,
      renewTimeMs: now,
      leaseTransitions: 0,
    };
    if (current === undefined) return this.write(() => this.store.create(fresh));

    if (this.observed?.version !== current.version) {
      this.observed = current;
      this.observedTimeMs = now;
      this.reportLeader(current.record.holderIdentity);
    }
    const held = current.record;
    const heldByOther = held.holderIdentity !== '' && held.holderIdentity !== this.identity;
    if (heldByOther && this.observedTimeMs + held.leaseDurationSeconds * 1000 > now) return false;

    const next: LeaseRecord =
      held.holderIdentity === this.identity
        ? { ...fresh, acquireTimeMs: held.acquireTimeMs, leaseTransitions: held.leaseTransitions }
        : { ...fresh, leaseTransitions: held.leaseTransitions + 1 };
    return this.write(() => this.store.update(next, current.version));
  }

  private async write(attempt: () => Promise<StoredLease>): Promise<boolean> {
    try {
      const written = await attempt();
      this.observed = written;
      this.observedTimeMs = this.clock.now();
      this.reportLeader(written.record.holderIdentity);
      return true;
    } catch (error) {
      if (!(error instanceof LeaseConflictError)) this.logger?.warn({ err: error, lease: this.store.description }, 'cannot write lease');
      return false;
    }
  }

  /** Hands the lease back so a peer need not wait for it to expire. */
  private async release(): Promise<void> {
    const observed = this.observed;
    if (observed === undefined || observed.record.holderIdentity !== this.identity) return;
    const now = this.clock.now();
    const released: LeaseRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTimeMs: now,
      renewTimeMs: now,
      leaseTransitions: observed.record.leaseTransitions,
    };
    try {
      this.observed = await this.store.update(released, observed.version);
      this.logger?.info({ lease: this.store.description }, 'released lease');
    } catch (error) {
      this.logger?.warn({ err: error, lease: this.store.description }, 'cannot release lease; peers will wait for it to expire');
    }
  }

  private async setLeading(leading: boolean): Promise<void> {
    if (this.leading === leading) return;
    this.leading = leading;
    this.logger?.info({ lease: this.store.description, identity: this.identity }, leading ? 'started leading' : 'stopped leading');
    const callback = leading ? this.callbacks.onStartedLeading : this.callbacks.onStoppedLeading;
    try {
      await callback?.();
    } catch (error) {
      this.logger?.error({ err: error }, leading ? 'onStartedLeading failed' : 'onStoppedLeading failed');
    }
  }

  private reportLeader(identity: string): void {
    if (identity === '' || identity === this.lastReportedLeader) return;
    this.lastReportedLeader = identity;
    this.callbacks.onNewLeader?.(identity);
  }

  /** Resolves false if the attempt does not finish within ms (the attempt keeps running, its result ignored). */
  private withDeadline(attempt: Promise<boolean>, ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = this.clock.setTimer(ms, () => resolve(false));
      void attempt.then((ok) => {
        timer.cancel();
        resolve(ok);
      });
    });
  }
}

/** Resolves false as soon as signal aborts, so stop() does not wait on a hung request. */
function untilAborted(attempt: Promise<boolean>, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    void attempt.then((ok) => {
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    });
  });
}
