// A log2 latency histogram as text bars, the way bpftrace's hist() draws
// one: a line per bucket from the first non-empty to the last (the empty
// ones between included, so gaps between modes show), each with its range,
// its count and a bar scaled to the largest bucket. Ranges are in ns, µs,
// ms and s, each bound the bucket's exact power of two (1.0µs is 1024 ns).
import type { Log2Histogram } from '../../api/histogram.js';
import { formatCount } from '../../api/probe-format.js';

/** Bar width, in characters, of the largest bucket. */
export const BAR_WIDTH = 40;

/** 512ns, 1.0µs, 16µs, 134ms, 1.1s: 2^slot ns in the largest unit it fills. */
function formatBound(slot: number): string {
  const ns = 2 ** slot;
  if (ns < 1_000) return `${ns}ns`;
  const [size, unit] = ns < 1e6 ? [1e3, 'µs'] : ns < 1e9 ? [1e6, 'ms'] : [1e9, 's'];
  const scaled = ns / size;
  return `${scaled >= 10 ? Math.round(scaled) : scaled.toFixed(1)}${unit}`;
}

/** A histogram slot's range: "0" for the zero bucket (slot -1), else (2^(slot-1), 2^slot] ns. */
export function bucketLabel(slot: number): string {
  if (slot < 0) return '0';
  return `(${slot === 0 ? '0' : formatBound(slot - 1)}, ${formatBound(slot)}]`;
}

/** Counts by slot, from slot -1 (the zero bucket). */
export function slotCounts(h: Log2Histogram): Map<number, number> {
  return new Map([[-1, h.zeroCount], ...h.buckets.map((c, k): [number, number] => [k, c])]);
}

/** "latencyNs" → "latency", "serverLatencyNs" → "server latency": a result member as words. */
export function memberWords(member: string): string {
  return member
    .replace(/Ns$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

/** Bar lines of a histogram, empty when it has no counts. */
export function renderHistogramBars(h: Log2Histogram, width = BAR_WIDTH): string[] {
  const counts = slotCounts(h);
  const filled = [...counts].filter(([, c]) => c > 0).map(([slot]) => slot);
  if (filled.length === 0) return [];
  const lowest = Math.min(...filled);
  const slots = Array.from({ length: Math.max(...filled) - lowest + 1 }, (_, i) => lowest + i);
  const max = Math.max(...counts.values());
  const labels = slots.map(bucketLabel);
  const numbers = slots.map((s) => formatCount(counts.get(s) ?? 0));
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const numberWidth = Math.max(...numbers.map((n) => n.length));
  return slots.map((slot, i) => {
    const c = counts.get(slot) ?? 0;
    // A bucket with any count shows at least one mark, so a rare slow call is not lost to rounding.
    const length = c === 0 ? 0 : Math.max(1, Math.round((c / max) * width));
    return `${labels[i]!.padEnd(labelWidth)} ${numbers[i]!.padStart(numberWidth)} |${'@'.repeat(length).padEnd(width)}|`;
  });
}
