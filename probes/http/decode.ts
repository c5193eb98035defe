// http.h's map entries (struct http_series_key → struct http_series_stats,
// whose route the key names by its hash; struct http_overflow_key → struct
// http_stats for requests that found the series map full or whose route's
// hash collided with another's; and cgroup id → struct http_anomalies) →
// per-cgroup HttpResults.
// The tls probe's maps have the same layouts and decode here too.
import { z } from 'zod';
import { histogramFromCounts, mergeHistograms, summarizeLatency, type Log2Histogram } from '../../api/histogram.js';
import { mergeTop, type RankedEntry } from '../../api/top-list.js';
import { decodeCgroupId, decodeStruct } from '../../engine/probes/kernel-decode.js';
import { HTTP_METHODS, HTTP_ROLES, isError, seriesKey, type HttpResult, type HttpRole } from './http-result.js';
import { layouts } from './layout.generated.js';

/** What a route reads as when the target had none before its query (e.g. `GET ?x`). */
export const EMPTY_ROUTE = '(none)';

const bigCount = z.bigint().min(0n).transform(Number);
/** enum http_role: 1 server, 2 client. */
const role = z.union([z.literal(1), z.literal(2)]).transform((r): HttpRole => HTTP_ROLES[r - 1]!);

export const HttpSeriesKeySchema = z.object({
  cgroupId: z.bigint().min(0n),
  status: z.number().int().min(100).max(999),
  port: z.number().int().min(0).max(65535),
  role,
  method: z
    .number()
    .int()
    .min(1)
    .max(HTTP_METHODS.length - 1)
    .transform((m) => HTTP_METHODS[m]!),
  tls: z.number().int().min(0).max(1).transform(Boolean),
});
export type HttpSeriesKey = z.output<typeof HttpSeriesKeySchema>;

export const HttpOverflowKeySchema = z.object({
  cgroupId: z.bigint().min(0n),
  role,
  tls: z.number().int().min(0).max(1).transform(Boolean),
});

const statsFields = { count: bigCount, errors: bigCount, zero: bigCount, latency: z.array(bigCount) };

export const HttpStatsSchema = z
  .object(statsFields)
  .transform((s) => ({ count: s.count, errors: s.errors, latencyNs: histogramFromCounts(s.zero, s.latency) }))
  .refine((s) => s.errors <= s.count, 'a series cannot fail more often than it completes');
export type HttpStats = z.output<typeof HttpStatsSchema>;

/** A series' value: its counts and the route its key names by hash. */
export const HttpSeriesStatsSchema = z
  .object({ ...statsFields, route: z.string() })
  .transform((s) => ({ count: s.count, latencyNs: histogramFromCounts(s.zero, s.latency), route: s.route === '' ? EMPTY_ROUTE : s.route }));
export type HttpSeriesStats = z.output<typeof HttpSeriesStatsSchema>;

export const HttpAnomaliesSchema = z.object({ unmatchedResponses: bigCount });

export const decodeSeriesKey = (buf: Buffer): HttpSeriesKey => HttpSeriesKeySchema.parse(decodeStruct(buf, layouts.http_series_key));
export const decodeSeriesStats = (buf: Buffer): HttpSeriesStats => HttpSeriesStatsSchema.parse(decodeStruct(buf, layouts.http_series_stats));
export const decodeStats = (buf: Buffer): HttpStats => HttpStatsSchema.parse(decodeStruct(buf, layouts.http_stats));

interface Tally {
  requests: Record<HttpRole, number>;
  errors: Record<HttpRole, number>;
  latency: Record<HttpRole, Log2Histogram[]>;
  unmatched: number;
  series: RankedEntry[];
}

/**
 * One drain of the maps. Overflowed requests (the series map full, or a
 * route whose hash another route's series holds) are in the totals (and so
 * in the OTLP (other) point) but in no series, so totals stay exact however
 * many series there are. Errors of a series follow from its status; its
 * route is the value's, which the kernel wrote with the series.
 */
export function httpResults(
  series: Iterable<readonly [Buffer, Buffer]>,
  overflow: Iterable<readonly [Buffer, Buffer]>,
  anomalies: Iterable<readonly [Buffer, Buffer]>,
): Map<bigint, HttpResult> {
  const tallies = new Map<bigint, Tally>();
  const tallyOf = (cgroupId: bigint) => {
    let t = tallies.get(cgroupId);
    if (!t) {
      t = { requests: { server: 0, client: 0 }, errors: { server: 0, client: 0 }, latency: { server: [], client: [] }, unmatched: 0, series: [] };
      tallies.set(cgroupId, t);
    }
    return t;
  };
  const add = (t: Tally, r: HttpRole, count: number, errors: number, latencyNs: Log2Histogram) => {
    t.requests[r] += count;
    t.errors[r] += errors;
    t.latency[r].push(latencyNs);
  };
  for (const [k, v] of series) {
    const key = decodeSeriesKey(k);
    const stats = decodeSeriesStats(v);
    const t = tallyOf(key.cgroupId);
    const errors = isError(key.role, key.status) ? stats.count : 0;
    add(t, key.role, stats.count, errors, stats.latencyNs);
    t.series.push({ key: seriesKey({ ...key, route: stats.route }), count: stats.count, errors, latencyNs: stats.latencyNs });
  }
  for (const [k, v] of overflow) {
    const key = HttpOverflowKeySchema.parse(decodeStruct(k, layouts.http_overflow_key));
    const stats = decodeStats(v);
    add(tallyOf(key.cgroupId), key.role, stats.count, stats.errors, stats.latencyNs);
  }
  for (const [k, v] of anomalies) {
    tallyOf(decodeCgroupId(k)).unmatched += HttpAnomaliesSchema.parse(decodeStruct(v, layouts.http_anomalies)).unmatchedResponses;
  }
  const results = new Map<bigint, HttpResult>();
  for (const [cgroupId, t] of tallies) {
    results.set(cgroupId, {
      requests: t.requests.server + t.requests.client,
      serverRequests: t.requests.server,
      serverErrors: t.errors.server,
      serverLatencyNs: summarizeLatency(mergeHistograms(...t.latency.server)),
      clientRequests: t.requests.client,
      clientErrors: t.errors.client,
      clientLatencyNs: summarizeLatency(mergeHistograms(...t.latency.client)),
      unmatchedResponses: t.unmatched,
      topSeries: mergeTop(t.series),
    });
  }
  return results;
}
