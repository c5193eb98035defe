// The Loupe operator: TraceProfiles and Pods in, one NodeTracePlan per node
// out, and node reports merged back into each TraceProfile's status. Two work
// queues: one keyed by node (the only writer of that node's plan), one keyed
// by profile (the only writer of that profile's status and finalizer).
// Informer events are mapped onto both, so pod churn reaches the plans
// within a reconcile or two. A third queue sizes the cluster every minute,
// which sets how often agents report and profile results are written
// (write-budget.ts).
import { DEFAULT_LOUPE_NAMESPACE, LOUPE_API_VERSION } from '../api/group.js';
import { NODE_TRACE_PLAN_KIND, nodeTracePlanResource, type NodeTracePlanSpec } from '../api/nodetraceplan.js';
import { onlyResultsMoved } from './node-readiness.js';
import {
  decodedSecretData,
  otlpSecretCopyData,
  otlpSecretCopyName,
  OtlpSecretMissingError,
  readOtlpSecrets,
  profileUidOfSecretCopy,
  referencesSecrets,
  type OtlpSecrets,
} from '../api/otlp-secrets.js';
import { TRACE_PROFILE_KIND, traceProfileResource, type TraceProfileStatus } from '../api/traceprofile.js';
import { profileSelectsPod, profileTargets, type Pod } from './pod-targets.js';
import { NodePlanReconciler } from './reconcilers/node-plan-reconciler.js';
import { PlanStore, type PlanObject } from './reconcilers/plan-store.js';
import { PodsByNode } from './reconcilers/pods-by-node.js';
import { ProfileStatusReconciler, type ProfileObject } from './reconcilers/profile-status-reconciler.js';
import { ProfileStore } from './reconcilers/profile-store.js';
import { parseDuration } from '../api/duration.js';
import { countNodes } from './node-count.js';
import { trimPod } from './pod-cache.js';
import { agentReportIntervalMs, MIN_REPORT_INTERVAL_MS, MIN_RESULTS_WRITE_GAP_MS, resultsWriteGapMs } from './write-budget.js';
import { isConflict } from '../kube/api-error.js';
import { systemClock, type Clock } from '../kube/clock.js';
import type { InformerEvent } from '../kube/informer.js';
import type { KubeObject } from '../kube/kube-object.js';
import { keyOf, type ObjectReader } from '../kube/object-cache.js';
import { Operator, resourceMeta, type OperatorOptions } from '../kube/operator.js';
import { podResource, secretResource } from '../kube/resource-type.js';
import type { WorkQueue } from '../kube/work-queue.js';
import { OtlpSecretCopies } from './otlp-secret-copies.js';

export const OPERATOR_NAME = 'loupe-operator';
/** Held by every live TraceProfile so that deleting it first removes it from every node's plan. */
export const CLEANUP_FINALIZER = 'loupe.dev/cleanup';
export const MANAGED_BY_LABEL = { 'app.kubernetes.io/managed-by': OPERATOR_NAME };

/** How often the cluster's node count is read again. */
const CLUSTER_SIZING_PERIOD_MS = 60_000;
const CLUSTER_SIZING_KEY = 'nodes';

export interface LoupeOperatorOptions extends Omit<OperatorOptions, 'name'> {
  /** Loupe's own namespace: the copies of profiles' OTLP Secrets live here, where agents may read them. */
  namespace?: string;
  /** Watch TraceProfiles and Pods of this namespace only; every namespace when omitted. */
  watchNamespace?: string;
  /** Node plans written at once. */
  nodeConcurrency?: number;
  /** Profile statuses written at once. */
  profileConcurrency?: number;
}

type ProfileEvent = InformerEvent<ProfileObject>;

export class LoupeOperator extends Operator {
  private readonly loupeOptions: LoupeOperatorOptions;
  private readonly loupeClock: Clock;
  private nodeQueue!: WorkQueue;
  private profileQueue!: WorkQueue;
  private profiles!: ProfileStore;
  private pods!: ObjectReader<Pod>;
  private plans!: PlanStore;
  private podsByNode!: PodsByNode;
  private nodePlans!: NodePlanReconciler;
  private profileStatus!: ProfileStatusReconciler;
  /** Profile uid → cache key, to route node reports (which name profiles by uid) to the profile queue. */
  private readonly profileKeys = new Map<string, string>();
  /** This leadership term's record of OTLP Secret copies, begun by one list of the copies in Loupe's namespace. */
  private secretCopies: Promise<OtlpSecretCopies> | undefined;
  /** Nodes in the cluster at the last count, and the agents' report interval it sets; undefined until counted. */
  private nodeCount = 0;
  private reportIntervalMs: number | undefined;
  private firstSizing: Promise<void> | undefined;
  /** resultsWriteGapMs for the cluster as it is; set again when the node count or the profiles change, not per node report. */
  private resultsGapMs = MIN_RESULTS_WRITE_GAP_MS;

  constructor(options: LoupeOperatorOptions = {}) {
    super({ ...options, name: OPERATOR_NAME });
    this.loupeOptions = options;
    this.loupeClock = options.clock ?? systemClock;
  }

  protected async init(): Promise<void> {
    const scope = { namespace: this.loupeOptions.watchNamespace };
    const profileInformer = this.informer<ProfileObject>(traceProfileResource, scope);
    // 150,000 pods as received would take gigabytes; trimmed they take about 1 KB each (pod-cache.ts).
    const podInformer = this.informer<Pod>(podResource, scope, { transform: trimPod });
    const planInformer = this.informer<PlanObject>(nodeTracePlanResource);
    this.profiles = new ProfileStore(profileInformer);
    this.plans = new PlanStore(planInformer);
    this.pods = podInformer;
    this.podsByNode = new PodsByNode(podInformer);
    const clock = this.loupeClock;
    const logger = this.logger;
    this.nodePlans = new NodePlanReconciler({
      profiles: this.profiles,
      plans: this.plans,
      pods: this.podsByNode,
      clock,
      logger,
      reportIntervalSeconds: async () => {
        // Plans written before the first count would all be rewritten once it came.
        if (this.reportIntervalMs === undefined) await (this.firstSizing ??= this.sizeCluster().finally(() => (this.firstSizing = undefined)));
        return this.reportIntervalMs === undefined ? undefined : this.reportIntervalMs / 1000;
      },
      writer: { apply: (spec) => this.applyPlan(spec), delete: (name, uid) => this.deletePlan(name, uid) },
    });
    this.profileStatus = new ProfileStatusReconciler({
      profiles: this.profiles,
      pods: podInformer,
      plans: this.plans,
      clock,
      logger,
      resultsWriteGapMs: () => this.resultsGapMs,
      writer: {
        applyStatus: (profile, status) => this.applyProfileStatus(profile, status),
        recordEvent: (profile, type, reason, note) => this.recordEvent(profile, type, reason, note),
      },
    });
    // A burst (a rollout, many profiles applied at once) reaches a node as many events: a short
    // per-node gap folds them into one plan write, where the first change still goes out at once.
    this.nodeQueue = this.workQueue(
      async (node) => {
        await this.nodePlans.reconcile(node);
      },
      { concurrency: this.loupeOptions.nodeConcurrency ?? 16, perKeyMinIntervalMs: 500 },
    );
    // Every node reports every interval; a per-profile gap folds a round of reports into one status write.
    this.profileQueue = this.workQueue((key) => this.reconcileProfile(key), {
      concurrency: this.loupeOptions.profileConcurrency ?? 8,
      perKeyMinIntervalMs: 1_000,
    });

    const sizingQueue = this.workQueue(async () => {
      await this.sizeCluster();
      sizingQueue.addAfter(CLUSTER_SIZING_KEY, CLUSTER_SIZING_PERIOD_MS);
    });
    sizingQueue.add(CLUSTER_SIZING_KEY);

    profileInformer.on((event) => this.onProfileEvent(event));
    podInformer.on((event) => this.onPodEvent(event));
    planInformer.on((event) => this.onPlanEvent(event));
  }

  /**
   * Counts the nodes and sets the agents' report interval from it; a new
   * interval goes into every plan. Without a count (no RBAC to list nodes),
   * the plans it knows stand for the nodes.
   */
  private async sizeCluster(): Promise<void> {
    const counted = await countNodes(this.client, this.logger);
    this.nodeCount = counted ?? this.plans.all().length;
    const previous = this.reportIntervalMs;
    this.reportIntervalMs = agentReportIntervalMs(this.nodeCount, previous);
    this.sizeResultsGap();
    if (previous === undefined || previous === this.reportIntervalMs) return;
    this.logger.info({ nodes: this.nodeCount, reportIntervalMs: this.reportIntervalMs, was: previous }, 'cluster size changed the agents\' report interval');
    for (const plan of this.plans.all()) this.nodeQueue.add(plan.name);
  }

  /** No agent writes more often than the report interval or the shortest profile interval; the profiles share what the agents leave. */
  private sizeResultsGap(): void {
    const shortestIntervalMs = Math.min(...this.profiles.list().map((profile) => parseDuration(profile.spec.interval) ?? MIN_REPORT_INTERVAL_MS), Infinity);
    const agentPeriodMs = Math.max(this.reportIntervalMs ?? MIN_REPORT_INTERVAL_MS, shortestIntervalMs);
    this.resultsGapMs = resultsWriteGapMs(this.nodeCount, agentPeriodMs, this.profileKeys.size);
  }

  private async reconcileProfile(key: string): Promise<void> {
    const raw = this.profiles.getRaw(key);
    if (raw === undefined) return;
    const event = { type: 'modified' as const, object: raw, meta: resourceMeta(traceProfileResource, raw) };
    if (await this.handleResourceFinalizer(event, CLEANUP_FINALIZER, () => this.removeProfile(raw))) return;
    await this.copyOtlpSecrets(raw);
    const { recheckAtMs } = await this.profileStatus.reconcile(raw);
    if (recheckAtMs !== undefined) this.profileQueue.addAfter(key, Math.max(0, recheckAtMs - this.loupeClock.now()) + 100);
  }

  /**
   * The finalizer's work: rewrite every plan that carries the profile (plans
   * leave out profiles being deleted), and delete its copy of OTLP Secrets.
   */
  private async removeProfile(raw: KubeObject): Promise<void> {
    const uid = raw.metadata?.uid ?? '';
    const nodes = this.plans.nodesPlanning(uid);
    await Promise.all(nodes.map((node) => this.nodePlans.reconcile(node)));
    await this.deleteOtlpSecretCopy(uid);
    (await this.otlpSecretCopies()).delete(uid);
    this.logger.info({ profile: keyOf(raw), nodes: nodes.length }, 'removed profile from node plans');
  }

  /**
   * Copies the Secrets a profile's `otlp` block names (in the profile's
   * namespace) into one Secret in Loupe's namespace, the only place agents may
   * read Secrets. Again when the spec changes, and every few minutes for
   * rotated credentials; a missing Secret or key is a Warning event, and no copy.
   */
  private async copyOtlpSecrets(raw: KubeObject): Promise<void> {
    const parsed = this.profiles.parse(raw);
    if (!parsed.ok) return;
    const { profile } = parsed;
    const uid = profile.metadata.uid ?? '';
    const generation = profile.metadata.generation ?? 0;
    const now = this.loupeClock.now();
    const otlp = profile.spec.output.otlp;
    const copies = await this.otlpSecretCopies();
    const action = copies.next(uid, generation, otlp !== undefined && referencesSecrets(otlp), now);
    if (action === 'none') return;
    const done = (copied: boolean) => copies.done(uid, generation, now, copied);
    if (action !== 'copy' || otlp === undefined) {
      if (action === 'delete copy') await this.deleteOtlpSecretCopy(uid);
      return done(false);
    }
    const namespace = profile.metadata.namespace ?? '';
    let secrets: OtlpSecrets;
    try {
      secrets = await readOtlpSecrets(namespace, otlp, async (ns, name) => decodedSecretData(await this.client.get<KubeObject & { data?: Record<string, string> }>(secretResource, { namespace: ns, name })));
    } catch (err) {
      if (!(err instanceof OtlpSecretMissingError)) throw err; // the API failed: retried with the next reconcile
      await this.deleteOtlpSecretCopy(uid);
      await this.recordEvent(raw, 'Warning', 'OtlpSecretMissing', `OTLP output disabled: ${(err as Error).message}`);
      return done(false);
    }
    const data = Object.fromEntries(Object.entries(otlpSecretCopyData(secrets)).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    await this.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: otlpSecretCopyName(uid),
        namespace: this.secretsNamespace(),
        labels: MANAGED_BY_LABEL,
        annotations: { 'loupe.dev/profile': `${namespace}/${profile.metadata.name}` },
      },
      type: 'Opaque',
      data,
    });
    done(true);
  }

  /** Deletes the profile's copy if one may exist; what the copies record is the caller's to update, once this succeeded. */
  private async deleteOtlpSecretCopy(uid: string): Promise<void> {
    if (!(await this.otlpSecretCopies()).mayExist(uid)) return;
    await this.client.delete(secretResource, { namespace: this.secretsNamespace(), name: otlpSecretCopyName(uid) });
  }

  private otlpSecretCopies(): Promise<OtlpSecretCopies> {
    this.secretCopies ??= this.client
      .list(secretResource, { namespace: this.secretsNamespace(), labelSelector: `app.kubernetes.io/managed-by=${OPERATOR_NAME}` })
      .then((list) => new OtlpSecretCopies(new Set(list.items.flatMap((secret) => profileUidOfSecretCopy(secret.metadata?.name ?? '') ?? []))))
      .catch((err: unknown) => {
        this.secretCopies = undefined; // listed again by the next visit
        throw err;
      });
    return this.secretCopies;
  }

  /** A new term: the other replica may have copied or deleted Secrets since this one last led. */
  protected override startedLeading(): void {
    this.secretCopies = undefined;
  }

  private secretsNamespace(): string {
    return this.loupeOptions.namespace ?? DEFAULT_LOUPE_NAMESPACE;
  }

  private onProfileEvent(event: ProfileEvent): void {
    const key = keyOf(event.object);
    const uid = event.object.metadata?.uid ?? '';
    if (event.type === 'deleted') {
      this.profileKeys.delete(uid);
      this.profileStatus.forget(uid);
    } else this.profileKeys.set(uid, key);
    // A profile added, removed or respecified (its interval) moves every profile's share of the budget.
    if (event.type === 'deleted' || (event.type !== 'resync' && event.object.metadata?.generation !== event.previous?.metadata?.generation)) this.sizeResultsGap();
    this.profileQueue.add(key);
    if (event.type === 'resync' || !changesPlans(event)) return;
    for (const node of this.nodesOfProfile(event.object)) this.nodeQueue.add(node);
  }

  /** Nodes a profile targets now, and those whose plans still carry it. */
  private nodesOfProfile(raw: KubeObject): Set<string> {
    const nodes = new Set(this.plans.nodesPlanning(raw.metadata?.uid ?? ''));
    const parsed = this.profiles.parse(raw);
    if (parsed.ok) {
      const pods = this.pods.list({ namespace: parsed.profile.metadata.namespace });
      for (const node of profileTargets(parsed.profile, pods).byNode.keys()) nodes.add(node);
    }
    return nodes;
  }

  private onPodEvent(event: InformerEvent<Pod>): void {
    const nodes = this.podsByNode.observe(event);
    if (event.type === 'resync') return;
    for (const node of nodes) this.nodeQueue.add(node);
    // Profiles whose selector matched the pod before or after this change see their counts move.
    const namespace = event.object.metadata?.namespace;
    for (const profile of this.profiles.list(namespace)) {
      const matched = [event.object, event.previous].some((pod) => pod !== undefined && profileSelectsPod(profile, pod));
      if (matched) this.profileQueue.add(keyOf(profile));
    }
  }

  private onPlanEvent(event: InformerEvent<PlanObject>): void {
    this.plans.observe(event);
    if (event.type === 'resync') return;
    const current = this.plans.parse(event.object);
    const previous = event.previous === undefined ? undefined : this.plans.parse(event.previous);
    const specChanged = event.type !== 'modified' || event.object.metadata?.generation !== event.previous?.metadata?.generation;
    if (specChanged) this.nodeQueue.add(current.name);
    // Every profile this plan carries or reports, before or after, may see its node readiness or results move.
    const keys = new Set<string>();
    for (const plan of [previous, current]) {
      if (specChanged) for (const entry of plan?.spec?.profiles ?? []) keys.add(`${entry.namespace}/${entry.name}`);
      for (const entry of plan?.status?.profiles ?? []) {
        const key = this.profileKeys.get(entry.uid);
        if (key === undefined || keys.has(key)) continue;
        // New results alone cannot be written before the profile's turn in the write budget: reconcile then.
        if (!specChanged && onlyResultsMoved(previous, current, entry.uid, this.loupeClock.now())) {
          this.profileQueue.addAfter(key, this.profileStatus.resultsDueAtMs(entry.uid) - this.loupeClock.now());
        } else keys.add(key);
      }
    }
    for (const key of keys) this.profileQueue.add(key);
  }

  private async applyPlan(spec: NodeTracePlanSpec): Promise<void> {
    await this.apply({
      apiVersion: LOUPE_API_VERSION,
      kind: NODE_TRACE_PLAN_KIND,
      metadata: { name: spec.nodeName, labels: MANAGED_BY_LABEL },
      spec,
    });
  }

  private async deletePlan(name: string, uid: string): Promise<void> {
    try {
      await this.client.delete(nodeTracePlanResource, { name }, { preconditions: { uid } });
    } catch (error) {
      // A different plan of that name now exists: its own events bring the node back here.
      if (!isConflict(error)) throw error;
    }
  }

  private async applyProfileStatus(profile: KubeObject, status: TraceProfileStatus): Promise<void> {
    await this.apply(
      {
        apiVersion: LOUPE_API_VERSION,
        kind: TRACE_PROFILE_KIND,
        metadata: { name: profile.metadata?.name, namespace: profile.metadata?.namespace },
        status,
      },
      { subresource: 'status' },
    );
  }
}

/** Profile changes that can change some plan: new, gone, spec edited, being deleted, or its session moved. */
function changesPlans(event: ProfileEvent): boolean {
  if (event.type !== 'modified' || event.previous === undefined) return true;
  const [before, after] = [event.previous, event.object];
  return (
    before.metadata?.generation !== after.metadata?.generation ||
    before.metadata?.deletionTimestamp !== after.metadata?.deletionTimestamp ||
    before.status?.phase !== after.status?.phase ||
    before.status?.startedAt !== after.status?.startedAt ||
    before.status?.expiresAt !== after.status?.expiresAt
  );
}

