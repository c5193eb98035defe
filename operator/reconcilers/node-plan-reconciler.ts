// Keeps one node's NodeTracePlan equal to what its pods and the cluster's
// TraceProfiles call for: created when a profile first targets the node,
// rewritten (server-side apply) only when its content changes, deleted when
// no profile targets the node or has results there any more.
import type { Logger } from 'pino';
import type { NodeTracePlanSpec } from '../../api/nodetraceplan.js';
import type { TraceProfile } from '../../api/traceprofile.js';
import { desiredNodePlan, planNeedsWrite, profilesWithResults } from '../node-plan.js';
import type { Clock } from '../../kube/clock.js';
import type { PlanStore } from './plan-store.js';
import type { PodsByNode } from './pods-by-node.js';
import type { ProfileStore } from './profile-store.js';

export interface PlanWriter {
  apply(spec: NodeTracePlanSpec): Promise<void>;
  /** Deletes the plan if it still has this uid. */
  delete(name: string, uid: string): Promise<void>;
}

export type PlanAction = 'created' | 'updated' | 'deleted' | 'unchanged';

export interface NodePlanReconcilerDeps {
  profiles: ProfileStore;
  plans: PlanStore;
  pods: PodsByNode;
  writer: PlanWriter;
  clock: Clock;
  /** How often agents may write their status now (write-budget.ts); awaited, since the first answer needs the API. */
  reportIntervalSeconds: () => Promise<number | undefined>;
  logger?: Logger;
}

export class NodePlanReconciler {
  constructor(private readonly deps: NodePlanReconcilerDeps) {}

  async reconcile(nodeName: string): Promise<PlanAction> {
    const { plans, pods, writer, clock, logger } = this.deps;
    const reportIntervalSeconds = await this.deps.reportIntervalSeconds();
    const current = plans.get(nodeName);
    const podsOnNode = pods.podsOn(nodeName);
    const desired = desiredNodePlan({
      nodeName,
      profiles: this.candidateProfiles(podsOnNode.map((pod) => pod.metadata?.namespace ?? ''), current?.spec),
      podsOnNode,
      current: current?.spec,
      reported: profilesWithResults(current?.status),
      ...(reportIntervalSeconds !== undefined && { reportIntervalSeconds }),
      nowMs: clock.now(),
    });
    if (desired === undefined) {
      if (current === undefined) return 'unchanged';
      await writer.delete(nodeName, current.uid);
      logger?.debug({ node: nodeName }, 'deleted plan: no profile targets this node or has results here');
      return 'deleted';
    }
    if (current !== undefined && !planNeedsWrite(current.spec, desired)) return 'unchanged';
    await writer.apply(desired);
    logger?.debug({ node: nodeName, profiles: desired.profiles.length }, 'applied plan');
    return current === undefined ? 'created' : 'updated';
  }

  /** Profiles of the namespaces of the node's pods, and those the plan already carries (they may be frozen there). */
  private candidateProfiles(namespaces: string[], current: NodeTracePlanSpec | undefined): TraceProfile[] {
    const byUid = new Map<string, TraceProfile>();
    for (const namespace of new Set(namespaces)) {
      for (const profile of this.deps.profiles.list(namespace)) byUid.set(profile.metadata.uid ?? '', profile);
    }
    for (const entry of current?.profiles ?? []) {
      if (byUid.has(entry.uid)) continue;
      const raw = this.deps.profiles.getRaw(`${entry.namespace}/${entry.name}`);
      const parsed = raw === undefined ? undefined : this.deps.profiles.parse(raw);
      if (parsed?.ok && parsed.profile.metadata.uid === entry.uid) byUid.set(entry.uid, parsed.profile);
    }
    return [...byUid.values()];
  }
}
