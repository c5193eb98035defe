// Sampled stacks as text: frames in Brendan Gregg's folded format
// ("comm;main;work;leaf_[k] 42", root first), which flame graph tools and
// `loupe` downloads use, and the per-cgroup aggregation into ProfileResults.
import { mergeTop, type TimedTopEntry } from '../../api/top-list.js';
import type { ProfileResult } from './profile.js';
import { UNKNOWN_FUNCTION, type Frame } from '../../engine/symbolize/symbolizer.js';

/** A folded stack is a TopEntry key: at most this long, cut from the root end. */
export const MAX_FOLDED_STACK_CHARS = 256;
const CUT_MARK = '…';

/** What the samples of one stack add up to. */
export interface StackTotal {
  samples: number;
  /** On-CPU nanoseconds: each sample weighted by the sampling period in force when it was taken. */
  cpuNs: number;
}

/** Folded stacks of one profile (or cgroup, or pod) with their samples and CPU time, for download. */
export interface FoldedStacks {
  /** Samples per second per CPU the probe samples at now (earlier samples may have been taken at other rates). */
  frequencyHz: number;
  /** Folded stack → its samples and CPU time. */
  stacks: ReadonlyMap<string, StackTotal>;
}

/** NSEC_PER_SEC / frequency, truncated: the period the kernel gives a cpu-clock event opened at that frequency. */
export function samplingPeriodNs(frequencyHz: number): number {
  return Math.floor(1e9 / frequencyHz);
}

/** What ends a kernel frame's name in a folded stack, as Brendan Gregg's stackcollapse scripts mark them. */
export const KERNEL_FRAME_SUFFIX = '_[k]';

/** One frame of a folded stack: the name alone, KERNEL_FRAME_SUFFIX marking kernel frames; unknown ones name their module. */
export function foldedFrame(frame: Frame): string {
  const text = frame.name === UNKNOWN_FUNCTION ? `${UNKNOWN_FUNCTION} (${frame.module})` : frame.name;
  return (frame.kernel ? `${text}${KERNEL_FRAME_SUFFIX}` : text).replaceAll(';', ':');
}

/** A frame as a top-frames key: "function (module)". */
export function frameKey(frame: Frame): string {
  return `${frame.name} (${frame.module})`;
}

/**
 * The folded stack of one sample: the command, then user frames, then kernel
 * frames, each outermost first. Frames come leaf first, as the kernel records
 * them. Too long a stack loses frames at the root (the hot end is the leaf).
 */
export function foldStack(comm: string, userLeafFirst: readonly Frame[], kernelLeafFirst: readonly Frame[]): string {
  const frames = [
    comm.replaceAll(';', ':'),
    ...[...userLeafFirst].reverse().map(foldedFrame),
    ...[...kernelLeafFirst].reverse().map(foldedFrame),
  ];
  let folded = frames.join(';');
  while (folded.length > MAX_FOLDED_STACK_CHARS && frames.length > 1) {
    frames.shift();
    folded = `${CUT_MARK};${frames.join(';')}`;
  }
  return folded.length > MAX_FOLDED_STACK_CHARS ? folded.slice(-MAX_FOLDED_STACK_CHARS) : folded;
}

/**
 * Folded text: one "stack samples" line per stack, busiest (by CPU time)
 * first. The numbers are sample counts, as flame graph tools expect; after a
 * change of rate a stack's width is its samples, not its time (pprof has both).
 */
export function formatFolded(stacks: FoldedStacks): string {
  return [...stacks.stacks]
    .sort((a, b) => b[1].cpuNs - a[1].cpuNs || b[1].samples - a[1].samples || (a[0] < b[0] ? -1 : 1))
    .map(([stack, t]) => `${stack} ${t.samples}\n`)
    .join('');
}

/**
 * The folded stacks of results (a profile's cgroups), summed. An entry
 * without cpuNs (from an agent before it, through a restart baseline) can
 * only be timed at the current frequency.
 */
export function foldedStacksOf(results: Iterable<ProfileResult>, frequencyHz: number): FoldedStacks {
  const stacks = new Map<string, StackTotal>();
  for (const r of results) {
    for (const e of r.topStacks) {
      const seen = stacks.get(e.key) ?? { samples: 0, cpuNs: 0 };
      stacks.set(e.key, { samples: seen.samples + e.count, cpuNs: seen.cpuNs + (e.cpuNs ?? e.count * samplingPeriodNs(frequencyHz)) });
    }
  }
  return { frequencyHz, stacks };
}

/** One kernel count's worth: who, where, how many times, for how long. */
export interface StackSample {
  cgroupId: bigint;
  /** The leaf ("self") frame: the kernel's if the sample was in the kernel. */
  leaf: Frame;
  folded: string;
  count: number;
  /** The periods of those samples, summed (in the kernel, as each was taken). */
  cpuNs: number;
}

/** Samples since the last drain, per cgroup. */
export class ProfileAggregator {
  private tallies = new Map<bigint, { samples: number; cpuNs: number; frames: TimedTopEntry[]; stacks: TimedTopEntry[] }>();

  add(s: StackSample): void {
    let t = this.tallies.get(s.cgroupId);
    if (t === undefined) {
      t = { samples: 0, cpuNs: 0, frames: [], stacks: [] };
      this.tallies.set(s.cgroupId, t);
    }
    t.samples += s.count;
    t.cpuNs += s.cpuNs;
    t.frames.push({ key: frameKey(s.leaf), count: s.count, cpuNs: s.cpuNs });
    t.stacks.push({ key: s.folded, count: s.count, cpuNs: s.cpuNs });
  }

  /** Per cgroup, its samples and CPU time, and complete top lists ranked by CPU time. */
  drain(): Map<bigint, ProfileResult> {
    const results = new Map<bigint, ProfileResult>();
    for (const [cgroupId, t] of this.tallies) {
      results.set(cgroupId, { samples: t.samples, cpuNs: t.cpuNs, topFrames: mergeTop(t.frames), topStacks: mergeTop(t.stacks) });
    }
    this.tallies = new Map();
    return results;
  }
}
