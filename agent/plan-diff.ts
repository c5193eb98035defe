// What the probe manager must do to match the plan: register profiles that
// appeared, update those whose probes, probe options or targets changed, unregister those the
// plan dropped. A profile that is not active stays registered with no targets:
// its probes detach (unless another profile needs them) while its results are
// kept, so its final numbers are still reported.
import type { NodeProfilePlan } from '../api/nodetraceplan.js';
import type { ProbeSpec } from '../api/probes.js';
import type { ProfileSpec } from '../engine/probe-manager.js';

export type PlanAction =
  | { kind: 'register'; uid: string; spec: ProfileSpec }
  | { kind: 'update'; uid: string; spec: ProfileSpec }
  | { kind: 'unregister'; uid: string };

/** The manager's spec for one plan entry, given the cgroup ids its targets resolved to. */
export function managerSpec(profile: NodeProfilePlan, cgroupIds: readonly bigint[]): ProfileSpec {
  const probes = [...profile.probes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { probes, targets: profile.active ? [...cgroupIds] : [] };
}

function sameSet<T>(a: readonly T[], b: readonly T[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

/** A probe spec as text, options included, independent of key order. */
function probeKey(spec: ProbeSpec): string {
  return JSON.stringify(spec, Object.keys(spec).sort());
}

export function sameSpec(a: ProfileSpec, b: ProfileSpec): boolean {
  return sameSet(a.probes.map(probeKey), b.probes.map(probeKey)) && sameSet(a.targets, b.targets);
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
