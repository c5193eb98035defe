// A profile's targets on this node (containers, as pod status names them) →
// the cgroup ids its probes filter on. A container the agent cannot find is
// not an error of the profile: it is reported with the reason (not started
// yet, already gone, not on this node) and looked for again later.
import type { NodeTraceTarget } from '../api/nodetraceplan.js';

/** Status keeps reasons this short (schema maxLength). */
const MAX_REASON_CHARS = 256;

export interface ResolvedTarget {
  target: NodeTraceTarget;
  cgroupId: bigint;
}

export interface UnresolvedTarget {
  target: NodeTraceTarget;
  reason: string;
}

export interface TargetResolution {
  resolved: ResolvedTarget[];
  unresolved: UnresolvedTarget[];
}

/** containerId (`containerd://…`) and pod uid → cgroup id; throws with the reason when there is none. */
export type ContainerResolver = (containerId: string, podUid: string) => bigint;

export function clipReason(text: string): string {
  return text.length <= MAX_REASON_CHARS ? text : `${text.slice(0, MAX_REASON_CHARS - 1)}…`;
}

export function resolvePlanTargets(targets: readonly NodeTraceTarget[], resolve: ContainerResolver): TargetResolution {
  const resolution: TargetResolution = { resolved: [], unresolved: [] };
  for (const target of targets) {
    try {
      resolution.resolved.push({ target, cgroupId: resolve(target.containerId, target.podUid) });
    } catch (err) {
      resolution.unresolved.push({ target, reason: clipReason(err instanceof Error ? err.message : String(err)) });
    }
  }
  return resolution;
}

/** Tries the unresolved targets again (their cgroups may have appeared since); resolved ones stay as they are. */
export function retryUnresolved(previous: TargetResolution, resolve: ContainerResolver): TargetResolution {
  if (previous.unresolved.length === 0) return previous;
  const retried = resolvePlanTargets(
    previous.unresolved.map((u) => u.target),
    resolve,
  );
  return { resolved: [...previous.resolved, ...retried.resolved], unresolved: retried.unresolved };
}

/** The distinct cgroup ids to filter on, in a stable order. */
export function targetCgroupIds(resolution: TargetResolution): bigint[] {
  return [...new Set(resolution.resolved.map((r) => r.cgroupId))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
