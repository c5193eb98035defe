// Kubernetes Events (events.k8s.io/v1), what `kubectl describe` shows under
// "Events". A repeat of the same event updates the first one's series count
// instead of creating another object, as client-go's recorder does, so a
// reconcile loop that keeps failing does not flood etcd.
import type { Logger } from 'pino';
import { isNotFound } from './api-error.js';
import { systemClock, type Clock } from './clock.js';
import { microTime, type KubeObject } from './kube-object.js';
import type { ResourceClient } from './resource-client.js';
import type { ResourceType } from './resource-type.js';

export const eventResource: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events' };

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** e.g. 'loupe.dev/operator' */
  reportingController: string;
  /** e.g. the pod name of this replica */
  reportingInstance: string;
  /** Distinct events remembered for de-duplication (least recently seen forgotten first). */
  cacheSize?: number;
  clock?: Clock;
  logger?: Logger;
}

interface EventObject extends KubeObject {
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  type: EventType;
  note: string;
  regarding: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string };
}

interface SeriesState {
  namespace: string;
  name: string;
  count: number;
}

/** The API server's limit on Event.note. */
const maxNoteBytes = 1024;

export class EventRecorder {
  private readonly series = new Map<string, SeriesState>();
  /** Per-key chains so concurrent repeats of one event update one series in order. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly cacheSize: number;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;

  constructor(
    private readonly client: Pick<ResourceClient, 'create' | 'mergePatch'>,
    private readonly options: EventRecorderOptions,
  ) {
    this.cacheSize = options.cacheSize ?? 4096;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
  }

  /**
   * Records an event about `regarding`. Never throws: events are best effort,
   * and a failure to record one must not fail the reconcile that caused it.
   */
  record(regarding: KubeObject, type: EventType, reason: string, note: string, action: string = reason): Promise<void> {
    const meta = regarding.metadata ?? {};
    const key = [meta.uid, regarding.kind, meta.namespace, meta.name, type, reason, action, note].join('\u0000');
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.write(key, regarding, type, reason, note, action))
      .catch((error: unknown) => this.logger?.warn({ err: error, reason, object: meta.name }, 'cannot record event'))
      .finally(() => {
        if (this.inFlight.get(key) === next) this.inFlight.delete(key);
      });
    this.inFlight.set(key, next);
    return next;
  }

  private async write(key: string, regarding: KubeObject, type: EventType, reason: string, note: string, action: string): Promise<void> {
    const now = microTime(this.clock.now());
    const known = this.series.get(key);
    if (known !== undefined) {
      try {
        const count = known.count + 1;
        await this.client.mergePatch(eventResource, known, { series: { count, lastObservedTime: now } });
        this.remember(key, { ...known, count });
        return;
      } catch (error) {
        // The first event expired (events have a TTL): start a new one.
        if (!isNotFound(error)) throw error;
      }
    }
    const meta = regarding.metadata ?? {};
    const namespace = meta.namespace || 'default';
    const created = await this.client.create<EventObject>(eventResource, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: eventName(meta.name ?? 'object', this.clock.now()), namespace },
      eventTime: now,
      reportingController: this.options.reportingController,
      reportingInstance: this.options.reportingInstance,
      action,
      reason,
      type,
      note: truncateUtf8(note, maxNoteBytes),
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
      },
    });
    this.remember(key, { namespace, name: created.metadata?.name ?? '', count: 1 });
  }

  private remember(key: string, state: SeriesState): void {
    this.series.delete(key);
    this.series.set(key, state);
    if (this.series.size > this.cacheSize) {
      const oldest = this.series.keys().next().value;
      if (oldest !== undefined) this.series.delete(oldest);
    }
  }
}

/**
 * client-go's naming, "<object>.<nanoseconds in hex>" (generateName would be
 * nicer but "<name>." is not a valid prefix for Events); random low digits
 * keep two replicas from colliding within one millisecond.
 */
function eventName(objectName: string, nowMs: number): string {
  const nanos = BigInt(nowMs) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
  return `${objectName.slice(0, 230)}.${nanos.toString(16)}`;
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  // Cut on a character boundary: decoding a cut multi-byte sequence yields U+FFFD, which we drop.
  return bytes.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
}
