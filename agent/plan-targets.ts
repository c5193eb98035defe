// A profile's targets on this node (containers, as pod status names them) →
// the cgroup ids its probes filter on. A container the agent cannot find is
// not an error of the profile: it is reported with the reason (not started
// yet, already gone, not on this node) and looked for again later.
import type { NodeTraceTarget } from '../api/nodetraceplan.js';
import { CgroupNotFoundError } from '../engine/cgroup/cgroup-id.js';

/** Status keeps reasons this short (schema maxLength). */
const MAX_REASON_CHARS = 256;
/** Status names at most this many of the directories looked in, each at most this long (schema bounds). */
const MAX_LOOKED_IN = 6;
const MAX_PATH_CHARS = 512;

export interface ResolvedTarget {
  target: NodeTraceTarget;
  cgroupId: bigint;
}

export interface UnresolvedTarget {
  target: NodeTraceTarget;
  reason: string;
  /** The cgroup directories the agent looked for, when the resolver names them. */
  lookedIn?: string[];
}

export interface TargetResolution {
  resolved: ResolvedTarget[];
  unresolved: UnresolvedTarget[];
}

/**
 * containerId (`containerd://…`) and the pod's uid on its node (a static
 * pod's config hash, else metadata.uid) → cgroup id; throws with the reason
 * when there is none (a CgroupNotFoundError names where it looked).
 */
export type ContainerResolver = (containerId: string, podUid: string) => bigint;

export function clipReason(text: string, max = MAX_REASON_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function resolvePlanTargets(targets: readonly NodeTraceTarget[], resolve: ContainerResolver): TargetResolution {
  const resolution: TargetResolution = { resolved: [], unresolved: [] };
  for (const target of targets) {
    try {
      resolution.resolved.push({ target, cgroupId: resolve(target.containerId, target.configHash ?? target.podUid) });
    } catch (err) {
      if (err instanceof CgroupNotFoundError && err.lookedIn !== undefined && err.lookedIn.length > 0) {
        const lookedIn = err.lookedIn.slice(0, MAX_LOOKED_IN).map((p) => clipReason(p, MAX_PATH_CHARS));
        resolution.unresolved.push({ target, reason: clipReason(err.reason), lookedIn });
      } else {
        resolution.unresolved.push({ target, reason: clipReason(err instanceof Error ? err.message : String(err)) });
      }
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
