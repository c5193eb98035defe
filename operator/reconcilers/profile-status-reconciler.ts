// Writes a TraceProfile's status from the caches: what its selector matches
// (pods), what its nodes report (plan statuses), its session. Writes only
// when the status would change, and records an Event when the phase changes
// or nodes start reporting errors, for `kubectl describe`. New results alone
// wait for the profile's share of the write budget (write-budget.ts); any
// other change (phase, readiness, conditions, targets) is written at once.
import type { Logger } from 'pino';
import type { TraceProfileStatus } from '../../api/traceprofile.js';
import { profileTargets, type Pod } from '../pod-targets.js';
import { computeProfileStatus, invalidProfileStatus } from '../profile-status.js';
import { isProfileActive } from '../profile-session.js';
import { sameJson, sameJsonExcept } from '../same-json.js';
import { resultsWriteDueMs } from '../write-budget.js';
import type { Clock } from '../../kube/clock.js';
import type { EventType } from '../../kube/event-recorder.js';
import type { KubeObject } from '../../kube/kube-object.js';
import type { ObjectReader } from '../../kube/object-cache.js';
import type { PlanStore } from './plan-store.js';
import type { ProfileStore } from './profile-store.js';

export type ProfileObject = KubeObject & { status?: TraceProfileStatus };

export interface ProfileStatusWriter {
  applyStatus(profile: KubeObject, status: TraceProfileStatus): Promise<void>;
  recordEvent(profile: KubeObject, type: EventType, reason: string, note: string): Promise<void>;
}

export interface ProfileStatusReconcilerDeps {
  profiles: ProfileStore;
  pods: ObjectReader<Pod>;
  plans: PlanStore;
  writer: ProfileStatusWriter;
  clock: Clock;
  /** The least time between two writes of one profile's status that only bring new results. */
  resultsWriteGapMs: () => number;
  logger?: Logger;
}

export interface ProfileReconcileResult {
  written: boolean;
  /** Reconcile again at this time even if nothing else happens. */
  recheckAtMs?: number;
}

const PHASE_EVENTS: Record<string, { type: EventType; reason: string }> = {
  Pending: { type: 'Normal', reason: 'Pending' },
  Running: { type: 'Normal', reason: 'Tracing' },
  Completed: { type: 'Normal', reason: 'Completed' },
  Suspended: { type: 'Normal', reason: 'Suspended' },
  Failed: { type: 'Warning', reason: 'Failed' },
};

/** The status fields that move with every node report; the rest change only when something happens. */
const RESULT_FIELDS = ['results', 'pods', 'timeline', 'truncated', 'cost', 'costSummary', 'headline'] as const;

export class ProfileStatusReconciler {
  /** Profile uid → when this replica last wrote its status. */
  private readonly lastWriteMs = new Map<string, number>();

  constructor(private readonly deps: ProfileStatusReconcilerDeps) {}

  /** When new results of the profile may next be written (now or earlier: at once). */
  resultsDueAtMs(uid: string): number {
    return resultsWriteDueMs(uid, this.lastWriteMs.get(uid), this.deps.resultsWriteGapMs());
  }

  /** Drops what is kept about a deleted profile. */
  forget(uid: string): void {
    this.lastWriteMs.delete(uid);
  }

  async reconcile(raw: ProfileObject): Promise<ProfileReconcileResult> {
    const { profiles, pods, plans, clock } = this.deps;
    const nowMs = clock.now();
    const parsed = profiles.parse(raw);
    if (!parsed.ok) {
      const status = invalidProfileStatus(raw.status, raw.metadata?.generation ?? 0, parsed.error, nowMs);
      return this.write(raw, status, nowMs);
    }
    const { profile } = parsed;
    const uid = profile.metadata.uid ?? '';
    const targets = profileTargets(profile, pods.list({ namespace: profile.metadata.namespace, labelSelector: profile.spec.selector }));
    // While tracing, a profile belongs on the nodes of its pods; once stopped, on the nodes that still carry it.
    const nodes = isProfileActive(profile, nowMs) ? [...targets.byNode.keys()].sort() : plans.nodesPlanning(uid).sort();
    const containers = plans.plannedContainers(uid);
    const { status, recheckAtMs } = computeProfileStatus({
      profile,
      targets,
      nodes,
      reports: plans.reportsFor(uid),
      containersOf: (podUid) => (containers.get(podUid) ?? []).slice(0, 16),
      nowMs,
    });
    const result = await this.write(raw, status, nowMs);
    const recheck = Math.min(recheckAtMs ?? Infinity, result.recheckAtMs ?? Infinity);
    return Number.isFinite(recheck) ? { written: result.written, recheckAtMs: recheck } : { written: result.written };
  }

  private async write(raw: ProfileObject, status: TraceProfileStatus, nowMs: number): Promise<ProfileReconcileResult> {
    const previous = raw.status;
    if (sameJson(previous, status)) return { written: false };
    const uid = raw.metadata?.uid ?? '';
    const notBeforeMs = this.resultsDueAtMs(uid);
    if (previous !== undefined && nowMs < notBeforeMs && sameJsonExcept(previous, status, RESULT_FIELDS)) return { written: false, recheckAtMs: notBeforeMs };
    await this.deps.writer.applyStatus(raw, status);
    this.lastWriteMs.set(uid, nowMs);
    this.deps.logger?.debug({ profile: `${raw.metadata?.namespace}/${raw.metadata?.name}`, phase: status.phase }, 'wrote status');
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    const event = status.phase === undefined ? undefined : PHASE_EVENTS[status.phase];
    if (event !== undefined && status.phase !== previous?.phase) {
      await this.deps.writer.recordEvent(raw, event.type, event.reason, ready?.message || `phase ${status.phase}`);
    }
    const degraded = status.conditions?.find((c) => c.type === 'Degraded');
    const before = previous?.conditions?.find((c) => c.type === 'Degraded');
    // A new reason is news too: a node erroring, then a probe dropped for the budget.
    if (degraded?.status === 'True' && (before?.status !== 'True' || before.reason !== degraded.reason)) {
      await this.deps.writer.recordEvent(raw, 'Warning', degraded.reason, degraded.message);
    }
    return { written: true };
  }
}
