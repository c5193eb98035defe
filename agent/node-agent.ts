// The agent as a cluster member: watches its node's NodeTracePlan (and only
// that one), drives the shared ProbeManager to match it, and reports in the
// plan's status. Work is serialized: plan changes and ticks queue one step at
// a time, so the manager is never driven from two places at once.
//
// A restarted agent starts from its plan as it is: the kernel freed the old
// process's programs with its fds, so counting restarts from zero, on top of
// the results the old process last reported (result-baseline.ts).
import type { Logger } from 'pino';
import type { NodeCost, ProfileCost } from '../api/cost.js';
import {
  nodeTracePlanResource,
  parseNodeTracePlan,
  type NodeProfilePlan,
  type NodeTracePlan,
  type NodeTraceTarget,
} from '../api/nodetraceplan.js';
import type { ProbeSpec } from '../api/probes.js';
import { descriptorOf, type ProbeName, type ResultOf } from '../probes/registry.js';
import { isNotFound } from '../kube/api-error.js';
import { Informer, type InformerEvent } from '../kube/informer.js';
import type { KubeObject } from '../kube/kube-object.js';
import { kubeListWatch } from '../kube/list-watch.js';
import type { ResourceClient } from '../kube/resource-client.js';
import { secretResource } from '../kube/resource-type.js';
import { budgetLimits, budgetStateFor, stepBudget, type BudgetState, type DroppedProbe } from './budget.js';
import type { CostMeter } from '../engine/cost/cost-meter.js';
import { eventsByProbe } from '../engine/cost/probe-events.js';
import { buildNodeStatus, buildProfileStatus, type ProfileError } from './node-status.js';
import { diffPlan, managerSpec, type PlanAction } from './plan-diff.js';
import { agentTickMs, profileIntervalMs, statusPeriodMs } from './plan-interval.js';
import { newsSpreadMs, StatusReporter } from './status-reporter.js';
import {
  resolvePlanTargets,
  retryUnresolved,
  targetCgroupIds,
  type ContainerResolver,
  type TargetResolution,
} from './plan-targets.js';
import type { ProbeManager, ProfileResults, ProfileSpec, ProfileState } from '../engine/probe-manager.js';
import type { ProbeEvent } from '../engine/probes/probe.js';
import { summarizeProfile, type ProfileSummary } from './profile-summary.js';
import { baselinesFromPlan, withBaseline } from './result-baseline.js';
import { decodedSecretData, readOtlpSecretCopy, type SecretReader } from '../api/otlp-secrets.js';
import { createOtlpSink, type OtlpSink, type OtlpTargetResults } from './otlp/sink.js';
import type { OtlpTarget } from './otlp/resource.js';

export type ProbeEventHandler = (event: ProbeEvent, profileIds: string[]) => void;

export interface NodeAgentOptions {
  nodeName: string;
  /** Loupe's namespace, where the operator keeps the copies of profiles' OTLP Secrets. */
  namespace: string;
  client: ResourceClient;
  /** Builds the node's probe manager, wired to hand its events to the agent. */
  createManager: (onEvent: ProbeEventHandler) => ProbeManager;
  resolveContainer: ContainerResolver;
  agentVersion: string;
  logger: Logger;
  /** Measures what tracing costs each interval (closed on stop); without it status carries no cost and budgets are not kept. */
  costMeter?: CostMeter;
}

interface TrackedProfile {
  plan: NodeProfilePlan;
  targets: TargetResolution;
  /** What the manager has for it; undefined while it is not registered. */
  spec?: ProfileSpec;
  state?: ProfileState;
  refusal?: string;
  summary?: ProfileSummary;
  /** What a previous agent process reported for it, added into every summary. */
  baseline?: ProfileSummary;
  nextSummaryMs: number;
  startMs: number;
  sink?: OtlpSink;
  /** The `otlp` block the sink was made from, as JSON. */
  sinkConfig?: string;
  /** OTLP setup problems (a missing Secret); retried on each plan change. */
  exportErrors: ProfileError[];
  /** Its cost over the last measured interval. */
  cost?: ProfileCost;
  /** Where it stands against spec.budget; undefined without a budget. */
  budget?: BudgetState;
}

/** What NodeAgent.probeResults answers. */
export interface TracedResults<N extends ProbeName> {
  results: ReadonlyMap<bigint, ResultOf<N>>;
  attachSetting: number | string | undefined;
}

export class NodeAgent {
  private readonly log: Logger;
  private readonly informer: Informer<KubeObject>;
  private manager: ProbeManager | undefined;
  private readonly profiles = new Map<string, TrackedProfile>();
  /** cgroup id → the container (and pod) it belongs to, for every cgroup a profile targets or has results for. */
  private readonly targetsByCgroup = new Map<bigint, NodeTraceTarget>();
  private plan: NodeTracePlan | undefined;
  /** From the first plan this process sees, by profile uid; handed to the profiles on the first plan step. */
  private baselines: Map<string, ProfileSummary> | undefined;
  private nodeCost: NodeCost | undefined;
  private planDirty = false;
  /** metadata.generation of the plan whose spec the last step applied. */
  private appliedGeneration: number | undefined;
  private readonly reporter: StatusReporter;
  private steps: Promise<void> = Promise.resolve();
  private stepQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly options: NodeAgentOptions) {
    this.log = options.logger.child({ node: options.nodeName });
    // Its own plan only: a field selector on the name, so the server sends nothing else.
    const source = kubeListWatch<KubeObject>(options.client, nodeTracePlanResource, { fieldSelector: `metadata.name=${options.nodeName}` });
    this.informer = new Informer(source, { logger: this.log });
    this.reporter = new StatusReporter(options.nodeName, async (status) => {
      await this.options.client.patchStatus(nodeTracePlanResource, { name: this.options.nodeName }, status);
    });
  }

  /** Starts watching the plan; resolves once the first list arrived and the first step ran. */
  async start(): Promise<void> {
    this.manager = this.options.createManager((event, profileIds) => this.routeEvent(event, profileIds));
    this.informer.on((event) => this.onPlanEvent(event));
    this.informer.start();
    await this.informer.waitForSync();
    await this.queueStep();
    this.scheduleTick();
    this.log.info({ agentVersion: this.options.agentVersion }, 'agent started');
  }

  /**
   * A probe's results for a profile this node traces, per cgroup since the
   * profile started here, and the setting the probe's links run at now
   * (ProbeDefinition.attachSetting); undefined when the node does not trace
   * the profile with that probe. For per-probe outputs such as the profile
   * probe's pprof download.
   */
  probeResults<N extends ProbeName>(uid: string, probe: N): TracedResults<N> | undefined {
    const manager = this.manager;
    if (manager === undefined || !this.profiles.has(uid) || this.profiles.get(uid)?.spec === undefined) return undefined;
    const results = manager.results(uid)[probe] as ReadonlyMap<bigint, ResultOf<N>> | undefined;
    return results === undefined ? undefined : { results, attachSetting: manager.attachSettingOf(probe) };
  }

  /** Detaches everything, writes a final status saying so, and stops watching. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.timer);
    await this.steps;
    const manager = this.manager;
    if (manager !== undefined) {
      manager.collect();
      for (const [uid, profile] of this.profiles) this.summarize(uid, profile, Date.now());
      this.exportResults([...this.profiles.values()], Date.now());
      manager.close();
    }
    this.options.costMeter?.close();
    await Promise.all([...this.profiles.values()].map((p) => this.closeSink(p)));
    await this.writeStatus(true);
    await this.informer.stop();
    this.log.info('agent stopped: every probe detached');
  }

  private onPlanEvent(event: InformerEvent<KubeObject>): void {
    if (this.stopping) return;
    if (event.type === 'deleted') {
      this.plan = undefined;
    } else {
      const parsed = parseNodeTracePlan(event.object);
      if (!parsed.ok) {
        this.log.error({ error: parsed.error }, 'ignoring a NodeTracePlan that does not parse; keeping the last good one');
        return;
      }
      // Our own status writes come back as modifications too: only a new spec is news.
      const specChanged = this.plan === undefined || JSON.stringify(this.plan.spec) !== JSON.stringify(parsed.value.spec);
      this.plan = parsed.value;
      this.baselines ??= baselinesFromPlan(parsed.value);
      if (!specChanged) return;
    }
    this.planDirty = true;
    void this.queueStep();
  }

  /** Queues a step unless one is already waiting to run (it will see the latest plan). */
  private queueStep(): Promise<void> {
    if (this.stepQueued) return this.steps;
    this.stepQueued = true;
    this.steps = this.steps.then(async () => {
      this.stepQueued = false;
      try {
        await this.step();
      } catch (err) {
        this.log.error({ err }, 'agent step failed; retrying on the next tick');
      }
    });
    return this.steps;
  }

  private scheduleTick(): void {
    if (this.stopping) return;
    const tickMs = agentTickMs([...this.profiles.values()].map((p) => p.plan.interval));
    const nowMs = Date.now();
    const untilReportMs = this.reporter.nextDueMs(nowMs, this.statusPeriodMs()) - nowMs;
    this.timer = setTimeout(() => {
      void this.queueStep().then(() => this.scheduleTick());
    }, Math.max(0, Math.min(tickMs, untilReportMs)));
  }

  private async step(): Promise<void> {
    if (this.stopping) return;
    const nowMs = Date.now();
    const planChanged = this.planDirty;
    if (planChanged) {
      this.planDirty = false;
      const generation = this.plan?.metadata.generation;
      await this.followPlan(nowMs);
      this.appliedGeneration = generation;
      this.reporter.planChanged(nowMs, newsSpreadMs(this.plan?.spec.reportIntervalSeconds));
    } else {
      for (const profile of this.profiles.values()) profile.targets = retryUnresolved(profile.targets, this.options.resolveContainer);
      await this.driveManager();
    }
    this.managerOrThrow().collect();
    await this.measureCost();
    const due: TrackedProfile[] = [];
    for (const [uid, profile] of this.profiles) {
      if (!planChanged && nowMs < profile.nextSummaryMs) continue;
      this.summarize(uid, profile, nowMs);
      due.push(profile);
    }
    this.exportResults(due, nowMs);
    this.pruneTargets();
    await this.writeStatus(false);
  }

  private statusPeriodMs(): number {
    return statusPeriodMs([...this.profiles.values()].map((p) => p.plan.interval), this.plan?.spec.reportIntervalSeconds);
  }

  /** Takes the plan as it is now: which profiles, their targets (re-resolved), their OTLP sinks. */
  private async followPlan(nowMs: number): Promise<void> {
    const wanted = new Map((this.plan?.spec.profiles ?? []).map((p) => [p.uid, p]));
    for (const [uid, profile] of this.profiles) {
      if (wanted.has(uid)) continue;
      await this.closeSink(profile);
    }
    for (const [uid, plan] of wanted) {
      const tracked = this.profiles.get(uid);
      const targets = resolvePlanTargets(plan.targets, this.options.resolveContainer);
      if (tracked === undefined) {
        this.profiles.set(uid, { plan, targets, baseline: this.baselines?.get(uid), nextSummaryMs: nowMs, startMs: nowMs, exportErrors: [] });
      } else {
        tracked.plan = plan;
        tracked.targets = targets;
      }
    }
    this.baselines?.clear(); // a profile that leaves the plan and comes back starts afresh, as in a live agent
    await this.driveManager(); // before forgetting removed profiles: it unregisters them
    for (const uid of [...this.profiles.keys()]) if (!wanted.has(uid)) this.profiles.delete(uid);
    for (const profile of this.profiles.values()) await this.syncSink(profile);
  }

  /** Applies the diff between what the manager has and what the tracked profiles want. */
  private async driveManager(): Promise<void> {
    const manager = this.managerOrThrow();
    const wanted = new Set((this.plan?.spec.profiles ?? []).map((p) => p.uid));
    const current = new Map<string, ProfileSpec>();
    const desired = new Map<string, ProfileSpec>();
    for (const [uid, profile] of this.profiles) {
      for (const resolved of profile.targets.resolved) {
        this.targetsByCgroup.set(resolved.cgroupId, resolved.target);
      }
      if (profile.spec !== undefined) current.set(uid, profile.spec);
      if (wanted.has(uid)) desired.set(uid, withinBudget(managerSpec(profile.plan, targetCgroupIds(profile.targets)), budgetOf(profile)));
    }
    for (const action of diffPlan(current, desired)) await this.apply(manager, action);
  }

  private async apply(manager: ProbeManager, action: PlanAction): Promise<void> {
    const profile = this.profiles.get(action.uid);
    if (profile === undefined) return;
    try {
      if (action.kind === 'unregister') {
        await manager.unregister(action.uid);
        profile.spec = undefined;
        profile.state = undefined;
        this.log.info({ profile: action.uid }, 'profile removed');
        return;
      }
      // Loads run on worker threads: status writes and health checks go on meanwhile.
      profile.state = await (action.kind === 'register' ? manager.register(action.uid, action.spec) : manager.update(action.uid, action.spec));
      profile.spec = action.spec;
      profile.refusal = undefined;
      const { active, failed } = profile.state;
      this.log.info(
        { profile: action.uid, action: action.kind, active, failed: failed.map((f) => f.probe), targets: action.spec.targets.length },
        'profile applied',
      );
    } catch (err) {
      // Too many profiles or targets on this node: report it; the next step tries again.
      profile.refusal = err instanceof Error ? err.message : String(err);
      this.log.warn({ profile: action.uid, err }, `profile ${action.kind} refused`);
    }
  }

  /** Measures the last interval's cost, and drops probes of profiles that stay over budget (cost/budget.ts). */
  private async measureCost(): Promise<void> {
    const meter = this.options.costMeter;
    if (meter === undefined) return;
    const manager = this.managerOrThrow();
    const events = new Map<string, Map<ProbeName, number>>();
    for (const [uid, profile] of this.profiles) if (profile.spec !== undefined) events.set(uid, eventsByProbe(manager.results(uid)));
    const report = meter.measure(manager.loadedObjects(), events);
    if (report === undefined) return; // the first call only sets the baseline
    this.nodeCost = report.node;
    let dropped = false;
    for (const [uid, profile] of this.profiles) {
      const measured = report.profiles.get(uid);
      profile.cost = measured?.cost ?? meter.zeroCost();
      const limits = budgetLimits(profile.plan.budget);
      if (limits === undefined || !profile.plan.active) {
        profile.budget = undefined;
        continue;
      }
      const before = budgetStateFor(profile.budget, profile.plan.generation);
      const input: Parameters<typeof stepBudget>[1] = {
        limits,
        cost: { ...profile.cost, byProbe: measured?.byProbe ?? new Map() },
        cpuMeasured: profile.cost.unmeasured === undefined,
        active: profile.state?.active ?? [],
      };
      const sampling = samplingOf(profile.plan.probes);
      if (sampling !== undefined) input.sampling = sampling;
      profile.budget = stepBudget(before, input);
      const newest = profile.budget.dropped.at(-1);
      if (profile.budget.dropped.length > before.dropped.length && newest !== undefined) {
        this.log.warn({ profile: uid, probe: newest.probe }, newest.message);
        dropped = true;
      }
      if (profile.budget.widened !== undefined && profile.budget.widened.hz !== before.widened?.hz) {
        this.log.warn({ profile: uid, probe: profile.budget.widened.probe }, profile.budget.widened.message);
        dropped = true;
      }
    }
    if (dropped) await this.driveManager();
  }

  private summarize(uid: string, profile: TrackedProfile, nowMs: number): void {
    const manager = this.managerOrThrow();
    if (profile.spec !== undefined) profile.state = manager.state(uid);
    const probes = profile.plan.probes.map((p) => p.name);
    const live = summarizeProfile({
      probes,
      active: profile.plan.active ? (profile.state?.active ?? []) : [],
      results: this.resultsOf(uid, profile),
      pods: this.targetsByCgroup,
      topN: profile.plan.topN,
    });
    profile.summary = withBaseline(live, profile.baseline, probes, profile.plan.topN);
    profile.nextSummaryMs = nowMs + profileIntervalMs(profile.plan.interval);
  }

  private resultsOf(uid: string, profile: TrackedProfile): ProfileResults {
    return profile.spec === undefined ? {} : this.managerOrThrow().results(uid);
  }

  /** Forgets cgroups no profile has results for or targets any more. */
  private pruneTargets(): void {
    const kept = new Set<bigint>();
    for (const [uid, profile] of this.profiles) {
      for (const r of profile.targets.resolved) kept.add(r.cgroupId);
      for (const byCgroup of Object.values(this.resultsOf(uid, profile))) for (const id of byCgroup.keys()) kept.add(id);
    }
    for (const id of [...this.targetsByCgroup.keys()]) if (!kept.has(id)) this.targetsByCgroup.delete(id);
  }

  /** Offers the status to the reporter, which writes it if due; a stopping agent writes any news at once. */
  private async writeStatus(shuttingDown: boolean): Promise<void> {
    if (this.plan === undefined) return; // no object to write to
    const nowMs = Date.now();
    const status = buildNodeStatus({
      heartbeat: new Date(nowMs),
      agentVersion: this.options.agentVersion,
      observedGeneration: this.appliedGeneration,
      profiles: [...this.profiles.values()].map((profile) =>
        buildProfileStatus({
          plan: profile.plan,
          state: profile.state,
          refusal: profile.refusal,
          targets: profile.targets,
          summary: profile.summary,
          errors: this.exportErrorsOf(profile),
          shuttingDown,
          cost: profile.cost,
          budgetSteps: budgetSteps(profile),
        }),
      ),
      cost: shuttingDown ? undefined : this.nodeCost,
    });
    try {
      await this.reporter.offer(status, nowMs, this.statusPeriodMs(), shuttingDown);
    } catch (err) {
      if (isNotFound(err)) return; // the plan was deleted meanwhile; its watch event follows
      this.log.warn({ err }, 'writing NodeTracePlan status failed; retrying on the next tick');
    }
  }

  // --- OTLP -------------------------------------------------------------------

  private async syncSink(profile: TrackedProfile): Promise<void> {
    const otlp = profile.plan.otlp;
    const config = otlp === undefined ? undefined : JSON.stringify(otlp);
    // Kept while its block is unchanged, so its queue and drop counts survive target changes;
    // a failed setup (no sink) is retried on every plan change.
    if (profile.sink !== undefined && config === profile.sinkConfig) return;
    await this.closeSink(profile);
    profile.exportErrors = [];
    profile.sinkConfig = config;
    if (otlp === undefined) return;
    try {
      const secrets = await readOtlpSecretCopy(this.options.namespace, profile.plan, otlp, this.readSecret);
      profile.sink = createOtlpSink({
        endpoint: otlp.endpoint,
        protocol: otlp.protocol,
        insecure: otlp.insecure,
        ...secrets,
        ...(otlp.resourceAttributes !== undefined && { resourceAttributes: otlp.resourceAttributes }),
        nodeName: this.options.nodeName,
        profile: { namespace: profile.plan.namespace, name: profile.plan.name },
        logger: this.log.child({ profile: profile.plan.uid }),
      });
    } catch (err) {
      profile.exportErrors = [{ message: `OTLP output disabled: ${err instanceof Error ? err.message : String(err)}` }];
    }
  }

  private readonly readSecret: SecretReader = async (namespace, name) => {
    return decodedSecretData(await this.options.client.get<KubeObject & { data?: Record<string, string> }>(secretResource, { namespace, name }));
  };

  private async closeSink(profile: TrackedProfile): Promise<void> {
    const sink = profile.sink;
    if (sink === undefined) return;
    profile.sink = undefined;
    try {
      await sink.shutdown();
    } catch (err) {
      this.log.warn({ err, profile: profile.plan.uid }, 'OTLP sink shutdown failed');
    }
  }

  private exportErrorsOf(profile: TrackedProfile): ProfileError[] {
    const errors = [...profile.exportErrors];
    const stats = profile.sink?.stats();
    if (stats === undefined) return errors;
    if (stats.lastError !== undefined) errors.push({ message: `OTLP export failing: ${stats.lastError}` });
    if (stats.droppedMetricBatches + stats.droppedLogRecords > 0) {
      errors.push({ message: `OTLP dropped ${stats.droppedMetricBatches} metric batches and ${stats.droppedLogRecords} log records so far` });
    }
    return errors;
  }

  /** Cumulative results per container, complete (not cut to topN): the collector gets full fidelity. */
  private exportResults(profiles: readonly TrackedProfile[], nowMs: number): void {
    for (const profile of profiles) {
      const sink = profile.sink;
      if (sink === undefined || profile.spec === undefined) continue;
      const byProbe = Object.entries(this.managerOrThrow().results(profile.plan.uid));
      const cgroupIds = new Set(byProbe.flatMap(([, byCgroup]) => [...byCgroup.keys()]));
      const targets: OtlpTargetResults[] = [];
      for (const cgroupId of cgroupIds) {
        const target = this.targetsByCgroup.get(cgroupId);
        if (target === undefined) continue;
        const results = Object.fromEntries(byProbe.flatMap(([probe, byCgroup]) => {
          const result = byCgroup.get(cgroupId);
          return result === undefined ? [] : [[probe, result]];
        }));
        targets.push({ ...otlpTarget(target), results, startTimeMs: profile.startMs });
      }
      sink.exportResults(targets, nowMs);
    }
  }

  private routeEvent(event: ProbeEvent, profileIds: string[]): void {
    const target = this.targetsByCgroup.get(event.cgroupId);
    if (target === undefined) return;
    for (const uid of profileIds) this.profiles.get(uid)?.sink?.exportEvents([{ event, target: otlpTarget(target) }]);
  }

  private managerOrThrow(): ProbeManager {
    if (this.manager === undefined) throw new Error('the agent has not started');
    return this.manager;
  }
}

/** Where the profile stands against its budget under its current generation; undefined without a budget. */
function budgetOf(profile: TrackedProfile): BudgetState | undefined {
  return profile.plan.budget === undefined ? undefined : budgetStateFor(profile.budget, profile.plan.generation);
}

/** What the budget made the agent do, for the node status (reason BudgetExceeded). */
function budgetSteps(profile: TrackedProfile): DroppedProbe[] {
  const budget = budgetOf(profile);
  if (budget === undefined) return [];
  const widened: DroppedProbe[] = budget.widened === undefined ? [] : [{ probe: budget.widened.probe, message: budget.widened.message }];
  return [...widened, ...budget.dropped];
}

/** The spec with the budget's steps applied: sampling widened, probes dropped. */
function withinBudget(spec: ProfileSpec, budget: BudgetState | undefined): ProfileSpec {
  if (budget === undefined) return spec;
  const probes = spec.probes
    .filter((probe) => !budget.dropped.some((d) => d.probe === probe.name))
    .map((probe) => (probe.name === budget.widened?.probe ? withSamplingHz(probe, budget.widened.hz) : probe));
  return { ...spec, probes };
}

/** The rate the profile asks of its first sampling probe (its descriptor's `sampling`), if it uses one. */
function samplingOf(probes: readonly ProbeSpec[]): { probe: ProbeName; hz: number } | undefined {
  for (const spec of probes) {
    const sampling = descriptorOf(spec.name).sampling as { hz(options: ProbeSpec): number } | undefined;
    if (sampling !== undefined) return { probe: spec.name, hz: sampling.hz(spec) };
  }
  return undefined;
}

function withSamplingHz(spec: ProbeSpec, hz: number): ProbeSpec {
  const sampling = descriptorOf(spec.name).sampling as { withHz(options: ProbeSpec, hz: number): ProbeSpec } | undefined;
  return sampling === undefined ? spec : sampling.withHz(spec, hz);
}

function otlpTarget(target: NodeTraceTarget): OtlpTarget {
  return {
    pod: { namespace: target.namespace, name: target.pod, uid: target.podUid },
    container: { name: target.container, id: target.containerId },
  };
}
