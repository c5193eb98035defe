// Log2 latency histograms, indexed the way OTLP exponential histograms at
// scale 0 index them, so a kernel histogram exports without loss:
// value 0 goes to the zero bucket; otherwise the OTLP index is ceil(log2 v) - 1,
// i.e. OTLP bucket i holds (2^i, 2^(i+1)]. We store slot k = ceil(log2 v), so
// buckets[k] holds (2^(k-1), 2^k] (buckets[0] holds exactly 1) and the OTLP
// export is these buckets with offset -1. The kernel computes k with one
// count-leading-zeros: k = 64 - clz(v - 1).
import { z } from 'zod';

/** Slots a kernel histogram keeps; slot 63 also holds everything above 2^63. */
export const HISTOGRAM_BUCKETS = 64;

export const Log2HistogramSchema = z.object({
  zeroCount: z.number().int().min(0).describe('Observations equal to zero.'),
  buckets: z
    .array(z.number().int().min(0))
    .max(HISTOGRAM_BUCKETS)
    .describe('buckets[k] counts observations in (2^(k-1), 2^k]; trailing zero buckets are trimmed.'),
});
export type Log2Histogram = z.infer<typeof Log2HistogramSchema>;

/** OTLP's offset for our buckets array: slot k is OTLP scale-0 index k - 1. */
export const OTLP_BUCKET_OFFSET = -1;

/** Slot holding v (ceil(log2 v)), or -1 for the zero bucket (v <= 0). */
export function log2Bucket(v: number | bigint): number {
  const n = typeof v === 'bigint' ? v : BigInt(Math.ceil(v));
  if (n <= 0n) return -1;
  const bitLength = n === 1n ? 0 : (n - 1n).toString(2).length;
  return Math.min(bitLength, HISTOGRAM_BUCKETS - 1);
}

export function histogramCount(h: Log2Histogram): number {
  return h.buckets.reduce((a, b) => a + b, h.zeroCount);
}

function trim(buckets: number[]): number[] {
  let end = buckets.length;
  while (end > 0 && buckets[end - 1] === 0) end--;
  return buckets.slice(0, end);
}

/** Builds a histogram from raw slot counters (slot k as above). */
export function histogramFromCounts(zeroCount: number, counts: readonly number[]): Log2Histogram {
  return { zeroCount, buckets: trim([...counts]) };
}

export function mergeHistograms(...hs: Log2Histogram[]): Log2Histogram {
  const buckets: number[] = [];
  let zeroCount = 0;
  for (const h of hs) {
    zeroCount += h.zeroCount;
    h.buckets.forEach((c, i) => {
      buckets[i] = (buckets[i] ?? 0) + c;
    });
  }
  return { zeroCount, buckets: trim(Array.from(buckets, (c) => c ?? 0)) };
}

/**
 * The q-quantile (0 < q <= 1), interpolated linearly inside the bucket that
 * holds it; undefined for an empty histogram. Exact to within a factor of 2,
 * which is what a log2 histogram can promise.
 */
export function histogramQuantile(h: Log2Histogram, q: number): number | undefined {
  const total = histogramCount(h);
  if (total === 0) return undefined;
  const rank = q * total;
  if (rank <= h.zeroCount) return 0;
  let seen = h.zeroCount;
  for (let i = 0; i < h.buckets.length; i++) {
    const c = h.buckets[i] ?? 0;
    if (c > 0 && seen + c >= rank) {
      if (i === 0) return 1;
      const lower = 2 ** (i - 1);
      return Math.round(lower + (lower * (rank - seen)) / c);
    }
    seen += c;
  }
  return 2 ** (h.buckets.length - 1);
}

export const LatencySummarySchema = z.object({
  count: z.number().int().min(0),
  p50: z.number().int().min(0).optional(),
  p90: z.number().int().min(0).optional(),
  p99: z.number().int().min(0).optional(),
  histogram: Log2HistogramSchema,
});
export type LatencySummary = z.infer<typeof LatencySummarySchema>;

/** p50/p90/p99 beside the histogram they come from, so status readers need no math. */
export function summarizeLatency(h: Log2Histogram): LatencySummary {
  const s: LatencySummary = { count: histogramCount(h), histogram: h };
  const p50 = histogramQuantile(h, 0.5);
  const p90 = histogramQuantile(h, 0.9);
  const p99 = histogramQuantile(h, 0.99);
  if (p50 !== undefined) s.p50 = p50;
  if (p90 !== undefined) s.p90 = p90;
  if (p99 !== undefined) s.p99 = p99;
  return s;
}
