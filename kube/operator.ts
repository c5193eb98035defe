// The Operator base class, with @dot-i/k8s-operator's API shape (init,
// start, stop, watchResource, handleResourceFinalizer, patchResourceStatus)
// on our own runtime: shared informer caches, per-object work queues instead
// of one global serial queue, leader election, and errors that are retried
// with backoff rather than ending the process.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from './kube-config.js';
import { pino, type Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import { EventRecorder, type EventType } from './event-recorder.js';
import { Informer, type ObjectTransform } from './informer.js';
import { KubeHttp } from './kube-http.js';
import type { KubeManifest, KubeObject } from './kube-object.js';
import { KubeLeaseStore } from './lease-store.js';
import { LeaderElector } from './leader-election.js';
import { kubeListWatch, type ListWatchScope } from './list-watch.js';
import { keyOf } from './object-cache.js';
import { ResourceClient, type ApplyOptions } from './resource-client.js';
import { apiVersionOf, type ResourceType } from './resource-type.js';
import { WorkQueue, type Reconcile, type WorkQueueOptions } from './work-queue.js';

export type ResourceEventType = 'added' | 'modified' | 'deleted';

/** Identifies the object an event is about, and where to write back to it. */
export interface ResourceMeta {
  /** metadata.uid */
  id: string;
  name: string;
  namespace?: string;
  resourceVersion: string;
  apiVersion: string;
  kind?: string;
  resource: ResourceType;
}

export interface ResourceEvent<T extends KubeObject = KubeObject> {
  type: ResourceEventType;
  object: T;
  meta: ResourceMeta;
}

export interface LeaderElectionConfig {
  namespace: string;
  leaseName: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface OperatorOptions {
  /** Names the controller in logs, as the server-side apply field manager and as the events' reportingController. */
  name: string;
  kubeConfig?: KubeConfig;
  logger?: Logger;
  /** This replica's identity in the Lease and in events; defaults to hostname plus a random suffix. */
  identity?: string;
  /** Without it every replica reconciles; with it only the Lease holder does. */
  leaderElection?: LeaderElectionConfig;
  /** How long stop() waits for queued and running reconciles. */
  drainTimeoutMs?: number;
  resyncPeriodMs?: number;
  queue?: Omit<WorkQueueOptions, 'clock' | 'logger'>;
  clock?: Clock;
}

interface SharedInformer {
  informer: Informer<KubeObject>;
  transform: ObjectTransform<KubeObject> | undefined;
}

export abstract class Operator {
  protected readonly kubeConfig: KubeConfig;
  protected readonly client: ResourceClient;
  protected readonly logger: Logger;
  protected readonly events: EventRecorder;
  readonly identity: string;

  private readonly options: OperatorOptions;
  private readonly clock: Clock;
  private readonly informers = new Map<string, SharedInformer>();
  private readonly queues: WorkQueue[] = [];
  private readonly elector: LeaderElector | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(options: OperatorOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.logger = options.logger ?? pino({ name: options.name });
    this.kubeConfig = options.kubeConfig ?? loadKubeConfig();
    this.client = new ResourceClient(new KubeHttp(this.kubeConfig));
    this.events = new EventRecorder(this.client, {
      reportingController: options.name,
      reportingInstance: this.identity,
      clock: this.clock,
      logger: this.logger,
    });
    const election = options.leaderElection;
    if (election !== undefined) {
      this.elector = new LeaderElector({
        identity: this.identity,
        store: new KubeLeaseStore(this.client, election.namespace, election.leaseName),
        leaseDurationMs: election.leaseDurationMs,
        renewDeadlineMs: election.renewDeadlineMs,
        retryPeriodMs: election.retryPeriodMs,
        clock: this.clock,
        logger: this.logger,
        onStartedLeading: () => {
          this.startedLeading();
          this.queues.forEach((queue) => queue.start());
        },
        onStoppedLeading: () => this.queues.forEach((queue) => queue.pause()),
      });
    }
  }

  /** Registers watches and queues (watchResource, informer, workQueue). Called once by start(). */
  protected abstract init(): Promise<void>;

  /** Called as this replica takes the Lease, before its queues run: what it remembers of an earlier term may be stale. */
  protected startedLeading(): void {}

  /** Runs init(), fills the caches, then reconciles (once leading, if leader election is on). */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`operator already ${this.state}`);
    this.state = 'starting';
    await this.init();
    for (const { informer } of this.informers.values()) informer.start();
    await Promise.all([...this.informers.values()].map(({ informer }) => informer.waitForSync()));
    if (this.state !== 'starting') return;
    this.state = 'running';
    if (this.elector === undefined) this.queues.forEach((queue) => queue.start());
    else this.elector.start();
    this.logger.info({ identity: this.identity, informers: this.informers.size, queues: this.queues.length }, 'operator started');
  }

  /**
   * Graceful stop: take no new work, let queued and running reconciles finish
   * (up to drainTimeoutMs) while still holding the lease, then release the
   * lease so a peer takes over at once, then close the watches.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    const drainTimeoutMs = this.options.drainTimeoutMs ?? 30_000;
    const drained = await Promise.all(this.queues.map((queue) => queue.drain(drainTimeoutMs)));
    if (drained.includes(false)) this.logger.warn({ drainTimeoutMs }, 'reconciles still running at shutdown');
    await this.elector?.stop();
    await Promise.all([...this.informers.values()].map(({ informer }) => informer.stop()));
    this.state = 'stopped';
    this.logger.info('operator stopped');
  }

  /** True once the caches are filled and until stop() begins: what /readyz reports. */
  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** True when this replica may reconcile: it holds the Lease, or leader election is off. */
  get isLeader(): boolean {
    return this.elector === undefined ? this.state === 'running' : this.elector.isLeader;
  }

  /**
   * A shared, cached view of a resource; one informer per resource and scope
   * however many callers ask. Reconcilers read from it instead of the API.
   * With a transform, the cache keeps what it returns (client-go's
   * SetTransform); every caller of one resource and scope must pass the same
   * transform function, since they share one cache.
   */
  protected informer<T extends KubeObject>(resource: ResourceType, scope: ListWatchScope = {}, options: { transform?: ObjectTransform<T> } = {}): Informer<T> {
    const id = JSON.stringify([resource.group, resource.version, resource.plural, scope.namespace ?? '', scope.labelSelector ?? '', scope.fieldSelector ?? '']);
    const shared = this.informers.get(id);
    if (shared !== undefined) {
      if (shared.transform !== options.transform) {
        throw new Error(`${apiVersionOf(resource)}/${resource.plural} ${JSON.stringify(scope)}: its shared informer was made with ${shared.transform === undefined ? 'no' : 'another'} transform`);
      }
      return shared.informer as unknown as Informer<T>;
    }
    const informer = new Informer<T>(kubeListWatch(this.client, resource, scope), {
      transform: options.transform,
      resyncPeriodMs: this.options.resyncPeriodMs,
      clock: this.clock,
      logger: this.logger,
    });
    this.informers.set(id, { informer: informer as unknown as Informer<KubeObject>, transform: options.transform });
    if (this.state !== 'new') informer.start();
    return informer;
  }

  /** A work queue that runs reconcile(key) only while this replica may reconcile. */
  protected workQueue(reconcile: Reconcile, options: Omit<WorkQueueOptions, 'clock' | 'logger'> = {}): WorkQueue {
    const queue = new WorkQueue(reconcile, { ...this.options.queue, ...options, clock: this.clock, logger: this.logger });
    this.queues.push(queue);
    if (this.state === 'running' && this.isLeader) queue.start();
    return queue;
  }

  /**
   * Calls onEvent for changes to a resource. Events for one object are
   * coalesced and serialised: onEvent sees the latest state of the object,
   * never two calls for the same object at once; calls for different objects
   * run concurrently. A rejected onEvent is retried with backoff.
   */
  protected async watchResource<T extends KubeObject = KubeObject>(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent<T>) => Promise<void>,
    namespace?: string,
  ): Promise<Informer<T>> {
    const resource: ResourceType = { group, version, plural };
    const informer = this.informer<T>(resource, { namespace });
    const lastSeenUid = new Map<string, string>();
    const tombstones = new Map<string, T>();
    const queue = this.workQueue(async (key) => {
      const current = informer.getByKey(key);
      if (current !== undefined) {
        const uid = current.metadata?.uid ?? '';
        const type: ResourceEventType = lastSeenUid.get(key) === uid ? 'modified' : 'added';
        lastSeenUid.set(key, uid);
        tombstones.delete(key);
        await onEvent({ type, object: current, meta: resourceMeta(resource, current) });
        return;
      }
      const deleted = tombstones.get(key);
      lastSeenUid.delete(key);
      if (deleted === undefined) return;
      await onEvent({ type: 'deleted', object: deleted, meta: resourceMeta(resource, deleted) });
      tombstones.delete(key);
    });
    informer.on((event) => {
      const key = keyOf(event.object);
      if (event.type === 'deleted') tombstones.set(key, event.object);
      queue.add(key);
    });
    return informer;
  }

  /**
   * Keeps finalizerName on live objects and, once the object is being deleted,
   * runs deleteAction and removes the finalizer. Returns true when the event
   * was consumed here (finalizer added, or object being deleted) and the
   * caller should not process it further.
   */
  protected async handleResourceFinalizer<T extends KubeObject>(
    event: ResourceEvent<T>,
    finalizerName: string,
    deleteAction: (event: ResourceEvent<T>) => Promise<void>,
  ): Promise<boolean> {
    const metadata = event.object.metadata;
    if (metadata === undefined || event.type === 'deleted') return false;
    const finalizers = metadata.finalizers ?? [];
    if (!metadata.deletionTimestamp) {
      if (finalizers.includes(finalizerName)) return false;
      await this.setResourceFinalizers(event.meta, [...finalizers, finalizerName]);
      return true;
    }
    if (finalizers.includes(finalizerName)) {
      await deleteAction(event);
      await this.setResourceFinalizers(
        event.meta,
        finalizers.filter((name) => name !== finalizerName),
      );
    }
    return true;
  }

  /** Replaces metadata.finalizers, failing with 409 if the object changed since meta was taken. */
  protected async setResourceFinalizers(meta: ResourceMeta, finalizers: string[]): Promise<void> {
    await this.client.mergePatch(meta.resource, meta, { metadata: { finalizers, resourceVersion: meta.resourceVersion } });
  }

  /** Merge-patches the status subresource; returns the meta of the updated object. */
  protected async patchResourceStatus(meta: ResourceMeta, status: unknown): Promise<ResourceMeta> {
    const updated = await this.client.patchStatus(meta.resource, meta, status);
    return resourceMeta(meta.resource, updated);
  }

  /** Server-side apply with this operator as field manager. */
  protected apply<T extends KubeObject = KubeObject>(object: KubeManifest, options: Partial<ApplyOptions> = {}): Promise<T> {
    return this.client.apply<T>(object, { fieldManager: this.options.name, ...options });
  }

  protected recordEvent(regarding: KubeObject, type: EventType, reason: string, note: string, action?: string): Promise<void> {
    return this.events.record(regarding, type, reason, note, action);
  }
}

export function resourceMeta(resource: ResourceType, object: KubeObject): ResourceMeta {
  const metadata = object.metadata ?? {};
  return {
    id: metadata.uid ?? '',
    name: metadata.name ?? '',
    namespace: metadata.namespace,
    resourceVersion: metadata.resourceVersion ?? '',
    apiVersion: object.apiVersion ?? apiVersionOf(resource),
    kind: object.kind,
    resource,
  };
}
