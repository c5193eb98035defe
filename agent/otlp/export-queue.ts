// A bounded queue of pending exports with one send in flight: when the
// collector is away the head batch is retried with exponential backoff, and
// when the bound is hit the oldest batches go (counted) so memory stays
// bounded. Cumulative metrics make a dropped batch cost resolution, not totals.
// Sends never reject into the caller: push() only enqueues.

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export interface ExportQueueOptions<T> {
  /** Sends one batch; rejects to have it retried. */
  send(batch: T): Promise<void>;
  /** What a batch weighs against capacity (1 per batch, or its record count); constant while queued. */
  sizeOf(batch: T): number;
  capacity: number;
  onDropped(batch: T): void;
  onFailed(error: Error): void;
  onSucceeded(): void;
  backoff?: Backoff;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };

export class ExportQueue<T> {
  private readonly pending: T[] = [];
  private pendingSize = 0;
  private inFlight = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: ExportQueueOptions<T>) {}

  /** Batches and their total size waiting (the one in flight included). */
  get size(): number {
    return this.pendingSize;
  }

  push(batch: T): void {
    if (this.closed) {
      this.options.onDropped(batch);
      return;
    }
    this.pending.push(batch);
    this.pendingSize += this.options.sizeOf(batch);
    this.enforceCapacity();
    this.pump();
  }

  /**
   * Sends what is pending now, without waiting out a backoff, and resolves
   * true once the queue is empty, or false after timeoutMs.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.pump();
    }
    if (this.isIdle()) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Stops retrying and drops what is still pending; a send in flight still settles. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const dropFrom = this.inFlight ? 1 : 0;
    for (const batch of this.pending.splice(dropFrom)) {
      this.pendingSize -= this.options.sizeOf(batch);
      this.options.onDropped(batch);
    }
    this.notifyIfIdle();
  }

  private isIdle(): boolean {
    return this.pending.length === 0 && !this.inFlight;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Drops oldest first; the batch in flight (always pending[0]) is never dropped under the sender. */
  private enforceCapacity(): void {
    const first = this.inFlight ? 1 : 0;
    while (this.pendingSize > this.options.capacity && this.pending.length > first) {
      const [dropped] = this.pending.splice(first, 1) as [T];
      this.pendingSize -= this.options.sizeOf(dropped);
      this.options.onDropped(dropped);
    }
  }

  private pump(): void {
    if (this.inFlight || this.retryTimer || this.closed || this.pending.length === 0) return;
    const batch = this.pending[0]!;
    this.inFlight = true;
    // A send that throws synchronously is a failed send, not the caller's exception.
    Promise.resolve()
      .then(() => this.options.send(batch))
      .then(
        () => this.settle(batch, undefined),
        (err: unknown) => this.settle(batch, err instanceof Error ? err : new Error(String(err))),
      );
  }

  private settle(batch: T, error: Error | undefined): void {
    this.inFlight = false;
    if (error === undefined || this.closed) {
      this.pending.shift();
      this.pendingSize -= this.options.sizeOf(batch);
      if (error === undefined) this.options.onSucceeded();
      else this.options.onDropped(batch);
    }
    if (error === undefined) {
      this.retryDelayMs = 0;
      this.pump();
    } else {
      this.options.onFailed(error);
      if (!this.closed) {
        // More batches may have arrived while this one was in flight.
        this.enforceCapacity();
        this.scheduleRetry();
      }
    }
    this.notifyIfIdle();
  }

  private scheduleRetry(): void {
    const { initialMs, maxMs } = this.options.backoff ?? DEFAULT_BACKOFF;
    this.retryDelayMs = this.retryDelayMs === 0 ? initialMs : Math.min(this.retryDelayMs * 2, maxMs);
    // ±20% jitter so many agents do not return to a collector in lockstep.
    const delay = this.retryDelayMs * (0.8 + Math.random() * 0.4);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, delay);
    this.retryTimer.unref();
  }
}
