// exec.h's struct exec_event → a checked ExecEvent, and per-cgroup
// aggregation of those events into ExecResults.
import { z } from 'zod';
import type { ExecResult } from './exec.js';
import { decodeStruct } from '../../engine/probes/kernel-decode.js';
import { layouts } from './layout.generated.js';
import { TopList } from '../../engine/probes/top-list.js';

const EVENT = layouts.exec_event;
export const EXEC_EVENT_SIZE = EVENT.size;
const KIND_EXEC = 1;
const KIND_EXIT = 2;

const u64 = z.bigint().min(0n);
const u32 = z.number().int().min(0).max(0xffff_ffff);

export const ExecEventSchema = z.object({
  cgroupId: u64,
  profiles: u64,
  timeNs: u64,
  kind: z.union([z.literal(KIND_EXEC), z.literal(KIND_EXIT)]).transform((k) => (k === KIND_EXEC ? 'exec' : 'exit')),
  pid: u32,
  ppid: u32,
  /** Wait status: exit code in bits 8-15, terminating signal in bits 0-6. */
  exitStatus: u32,
  comm: z.string(),
  filename: z.string(),
});
export type ExecEvent = z.output<typeof ExecEventSchema>;

export function decodeExecEvent(buf: Buffer): ExecEvent {
  const c = decodeStruct(buf, EVENT);
  return ExecEventSchema.parse({ ...c, exitStatus: c.exitCode });
}

/** exit(code) → code; death by signal → 128 + signal, as shells report it. */
export function exitCodeOf(exitStatus: number): number {
  const signal = exitStatus & 0x7f;
  return signal === 0 ? (exitStatus >> 8) & 0xff : 128 + signal;
}

/** Flat OpenTelemetry-style attributes of one event. */
export function execEventAttributes(e: ExecEvent): Record<string, string | number> {
  const attributes: Record<string, string | number> = {
    'loupe.event': e.kind,
    'process.pid': e.pid,
    'process.parent_pid': e.ppid,
    'process.executable.name': e.comm,
  };
  if (e.kind === 'exec') attributes['process.executable.path'] = e.filename;
  else attributes['process.exit.code'] = exitCodeOf(e.exitStatus);
  return attributes;
}

interface CgroupTally {
  execs: number;
  exits: number;
  commands: TopList;
}

/** Events since the last drain, per cgroup. */
export class ExecAggregator {
  private tallies = new Map<bigint, CgroupTally>();

  add(e: ExecEvent): void {
    let t = this.tallies.get(e.cgroupId);
    if (!t) {
      t = { execs: 0, exits: 0, commands: new TopList(false) };
      this.tallies.set(e.cgroupId, t);
    }
    if (e.kind === 'exec') {
      t.execs++;
      t.commands.add(e.filename, 1);
    } else {
      t.exits++;
    }
  }

  drain(): Map<bigint, ExecResult> {
    const results = new Map<bigint, ExecResult>();
    for (const [cgroupId, t] of this.tallies) {
      results.set(cgroupId, { execs: t.execs, exits: t.exits, topCommands: t.commands.entries() });
    }
    this.tallies = new Map();
    return results;
  }
}
