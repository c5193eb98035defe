// What the http probe reports, shared with the tls probe (HTTPS counts as
// http, with url.scheme https): the result schema, its headline, report text
// and OpenTelemetry instruments (the stable HTTP semantic conventions).
import { z } from 'zod';
import { histogramCount, LatencySummarySchema, type Log2Histogram } from '../../api/histogram.js';
import { compactCount, compactNanoseconds, formatCount, formatLatency, formatTop } from '../../api/probe-format.js';
import { latencyTopListSchema, MAX_TOP_N, OTHER_TOP_KEY, type RankedEntry } from '../../api/top-list.js';
import { count, histograms, type HistogramPoint, type Instrument, type MetricDefinition } from '../probe-descriptor.js';

export const HTTP_ROLES = ['server', 'client'] as const;
export type HttpRole = (typeof HTTP_ROLES)[number];

/** enum http_method of http.h, by its value (0: none). */
export const HTTP_METHODS = ['', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE'] as const;

/** One series of requests: what a top-list key spells. */
export interface HttpSeries {
  role: HttpRole;
  method: string;
  status: number;
  /** The server's TCP port; 0 when unknown. */
  port: number;
  route: string;
}

/** `<server|client> <METHOD> <status> <port> <route>`, e.g. `server GET 200 8080 /users/{id}`. */
export function seriesKey(s: HttpSeries): string {
  return `${s.role} ${s.method} ${s.status} ${s.port} ${s.route}`;
}

const SERIES_KEY = /^(server|client) ([A-Z]+) (\d{3}) (\d{1,5}) (\S.*)$/;

/** The series a top-list key names; undefined for OTHER_TOP_KEY (the folded rest) or a foreign key. */
export function parseSeriesKey(key: string): HttpSeries | undefined {
  const m = SERIES_KEY.exec(key);
  if (m === null) return undefined;
  return { role: m[1] as HttpRole, method: m[2]!, status: Number(m[3]), port: Number(m[4]), route: m[5]! };
}

/** Per the semantic conventions: a server failed on 5xx, a client on any status >= 400. */
export function isError(role: HttpRole, status: number): boolean {
  return role === 'server' ? status >= 500 : status >= 400;
}

export const HttpResultSchema = z.object({
  requests: count.describe('Completed requests (a final response seen), server and client side.'),
  serverRequests: count.describe('Requests the traced pods served.'),
  serverErrors: count.describe('Served requests answered 5xx.'),
  serverLatencyNs: LatencySummarySchema.describe('Server duration: request read to response written.'),
  clientRequests: count.describe('Requests the traced pods made.'),
  clientErrors: count.describe('Requests made that got a status of 400 or more.'),
  clientLatencyNs: LatencySummarySchema.describe('Client duration: request written to response read.'),
  unmatchedResponses: count.describe('Responses with no request pending on their connection: not counted as requests.'),
  topSeries: latencyTopListSchema(
    'Requests by series `<server|client> <METHOD> <status> <port> <route>`, with errors and latency; numeric, hex and UUID path segments read {id}, routes beyond 64 per pod (other).',
  ),
});
export type HttpResult = z.infer<typeof HttpResultSchema>;

/** `1.2k req, 0.4% 5xx, p99 31ms`: the server side when the pods served any, else the client side. */
export function httpHeadline(r: HttpResult): string {
  const server = r.serverRequests > 0;
  const requests = server ? r.serverRequests : r.clientRequests;
  const errors = server ? r.serverErrors : r.clientErrors;
  const latency = server ? r.serverLatencyNs : r.clientLatencyNs;
  if (requests === 0) return `0 req`;
  const ratio = (100 * errors) / requests;
  const percent = ratio === 0 || ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1);
  const p99 = latency.p99 === undefined ? '' : `, p99 ${compactNanoseconds(latency.p99)}`;
  return `${compactCount(requests)} req, ${percent}% ${server ? '5xx' : 'errors'}${p99}`;
}

export function httpText(name: string, r: HttpResult): string[] {
  const label = name.padEnd(9);
  return [
    `${label} ${formatCount(r.serverRequests)} served (${formatCount(r.serverErrors)} 5xx), ${formatLatency('server', r.serverLatencyNs)}`,
    `${' '.repeat(9)} ${formatCount(r.clientRequests)} made (${formatCount(r.clientErrors)} errors), ${formatLatency('client', r.clientLatencyNs)}`,
    ...(r.unmatchedResponses > 0 ? [`${' '.repeat(9)} ${formatCount(r.unmatchedResponses)} responses without a request`] : []),
    ...formatTop('top series', r.topSeries),
  ];
}

export const HTTP_METRICS = {
  serverDuration: { name: 'http.server.request.duration', unit: 's', description: 'Duration of HTTP server requests.' },
  clientDuration: { name: 'http.client.request.duration', unit: 's', description: 'Duration of HTTP client requests.' },
} as const satisfies Record<string, MetricDefinition>;

/** What is left of `total` once `parts` are taken out, bucket by bucket (never below zero). */
function remainder(total: Log2Histogram, parts: readonly Log2Histogram[]): Log2Histogram {
  const buckets = [...total.buckets];
  let zeroCount = total.zeroCount;
  for (const p of parts) {
    zeroCount -= p.zeroCount;
    p.buckets.forEach((c, i) => (buckets[i] = (buckets[i] ?? 0) - c));
  }
  const clamped = buckets.map((c) => Math.max(0, c));
  while (clamped.length > 0 && clamped[clamped.length - 1] === 0) clamped.pop();
  return { zeroCount: Math.max(0, zeroCount), buckets: clamped };
}

/**
 * http.server.request.duration and http.client.request.duration, one point
 * per series of the top list, plus one point with http.route (other) for
 * what the list does not name (folded keys, the kernel's overflow): the role's
 * whole histogram less its named series, so each metric's total is exact.
 */
export function httpInstruments(r: HttpResult, scheme: 'http' | 'https'): Instrument[] {
  const named = r.topSeries
    .slice(0, MAX_TOP_N)
    .flatMap((e: RankedEntry) => {
      const s = e.key === OTHER_TOP_KEY ? undefined : parseSeriesKey(e.key);
      return s === undefined || e.latencyNs === undefined ? [] : [{ s, latencyNs: e.latencyNs }];
    });
  const instruments: Instrument[] = [];
  for (const role of HTTP_ROLES) {
    const total = role === 'server' ? r.serverLatencyNs.histogram : r.clientLatencyNs.histogram;
    const mine = named.filter((n) => n.s.role === role);
    const points: HistogramPoint[] = mine.map(({ s, latencyNs }) => ({
      histogram: latencyNs,
      attributes: {
        'http.request.method': s.method,
        'http.response.status_code': s.status,
        'http.route': s.route,
        'server.port': s.port,
        'url.scheme': scheme,
      },
    }));
    const rest = remainder(total, mine.map((n) => n.latencyNs));
    if (histogramCount(rest) > 0) points.push({ histogram: rest, attributes: { 'http.route': OTHER_TOP_KEY, 'url.scheme': scheme } });
    if (points.length > 0) instruments.push(histograms(role === 'server' ? HTTP_METRICS.serverDuration : HTTP_METRICS.clientDuration, points));
  }
  return instruments;
}
