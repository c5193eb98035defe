// An informer in the manner of client-go's reflector: list, then watch from
// the list's resourceVersion; on a dropped watch resume from the last
// resourceVersion seen, on 410 Gone relist (diffing against the cache so
// handlers still see every add, change and delete), back off exponentially
// while the server is unreachable, and periodically replay the cache (resync)
// so level-triggered reconcilers catch up on anything they missed.
//
// client-node's own ListWatch stops for good on a watch error and has no
// resync, which is why this is ours; its watches stream through KubeHttp.
//
// An optional transform (client-go's SetTransform) maps every object before
// it is cached or handed to handlers: list items as each page arrives, watch
// events as they come, so a cache of trimmed objects never holds more than
// one page of full ones.
import type { Logger } from 'pino';
import { isGone } from './api-error.js';
import { backoffDelayMs, watchRestartBackoff, type BackoffPolicy } from './backoff.js';
import { sleep, systemClock, type Clock, type TimerHandle } from './clock.js';
import type { KubeObject } from './kube-object.js';
import { ObjectCache, type CacheQuery, type ObjectReader } from './object-cache.js';

/** One page of a list; the last page's resourceVersion is the list's, the one to watch from. */
export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchHandle {
  abort(): void;
}

/** Where an informer gets its data; the Kubernetes one is in list-watch.ts, tests use fakes. */
export interface ListWatchSource<T extends KubeObject> {
  readonly description: string;
  /** The whole list, a page at a time (the next page is requested once the consumer has taken this one). */
  list(): AsyncIterable<ListPage<T>>;
  /** Streams events (type, object) from resourceVersion until the watch closes; onClose gets the error, if any. */
  watch(resourceVersion: string, onEvent: (type: string, object: unknown) => void, onClose: (error?: unknown) => void): Promise<WatchHandle>;
}

export type InformerEventType = 'added' | 'modified' | 'deleted' | 'resync';

export interface InformerEvent<T extends KubeObject> {
  type: InformerEventType;
  object: T;
  /** The cached object this event replaced (modified, deleted). */
  previous?: T;
}

export type InformerHandler<T extends KubeObject> = (event: InformerEvent<T>) => void;

/** Maps an object as received (list item or watch event object) to what the informer caches. */
export type ObjectTransform<T extends KubeObject> = (object: unknown) => T;

export interface InformerOptions<T extends KubeObject = KubeObject> {
  /** Applied to every object before it is cached or handed to handlers; it must keep metadata.name, namespace and resourceVersion. */
  transform?: ObjectTransform<T>;
  /** Replay every cached object to handlers this often; 0 disables. */
  resyncPeriodMs?: number;
  watchBackoff?: BackoffPolicy;
  /** A watch that closes sooner than this without delivering anything counts as a failure, so it backs off. */
  minHealthyWatchMs?: number;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

interface WatchOutcome {
  error?: unknown;
  gone: boolean;
  events: number;
  durationMs: number;
}

export class Informer<T extends KubeObject> implements ObjectReader<T> {
  private readonly cache = new ObjectCache<T>();
  private readonly handlers = new Set<InformerHandler<T>>();
  private readonly resyncPeriodMs: number;
  private readonly watchBackoff: BackoffPolicy;
  private readonly minHealthyWatchMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger | undefined;
  private readonly transform: ObjectTransform<T>;

  private resourceVersion = '';
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private resyncTimer: TimerHandle | undefined;

  constructor(
    private readonly source: ListWatchSource<KubeObject>,
    options: InformerOptions<T> = {},
  ) {
    this.transform = options.transform ?? ((object) => object as T);
    this.resyncPeriodMs = options.resyncPeriodMs ?? 10 * 60_000;
    this.watchBackoff = options.watchBackoff ?? watchRestartBackoff;
    this.minHealthyWatchMs = options.minHealthyWatchMs ?? 1000;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = options.logger?.child({ informer: source.description });
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  start(): void {
    if (this.loop !== undefined) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    if (this.loop === undefined) return;
    this.abort.abort();
    this.resyncTimer?.cancel();
    await this.loop;
    this.loop = undefined;
  }

  /** True once the first list has been loaded into the cache. */
  get hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** The resourceVersion the next watch resumes from ('' means the next step is a relist). */
  get lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(name, namespace);
  }

  getByKey(key: string): T | undefined {
    return this.cache.getByKey(key);
  }

  list(query?: CacheQuery): T[] {
    return this.cache.list(query);
  }

  keys(): string[] {
    return this.cache.keys();
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === '') await this.relist();
        if (signal.aborted) break;
        const outcome = await this.watchOnce(signal);
        if (signal.aborted) break;
        if (outcome.gone || isGone(outcome.error)) {
          this.logger?.info('watch resourceVersion too old (410 Gone); relisting');
          this.resourceVersion = '';
          failures = 0;
          continue;
        }
        if (outcome.error !== undefined) throw outcome.error;
        if (outcome.events === 0 && outcome.durationMs < this.minHealthyWatchMs) throw new Error('watch closed immediately');
        failures = 0;
        this.logger?.debug({ resourceVersion: this.resourceVersion }, 'watch closed; resuming');
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          this.resourceVersion = '';
          continue;
        }
        failures++;
        const delayMs = backoffDelayMs(this.watchBackoff, failures, this.random);
        this.logger?.warn({ err: error, failures, retryInMs: Math.round(delayMs) }, 'list/watch failed; backing off');
        await sleep(this.clock, delayMs, signal);
      }
    }
  }

  private async relist(): Promise<void> {
    // Transformed page by page; the cache changes only once the whole list is in, so a list failing halfway changes nothing.
    const items: T[] = [];
    let resourceVersion = '';
    for await (const page of this.source.list()) {
      for (const item of page.items) items.push(this.transform(item));
      resourceVersion = page.resourceVersion;
    }
    const seen = new Set<T>();
    const events: InformerEvent<T>[] = [];
    for (const object of items) {
      seen.add(object);
      const previous = this.cache.put(object);
      if (previous === undefined) events.push({ type: 'added', object });
      else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) events.push({ type: 'modified', object, previous });
    }
    for (const cached of this.cache.list()) {
      if (seen.has(cached)) continue;
      this.cache.remove(cached);
      events.push({ type: 'deleted', object: cached, previous: cached });
    }
    this.resourceVersion = resourceVersion;
    this.logger?.debug({ items: items.length, resourceVersion }, 'listed');
    for (const event of events) this.emit(event);
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private watchOnce(signal: AbortSignal): Promise<WatchOutcome> {
    const startedMs = this.clock.now();
    return new Promise<WatchOutcome>((resolve) => {
      let events = 0;
      let gone = false;
      let watchError: unknown;
      let closed = false;
      let handle: WatchHandle | undefined;
      const close = (error?: unknown): void => {
        if (closed) return;
        closed = true;
        signal.removeEventListener('abort', onAbort);
        // Also closes the connection when we, not the server, end the watch.
        handle?.abort();
        resolve({ error: error ?? watchError, gone, events, durationMs: this.clock.now() - startedMs });
      };
      const onAbort = (): void => close();
      signal.addEventListener('abort', onAbort, { once: true });
      const onEvent = (type: string, object: unknown): void => {
        if (closed) return;
        events++;
        if (type === 'ERROR') {
          const status = object as { code?: number; message?: string };
          if (status.code === 410) gone = true;
          else watchError = new Error(`watch error ${status.code ?? '?'}: ${status.message ?? ''}`);
          return;
        }
        try {
          this.applyWatchEvent(type, object);
        } catch (error) {
          // A transform that throws: back off and resume from the event, as after a server error.
          close(error);
        }
      };
      this.source.watch(this.resourceVersion, onEvent, close).then(
        (opened) => {
          if (closed) opened.abort();
          else handle = opened;
        },
        (error: unknown) => close(error),
      );
    });
  }

  private applyWatchEvent(type: string, received: unknown): void {
    // Transformed first, so a transform that throws fails the watch before resourceVersion moves past the event.
    const object = type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED' ? this.transform(received) : undefined;
    const resourceVersion = (received as KubeObject).metadata?.resourceVersion;
    if (resourceVersion) this.resourceVersion = resourceVersion;
    // BOOKMARK: only moves resourceVersion forward.
    if (object === undefined) return;
    if (type === 'DELETED') {
      const previous = this.cache.remove(object);
      this.emit(previous === undefined ? { type: 'deleted', object } : { type: 'deleted', object, previous });
      return;
    }
    const previous = this.cache.put(object);
    if (previous === undefined) this.emit({ type: 'added', object });
    else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.emit({ type: 'modified', object, previous });
  }

  private scheduleResync(): void {
    if (this.resyncPeriodMs <= 0) return;
    this.resyncTimer = this.clock.setTimer(this.resyncPeriodMs, () => {
      if (this.abort.signal.aborted) return;
      if (this.synced) for (const object of this.cache.list()) this.emit({ type: 'resync', object });
      this.scheduleResync();
    });
  }

  private emit(event: InformerEvent<T>): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (error) {
        this.logger?.error({ err: error, event: event.type }, 'informer handler threw');
      }
    }
  }
}
