// NodeTracePlans from the informer cache, parsed once per stored version, and
// the lookups the reconcilers need: which nodes carry a profile, what each
// node reports about it. An index by profile, kept from the informer's
// events, makes those lookups cost the profile's nodes, not the cluster's:
// at 5,000 nodes a profile's status is built from its few hundred.
import {
  NodeTracePlanSpecSchema,
  NodeTracePlanStatusSchema,
  type NodeTracePlanSpec,
  type NodeTracePlanStatus,
} from '../../api/nodetraceplan.js';
import type { InformerEvent } from '../../kube/informer.js';
import type { KubeObject } from '../../kube/kube-object.js';
import type { ObjectReader } from '../../kube/object-cache.js';
import type { NodeReport } from '../node-readiness.js';

export type PlanObject = KubeObject & { spec?: unknown; status?: unknown };

export interface ParsedPlan {
  name: string;
  uid: string;
  /** Undefined when the stored spec does not parse (then it is rewritten). */
  spec?: NodeTracePlanSpec;
  /** Undefined until the agent reports (or if its report does not parse). */
  status?: NodeTracePlanStatus;
}

export class PlanStore {
  private readonly parsed = new WeakMap<PlanObject, ParsedPlan>();
  /** Profile uid → nodes whose plan carries or reports it; and the reverse, to update it. */
  private readonly nodesByProfile = new Map<string, Set<string>>();
  private readonly profilesByNode = new Map<string, Set<string>>();

  constructor(private readonly cache: ObjectReader<PlanObject>) {}

  /** Feed every plan informer event here, before the reconcilers read. */
  observe(event: InformerEvent<PlanObject>): void {
    const plan = this.parse(event.object);
    for (const uid of this.profilesByNode.get(plan.name) ?? []) {
      const nodes = this.nodesByProfile.get(uid);
      nodes?.delete(plan.name);
      if (nodes?.size === 0) this.nodesByProfile.delete(uid);
    }
    this.profilesByNode.delete(plan.name);
    if (event.type === 'deleted') return;
    const uids = new Set([...(plan.spec?.profiles ?? []), ...(plan.status?.profiles ?? [])].map((entry) => entry.uid));
    if (uids.size > 0) this.profilesByNode.set(plan.name, uids);
    for (const uid of uids) {
      let nodes = this.nodesByProfile.get(uid);
      if (nodes === undefined) this.nodesByProfile.set(uid, (nodes = new Set()));
      nodes.add(plan.name);
    }
  }

  /** The plans that carry or report the profile. */
  private plansOf(profileUid: string): ParsedPlan[] {
    return [...(this.nodesByProfile.get(profileUid) ?? [])].flatMap((name) => this.get(name) ?? []);
  }

  get(name: string): ParsedPlan | undefined {
    const raw = this.cache.get(name);
    return raw === undefined ? undefined : this.parse(raw);
  }

  all(): ParsedPlan[] {
    return this.cache.list().map((raw) => this.parse(raw));
  }

  parse(raw: PlanObject): ParsedPlan {
    let plan = this.parsed.get(raw);
    if (plan === undefined) {
      plan = { name: raw.metadata?.name ?? '', uid: raw.metadata?.uid ?? '' };
      const spec = NodeTracePlanSpecSchema.safeParse(raw.spec);
      if (spec.success) plan.spec = spec.data;
      const status = NodeTracePlanStatusSchema.safeParse(raw.status);
      if (raw.status !== undefined && status.success) plan.status = status.data;
      this.parsed.set(raw, plan);
    }
    return plan;
  }

  /** Nodes whose plan spec carries the profile. */
  nodesPlanning(profileUid: string): string[] {
    return this.plansOf(profileUid)
      .filter((plan) => plan.spec?.profiles.some((entry) => entry.uid === profileUid))
      .map((plan) => plan.name);
  }

  /** What every node that carries or reports the profile says about it. */
  reportsFor(profileUid: string): Map<string, NodeReport> {
    const reports = new Map<string, NodeReport>();
    for (const plan of this.plansOf(profileUid)) {
      const planned = plan.spec?.profiles.some((entry) => entry.uid === profileUid) ?? false;
      const entry = plan.status?.profiles?.find((p) => p.uid === profileUid);
      if (!planned && entry === undefined) continue;
      const report: NodeReport = {};
      if (plan.status?.heartbeat !== undefined) report.heartbeat = plan.status.heartbeat;
      if (plan.spec?.reportIntervalSeconds !== undefined) report.reportIntervalSeconds = plan.spec.reportIntervalSeconds;
      if (entry !== undefined) report.entry = entry;
      reports.set(plan.name, report);
    }
    return reports;
  }

  /** Container names per pod uid in the profile's planned targets, across nodes. */
  plannedContainers(profileUid: string): Map<string, string[]> {
    const byPod = new Map<string, string[]>();
    for (const plan of this.plansOf(profileUid)) {
      for (const target of plan.spec?.profiles.find((entry) => entry.uid === profileUid)?.targets ?? []) {
        byPod.set(target.podUid, [...(byPod.get(target.podUid) ?? []), target.container]);
      }
    }
    return byPod;
  }
}
