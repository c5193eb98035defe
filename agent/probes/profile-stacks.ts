// Sampled stacks as text: frames in Brendan Gregg's folded format
// ("comm;main;work;leaf_[k] 42", root first), which flame graph tools and
// `loupe` downloads use, and the per-cgroup aggregation into ProfileResults.
import type { ProfileResult } from '../../api/results.js';
import { UNKNOWN_FUNCTION, type Frame } from '../symbolize/symbolizer.js';
import { TopList } from './top-list.js';

/** A folded stack is a TopEntry key: at most this long, cut from the root end. */
export const MAX_FOLDED_STACK_CHARS = 256;
const CUT_MARK = '…';

/** Folded stacks of one profile (or cgroup, or pod) with their sample counts, for download. */
export interface FoldedStacks {
  /** Samples per second per CPU the counts were taken at. */
  frequencyHz: number;
  /** Folded stack → samples. */
  stacks: ReadonlyMap<string, number>;
}

/** One frame of a folded stack: the name alone, `_[k]` marking kernel frames; unknown ones name their module. */
export function foldedFrame(frame: Frame): string {
  const text = frame.name === UNKNOWN_FUNCTION ? `${UNKNOWN_FUNCTION} (${frame.module})` : frame.name;
  return (frame.kernel ? `${text}_[k]` : text).replaceAll(';', ':');
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

/** Folded text: one "stack count" line per stack, busiest first. */
export function formatFolded(stacks: FoldedStacks): string {
  return [...stacks.stacks]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([stack, n]) => `${stack} ${n}\n`)
    .join('');
}

/** The folded stacks of results (a profile's cgroups), summed. */
export function foldedStacksOf(results: Iterable<ProfileResult>, frequencyHz: number): FoldedStacks {
  const stacks = new Map<string, number>();
  for (const r of results) for (const e of r.topStacks) stacks.set(e.key, (stacks.get(e.key) ?? 0) + e.count);
  return { frequencyHz, stacks };
}

/** One sample's worth: who, where, how many times. */
export interface StackSample {
  cgroupId: bigint;
  /** The leaf ("self") frame: the kernel's if the sample was in the kernel. */
  leaf: Frame;
  folded: string;
  count: number;
}

/** Samples since the last drain, per cgroup. */
export class ProfileAggregator {
  private tallies = new Map<bigint, { samples: number; frames: TopList; stacks: TopList }>();

  add(s: StackSample): void {
    let t = this.tallies.get(s.cgroupId);
    if (t === undefined) {
      t = { samples: 0, frames: new TopList(false), stacks: new TopList(false) };
      this.tallies.set(s.cgroupId, t);
    }
    t.samples += s.count;
    t.frames.add(frameKey(s.leaf), s.count);
    t.stacks.add(s.folded, s.count);
  }

  drain(): Map<bigint, ProfileResult> {
    const results = new Map<bigint, ProfileResult>();
    for (const [cgroupId, t] of this.tallies) {
      results.set(cgroupId, { samples: t.samples, topFrames: t.frames.entries(), topStacks: t.stacks.entries() });
    }
    this.tallies = new Map();
    return results;
  }
}
