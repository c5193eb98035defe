// oomkill.h's struct oomkill_event → a checked OomkillEvent, and
// per-cgroup aggregation of those events into OomkillResults.
import { z } from 'zod';
import type { OomkillResult } from './oomkill.js';
import { decodeStruct } from '../../engine/probes/kernel-decode.js';
import { layouts } from './layout.generated.js';
import { TopList } from '../../engine/probes/top-list.js';

const EVENT = layouts.oomkill_event;
export const OOMKILL_EVENT_SIZE = EVENT.size;

const u64 = z.bigint().min(0n);
const u32 = z.number().int().min(0).max(0xffff_ffff);

export const OomkillEventSchema = z.object({
  cgroupId: u64,
  profiles: u64,
  timeNs: u64,
  /** Pages the victim had mapped. */
  totalVmPages: u64,
  pid: u32,
  uid: u32,
  /** The process whose allocation ran out of memory; often, not always, the victim. */
  triggerPid: u32,
  comm: z.string(),
});
export type OomkillEvent = z.output<typeof OomkillEventSchema>;

export function decodeOomkillEvent(buf: Buffer): OomkillEvent {
  const c = decodeStruct(buf, EVENT);
  return OomkillEventSchema.parse({ ...c, totalVmPages: c.totalVm });
}

/** Flat OpenTelemetry-style attributes of one event. */
export function oomkillEventAttributes(e: OomkillEvent): Record<string, string | number> {
  return {
    'loupe.event': 'oom_kill',
    'process.pid': e.pid,
    'process.executable.name': e.comm,
    'process.user.id': e.uid,
    'loupe.oom.trigger_pid': e.triggerPid,
    'loupe.oom.total_vm_pages': Number(e.totalVmPages),
  };
}

/** Kills since the last drain, per cgroup. */
export class OomkillAggregator {
  private victims = new Map<bigint, TopList>();

  add(e: OomkillEvent): void {
    let commands = this.victims.get(e.cgroupId);
    if (commands === undefined) this.victims.set(e.cgroupId, (commands = new TopList(false)));
    commands.add(e.comm, 1);
  }

  drain(): Map<bigint, OomkillResult> {
    const results = new Map<bigint, OomkillResult>();
    for (const [cgroupId, commands] of this.victims) {
      const topCommands = commands.entries();
      results.set(cgroupId, { kills: topCommands.reduce((sum, e) => sum + e.count, 0), topCommands });
    }
    this.victims = new Map();
    return results;
  }
}
