// When an agent writes its NodeTracePlan status. Once per status period at
// most (statusPeriodMs: the longer of its shortest profile interval and the
// plan's reportIntervalSeconds, sized by the operator to the cluster), at a phase
// of the period drawn from the node's name: 5,000 agents on a 2-minute period
// write ~42 times a second, evenly, not 5,000 at once every 2 minutes. A slot
// with no news still writes if the last write is a period old (the heartbeat
// the operator judges silence by). A changed plan's news goes out sooner than
// the slot, so a new profile shows Running: at once in a small cluster, and in
// a large one at a point of a window drawn from the same hash, because a
// profile applied cluster-wide changes every plan in the same second and
// 5,000 agents answering at once would stall the API server (and with it the
// operator's Lease).
import { MIN_REPORT_INTERVAL_SECONDS, type NodeTracePlanStatus } from '../api/nodetraceplan.js';
import { nextSlotMs, slotPhase } from '../api/write-slot.js';
import { sameReport } from './node-status.js';
import { HEARTBEAT_FLOOR_MS } from './plan-interval.js';

/**
 * Over how long the agents' reports of one plan change spread: none at the
 * shortest report interval (few nodes), else the interval less that, so
 * they write at about the rate the interval was sized for.
 */
export function newsSpreadMs(reportIntervalSeconds: number | undefined): number {
  return Math.max(0, (reportIntervalSeconds ?? 0) - MIN_REPORT_INTERVAL_SECONDS) * 1000;
}

export type ReportOutcome = 'written' | 'not due' | 'no news';

export class StatusReporter {
  private readonly phase: number;
  private lastWritten: NodeTracePlanStatus | undefined;
  private lastWriteMs = -Infinity;
  /** The next slot; undefined until the first offer. */
  private dueMs: number | undefined;
  /** When the news of a plan change goes out, if it has not yet. */
  private newsDueMs: number | undefined;

  constructor(
    nodeName: string,
    private readonly write: (status: NodeTracePlanStatus) => Promise<void>,
  ) {
    this.phase = slotPhase(nodeName);
  }

  /** When the agent should wake to write next (it may have other work sooner). */
  nextDueMs(nowMs: number, periodMs: number): number {
    return Math.min(this.slotDueMs(nowMs, periodMs), this.newsDueMs ?? Infinity);
  }

  /** The plan changed at nowMs: its news is due after this node's share of spreadMs (newsSpreadMs), or at its slot if sooner. */
  planChanged(nowMs: number, spreadMs: number): void {
    this.newsDueMs ??= nowMs + this.phase * spreadMs;
  }

  /**
   * Writes status now if it is due: the news of a plan change once its time
   * has come, any news at once when `immediate` (the agent stops), and
   * otherwise only at a slot, news or a heartbeat. A failed write throws; the
   * status is due again at the next slot (a stopping agent's at the next call).
   */
  async offer(status: NodeTracePlanStatus, nowMs: number, periodMs: number, immediate: boolean): Promise<ReportOutcome> {
    const news = !sameReport(this.lastWritten, status);
    const changeDue = this.newsDueMs !== undefined && nowMs >= this.newsDueMs;
    // Its one chance: a change with nothing to report, or whose write fails, waits for the slots.
    if (changeDue) this.newsDueMs = undefined;
    if (!(news && (immediate || changeDue))) {
      if (nowMs < this.slotDueMs(nowMs, periodMs)) return 'not due';
      this.dueMs = nextSlotMs(nowMs + 1, periodMs, this.phase);
      // Half a period of slack: a timer that fires a little early must not skip a heartbeat.
      const heartbeatDue = nowMs - this.lastWriteMs >= Math.max(periodMs, HEARTBEAT_FLOOR_MS) - periodMs / 2;
      if (!news && !heartbeatDue) return 'no news';
    }
    await this.write(status);
    this.lastWritten = status;
    this.lastWriteMs = nowMs;
    this.newsDueMs = undefined; // a slot's write carried the news too
    return 'written';
  }

  private slotDueMs(nowMs: number, periodMs: number): number {
    // A shorter period (a plan change) moves the slot closer.
    if (this.dueMs === undefined || this.dueMs > nowMs + periodMs) this.dueMs = nextSlotMs(nowMs, periodMs, this.phase);
    return this.dueMs;
  }
}
