// A per-object work queue in the manner of client-go's workqueue: keys, not
// events, are queued, so a burst of changes to one object costs one
// reconcile, and a reconcile always reads the latest state from the cache.
import type { Logger } from 'pino';
import { backoffDelayMs, reconcileRetryBackoff, type BackoffPolicy } from './backoff.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';

export type Reconcile = (key: string) => Promise<void>;

export interface WorkQueueOptions {
  /** Reconciles running at once across different keys. */
  concurrency?: number;
  retryBackoff?: BackoffPolicy;
  /** Failed attempts after which a key is dropped until its next change; Infinity retries forever. */
  maxRetries?: number;
  /** Minimum time between the starts of two reconciles of the same key. */
  perKeyMinIntervalMs?: number;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

export class WorkQueue {
  private readonly concurrency: number;
  private readonly retryBackoff: BackoffPolicy;
  private readonly maxRetries: number;
  private readonly perKeyMinIntervalMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger | undefined;

  /** Keys waiting to run; a key added again while here coalesces. */
  private readonly pending = new Set<string>();
  /** Pending keys that may start now, in arrival order. */
  private ready: string[] = [];
  private readonly processing = new Set<string>();
  /** Pending keys held back by the per-key rate limit. */
  private readonly throttled = new Map<string, TimerHandle>();
  /** Keys scheduled by addAfter (retries, requeues), not yet pending. */
  private readonly delayed = new Map<string, { at: number; timer: TimerHandle }>();
  private readonly lastStarted = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private running = false;
  private shuttingDown = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly reconcile: Reconcile,
    options: WorkQueueOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.retryBackoff = options.retryBackoff ?? reconcileRetryBackoff;
    this.maxRetries = options.maxRetries ?? Infinity;
    this.perKeyMinIntervalMs = options.perKeyMinIntervalMs ?? 0;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = options.logger;
  }

  /** Starts (or resumes) dispatching keys to the reconcile function. */
  start(): void {
    if (this.shuttingDown) return;
    this.running = true;
    this.pump();
  }

  /** Stops starting new reconciles; running ones finish, queued keys stay queued. */
  pause(): void {
    this.running = false;
    if (this.isIdle()) this.notifyIdle();
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Keys pending or delayed, not counting those in flight. */
  get length(): number {
    return this.pending.size + this.delayed.size;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    this.cancelDelayed(key);
    if (this.pending.has(key)) {
      if (!this.running) this.moveToFront(key);
      return;
    }
    this.pending.add(key);
    if (!this.processing.has(key)) this.makeReady(key);
  }

  /** Adds key after delayMs; an earlier schedule or a plain add() wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    if (this.pending.has(key)) return;
    const at = this.clock.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing !== undefined && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimer(delayMs, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { at, timer });
  }

  /** Failed attempts so far for key (0 after a success). */
  retriesOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /**
   * Graceful stop: no new keys or retries are accepted, keys already pending
   * still run (if the queue is running), and the promise resolves when all is
   * done or after timeoutMs, whichever is first. Returns whether it drained.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.shuttingDown = true;
    for (const key of [...this.delayed.keys()]) this.cancelDelayed(key);
    if (!this.running) this.dropPending();
    if (this.isIdle()) return true;
    let timer: TimerHandle | undefined;
    const drained = await Promise.race([
      new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = this.clock.setTimer(timeoutMs, () => resolve(false)))),
    ]);
    timer?.cancel();
    this.running = false;
    this.dropPending();
    return drained;
  }

  private makeReady(key: string): void {
    const notBefore = (this.lastStarted.get(key) ?? -Infinity) + this.perKeyMinIntervalMs;
    const waitMs = notBefore - this.clock.now();
    if (waitMs > 0) {
      if (this.throttled.has(key)) return;
      const timer = this.clock.setTimer(waitMs, () => {
        this.throttled.delete(key);
        if (this.pending.has(key) && !this.processing.has(key)) this.makeReady(key);
      });
      this.throttled.set(key, timer);
      return;
    }
    this.ready.push(key);
    this.pump();
  }

  /**
   * Paused (a standby replica, or one that lost its Lease), a key that changes
   * again goes first: on taking over, what changed while no one led is
   * reconciled before the sweep of every key the first list queued.
   */
  private moveToFront(key: string): void {
    const at = this.ready.indexOf(key);
    if (at <= 0) return; // throttled, or already first
    this.ready.splice(at, 1);
    this.ready.unshift(key);
  }

  private pump(): void {
    while (this.running && this.processing.size < this.concurrency && this.ready.length > 0) {
      const key = this.ready.shift() as string;
      this.pending.delete(key);
      this.processing.add(key);
      this.lastStarted.set(key, this.clock.now());
      void this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    try {
      await this.reconcile(key);
      this.failures.delete(key);
    } catch (error) {
      this.onFailure(key, error);
    } finally {
      this.processing.delete(key);
      if (this.pending.has(key)) this.makeReady(key);
      this.pump();
      if (this.isIdle()) this.notifyIdle();
    }
  }

  private onFailure(key: string, error: unknown): void {
    const attempt = (this.failures.get(key) ?? 0) + 1;
    if (attempt > this.maxRetries) {
      this.failures.delete(key);
      this.logger?.error({ key, err: error, attempts: attempt }, 'reconcile failed; giving up until the object changes');
      return;
    }
    this.failures.set(key, attempt);
    const delayMs = backoffDelayMs(this.retryBackoff, attempt, this.random);
    this.logger?.warn({ key, err: error, attempt, retryInMs: Math.round(delayMs) }, 'reconcile failed; will retry');
    this.addAfter(key, delayMs);
  }

  private cancelDelayed(key: string): void {
    this.delayed.get(key)?.timer.cancel();
    this.delayed.delete(key);
  }

  private dropPending(): void {
    for (const timer of this.throttled.values()) timer.cancel();
    this.throttled.clear();
    this.pending.clear();
    this.ready = [];
  }

  private isIdle(): boolean {
    return this.processing.size === 0 && (this.pending.size === 0 || !this.running);
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
