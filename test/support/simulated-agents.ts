// Agents without a kernel, for the scale benchmark: each node's agent follows
// its NodeTracePlan and writes its status as a real agent does, through the
// agent's own StatusReporter (when), statusPeriodMs (how often) and
// buildProfileStatus/buildNodeStatus (what), with exec counts that grow at a
// fixed rate in every targeted pod from when the agent first sees it. One
// shared informer over every plan stands in for each agent's own watch.
import { buildNodeStatus, buildProfileStatus } from '../../agent/node-status.js';
import { statusPeriodMs } from '../../agent/plan-interval.js';
import { newsSpreadMs, StatusReporter } from '../../agent/status-reporter.js';
import { type NodePodResult, type NodeProfilePlan, nodeTracePlanResource, type NodeTracePlanSpec } from '../../api/nodetraceplan.js';
import type { Informer } from '../../kube/informer.js';
import type { KubeObject } from '../../kube/kube-object.js';
import type { ResourceClient } from '../../kube/resource-client.js';

export type PlanObject = KubeObject & { spec?: NodeTracePlanSpec };

export interface SimulatedAgentsOptions {
  client: ResourceClient;
  plans: Informer<PlanObject>;
  /** Execs each targeted pod counts per second. */
  execsPerPodPerSecond: number;
}

class SimulatedAgent {
  private plan: PlanObject | undefined;
  private readonly reporter: StatusReporter;
  /** Profile uid → pod uid → when this agent started counting the pod. */
  private readonly since = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  /** When the timer was set to wake this agent, to measure how late it woke. */
  private wakeAtMs: number | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly node: string,
    private readonly agents: SimulatedAgents,
  ) {
    this.reporter = new StatusReporter(node, async (status) => {
      await agents.options.client.patchStatus(nodeTracePlanResource, { name: node }, status);
      agents.writes++;
    });
  }

  /** A new plan: report its news as a real agent does after following it. */
  follow(plan: PlanObject): void {
    if (JSON.stringify(plan.spec) === JSON.stringify(this.plan?.spec)) return;
    this.plan = plan;
    const now = Date.now();
    for (const entry of plan.spec?.profiles ?? []) {
      const pods = this.since.get(entry.uid) ?? new Map<string, number>();
      this.since.set(entry.uid, pods);
      for (const target of entry.targets) {
        if (pods.has(target.podUid)) continue;
        pods.set(target.podUid, now);
        this.agents.podCounting(entry.uid, now);
      }
    }
    this.reporter.planChanged(now, newsSpreadMs(plan.spec?.reportIntervalSeconds));
    this.step();
  }

  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    return this.chain;
  }

  private periodMs(): number {
    const spec = this.plan?.spec;
    return statusPeriodMs((spec?.profiles ?? []).map((p) => p.interval), spec?.reportIntervalSeconds);
  }

  private step(): void {
    clearTimeout(this.timer);
    this.chain = this.chain.then(async () => {
      if (this.stopped || this.plan === undefined) return;
      const now = Date.now();
      if (this.wakeAtMs !== undefined) this.agents.maxWakeLateMs = Math.max(this.agents.maxWakeLateMs, now - this.wakeAtMs);
      this.wakeAtMs = undefined;
      try {
        if ((await this.reporter.offer(this.status(now), now, this.periodMs(), false)) === 'written') {
          this.agents.maxWriteMs = Math.max(this.agents.maxWriteMs, Date.now() - now);
        }
      } catch {
        this.agents.failures++;
      }
      if (this.stopped) return;
      const next = Date.now();
      this.wakeAtMs = Math.max(next, this.reporter.nextDueMs(next, this.periodMs()));
      this.timer = setTimeout(() => this.step(), this.wakeAtMs - next);
    });
  }

  private status(now: number) {
    const profiles = (this.plan?.spec?.profiles ?? []).map((entry) => this.profileStatus(entry, now));
    return buildNodeStatus({ heartbeat: new Date(now), agentVersion: 'simulated', observedGeneration: this.plan?.metadata?.generation, profiles });
  }

  private profileStatus(entry: NodeProfilePlan, now: number) {
    const since = this.since.get(entry.uid) ?? new Map<string, number>();
    const pods: NodePodResult[] = [];
    let execs = 0;
    for (const target of entry.targets) {
      const count = this.agents.execs(since.get(target.podUid) ?? now, now);
      execs += count;
      pods.push({ podUid: target.podUid, namespace: target.namespace, pod: target.pod, results: { exec: { execs: count, exits: count, topCommands: [{ key: '/bin/true', count }] } } });
    }
    return buildProfileStatus({
      plan: entry,
      state: { profileId: entry.uid, slot: 0, active: entry.probes.map((p) => p.name), failed: [] },
      targets: { resolved: entry.targets.map((target) => ({ target, cgroupId: 0n })), unresolved: [] },
      summary: { results: { exec: { execs, exits: execs, topCommands: [{ key: '/bin/true', count: execs }] } }, pods },
      errors: [],
      shuttingDown: false,
    });
  }
}

export class SimulatedAgents {
  private readonly agents = new Map<string, SimulatedAgent>();
  /** Status writes that succeeded, and that failed. */
  writes = 0;
  failures = 0;
  /**
   * The latest an agent woke after its timer's time, and the longest status
   * write: a status older than its interval is late from one or the other
   * (this process's event loop, or the API server).
   */
  maxWakeLateMs = 0;
  maxWriteMs = 0;
  /** Profile uid → when each of its pods began counting, on any node. */
  private readonly podStarts = new Map<string, number[]>();
  private unsubscribe: (() => void) | undefined;

  constructor(readonly options: SimulatedAgentsOptions) {}

  start(): void {
    this.unsubscribe = this.options.plans.on((event) => {
      if (event.type === 'deleted' || event.type === 'resync') return;
      this.agentOf(event.object).follow(event.object);
    });
    for (const plan of this.options.plans.list()) this.agentOf(plan).follow(plan);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all([...this.agents.values()].map((agent) => agent.stop()));
  }

  /** What every node has counted for a profile by tMs: the truth its status should catch up with. */
  countedBy(profileUid: string, tMs: number): number {
    let total = 0;
    for (const startMs of this.podStarts.get(profileUid) ?? []) total += this.execs(startMs, tMs);
    return total;
  }

  /** Execs one pod has counted by tMs since startMs. */
  execs(startMs: number, tMs: number): number {
    return Math.max(0, Math.floor(((tMs - startMs) / 1000) * this.options.execsPerPodPerSecond));
  }

  podCounting(profileUid: string, startMs: number): void {
    const starts = this.podStarts.get(profileUid) ?? [];
    this.podStarts.set(profileUid, starts);
    starts.push(startMs);
  }

  private agentOf(plan: PlanObject): SimulatedAgent {
    const node = plan.metadata?.name ?? '';
    let agent = this.agents.get(node);
    if (agent === undefined) {
      agent = new SimulatedAgent(node, this);
      this.agents.set(node, agent);
    }
    return agent;
  }
}
