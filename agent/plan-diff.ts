// What the probe manager must do to match the plan: register profiles that
// appeared, update those whose probes or targets changed, unregister those the
// plan dropped. A profile that is not active stays registered with no targets:
// its probes detach (unless another profile needs them) while its results are
// kept, so its final numbers are still reported.
import type { NodeProfilePlan } from '../api/nodetraceplan.js';
import type { ProbeName } from '../api/results.js';
import type { ProfileSpec } from './probe-manager.js';

export type PlanAction =
  | { kind: 'register'; uid: string; spec: ProfileSpec }
  | { kind: 'update'; uid: string; spec: ProfileSpec }
  | { kind: 'unregister'; uid: string };

/** The manager's spec for one plan entry, given the cgroup ids its targets resolved to. */
export function managerSpec(profile: NodeProfilePlan, cgroupIds: readonly bigint[]): ProfileSpec {
  const probes: ProbeName[] = [...new Set(profile.probes.map((p) => p.name))].sort();
  return { probes, targets: profile.active ? [...cgroupIds] : [] };
}

function sameSet<T>(a: readonly T[], b: readonly T[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

export function sameSpec(a: ProfileSpec, b: ProfileSpec): boolean {
  return sameSet(a.probes, b.probes) && sameSet(a.targets, b.targets);
}

/**
 * Actions turning `current` (profile uid → spec the manager has) into
 * `desired`. Unregistrations come first so their slots are free for new
 * profiles; then updates, then registrations.
 */
export function diffPlan(current: ReadonlyMap<string, ProfileSpec>, desired: ReadonlyMap<string, ProfileSpec>): PlanAction[] {
  const actions: PlanAction[] = [];
  for (const uid of current.keys()) {
    if (!desired.has(uid)) actions.push({ kind: 'unregister', uid });
  }
  for (const [uid, spec] of desired) {
    const now = current.get(uid);
    if (now !== undefined && !sameSpec(now, spec)) actions.push({ kind: 'update', uid, spec });
  }
  for (const [uid, spec] of desired) {
    if (!current.has(uid)) actions.push({ kind: 'register', uid, spec });
  }
  return actions;
}
