// The dns probe: DNS lookups over UDP (queries, answers by response code,
// timeouts, latency), by query type and by name.
import { z } from 'zod';
import { histogramCount, log2Bucket, LatencySummarySchema, type Log2Histogram } from '../../api/histogram.js';
import { compactCount, compactP99, formatCount, formatLatency, formatTop } from '../../api/probe-format.js';
import { topListSchema } from '../../api/top-list.js';
import { count, defineProbe, histograms, probeOptions, sum, topListInstruments, TOP_ONLY } from '../probe-descriptor.js';
import { dnsKernel, DNS_TIMEOUT_NS } from './kernel.js';

const description =
  'DNS lookups over UDP, client side: queries by type, answers by response code, timeouts (no answer within 5 s) and latency, by name.';

export const DnsOptionsSchema = probeOptions('dns', {
  // Not `ports`: the http probe's option of that name filters, this one says what DNS is, so their schemas differ.
  serverPorts: z
    .array(z.number().int().min(1).max(65535))
    .min(1)
    .max(8)
    .optional()
    .describe('UDP server ports whose traffic is DNS (a query goes to one, its answer comes from it); [53] when omitted.'),
}).describe(description);
export type DnsOptions = z.infer<typeof DnsOptionsSchema>;

export const DnsResultSchema = z.object({
  queries: count.describe('Queries sent, each retry counted.'),
  retries: count.describe('Queries re-sent (same id, type and socket) while the first was unanswered; latency counts from the first.'),
  answers: count.describe('Answers to queries sent, within the timeout.'),
  errors: count.describe('Answers with a response code other than NOERROR.'),
  timeouts: count.describe('Queries not answered within 5 s.'),
  malformed: count.describe('Packets to or from a DNS port that are not DNS messages the probe can read; not counted as queries.'),
  latencyNs: LatencySummarySchema.describe('Query to answer, every answer.'),
  nxdomainLatencyNs: LatencySummarySchema.describe('Query to answer, NXDOMAIN answers.'),
  servfailLatencyNs: LatencySummarySchema.describe('Query to answer, SERVFAIL answers.'),
  otherErrorLatencyNs: LatencySummarySchema.describe('Query to answer, answers with any other response code but NOERROR.'),
  topNames: topListSchema('Queried names by queries; errors are failed answers and timeouts.'),
  topTypes: topListSchema('Query types (A, AAAA, …; TYPE<n> for others) by queries; errors are failed answers and timeouts.'),
  topRcodes: topListSchema('Response codes (NOERROR, NXDOMAIN, SERVFAIL, …; RCODE<n> for others) by answers.'),
});
export type DnsResult = z.infer<typeof DnsResultSchema>;

const metrics = {
  lookupDuration: {
    name: 'dns.lookup.duration',
    unit: 's',
    description:
      'Time from a query to its answer. error.type: the response code of a failed answer (NXDOMAIN, SERVFAIL, or _OTHER), or timeout (counted at the 5 s timeout).',
  },
  queries: { name: 'loupe.dns.queries', unit: '{query}', description: `Queries per type (loupe.dns.question.type: A, AAAA, …). ${TOP_ONLY}` },
  answers: { name: 'loupe.dns.answers', unit: '{answer}', description: `Answers per response code (loupe.dns.response_code: NOERROR, NXDOMAIN, …). ${TOP_ONLY}` },
  timeouts: { name: 'loupe.dns.timeouts', unit: '{query}', description: 'Queries not answered within 5 s.' },
  malformed: { name: 'loupe.dns.malformed', unit: '{packet}', description: 'Packets to or from a DNS port that are not DNS messages the probe can read.' },
  nameQueries: { name: 'loupe.dns.name.queries', unit: '{query}', description: `Queries per name (dns.question.name). ${TOP_ONLY}` },
  nameErrors: { name: 'loupe.dns.name.errors', unit: '{query}', description: `Failed answers and timeouts per name (dns.question.name). ${TOP_ONLY}` },
};

/** a − b, bucket by bucket: b is a part of a. */
function without(a: Log2Histogram, ...parts: Log2Histogram[]): Log2Histogram {
  const buckets = a.buckets.map((c, k) => Math.max(0, parts.reduce((rest, p) => rest - (p.buckets[k] ?? 0), c)));
  while (buckets.length > 0 && buckets.at(-1) === 0) buckets.pop();
  return { zeroCount: Math.max(0, parts.reduce((rest, p) => rest - p.zeroCount, a.zeroCount)), buckets };
}

/** n observations of the timeout itself: what a timed-out lookup cost at least. */
function atTimeout(n: number): Log2Histogram {
  const buckets = new Array<number>(log2Bucket(DNS_TIMEOUT_NS) + 1).fill(0);
  buckets[buckets.length - 1] = n;
  return { zeroCount: 0, buckets };
}

/** dns.lookup.duration's points: answers without error.type, failures with it. */
function lookupDurations(r: DnsResult) {
  const failures = [
    { histogram: r.nxdomainLatencyNs.histogram, type: 'NXDOMAIN' },
    { histogram: r.servfailLatencyNs.histogram, type: 'SERVFAIL' },
    { histogram: r.otherErrorLatencyNs.histogram, type: '_OTHER' },
    ...(r.timeouts > 0 ? [{ histogram: atTimeout(r.timeouts), type: 'timeout' }] : []),
  ];
  const points = [
    { histogram: without(r.latencyNs.histogram, ...failures.slice(0, 3).map((f) => f.histogram)) },
    ...failures.map((f) => ({ histogram: f.histogram, attributes: { 'error.type': f.type } })),
  ];
  return points.filter((p) => histogramCount(p.histogram) > 0);
}

/** "2.6%": a share for the headline. */
function percent(part: number, whole: number): string {
  const p = (100 * part) / whole;
  return `${p >= 10 ? Math.round(p) : Math.round(p * 10) / 10}%`;
}

/** "310 dns, 2.6% NXDOMAIN, 4 failed, 3 timeouts p99 4ms": what an SRE checks first. */
function headline(r: DnsResult): string {
  const nxdomain = r.nxdomainLatencyNs.count;
  const failed = r.errors - nxdomain;
  const parts = [
    ...(nxdomain > 0 ? [`${percent(nxdomain, r.answers)} NXDOMAIN`] : []),
    ...(failed > 0 ? [`${compactCount(failed)} failed`] : []),
    ...(r.timeouts > 0 ? [`${compactCount(r.timeouts)} timeouts`] : []),
  ];
  return `${compactCount(r.queries)} dns${parts.map((p) => `, ${p}`).join('')}${compactP99(r.latencyNs)}`;
}

export const dns = defineProbe({
  name: 'dns',
  options: DnsOptionsSchema,
  result: DnsResultSchema,
  topLists: ['topNames', 'topTypes', 'topRcodes'],
  activity: (r) => r.queries,
  headline,
  text: (r) => [
    `dns       ${formatCount(r.queries)} queries (${formatCount(r.retries)} retries), ${formatCount(r.answers)} answers, ` +
      `${formatCount(r.errors)} failed, ${formatCount(r.timeouts)} timed out, ${formatCount(r.malformed)} malformed`,
    `          ${formatLatency('latency', r.latencyNs)}`,
    ...formatTop('top names', r.topNames),
    ...formatTop('query types', r.topTypes),
    ...formatTop('response codes', r.topRcodes),
  ],
  metrics,
  instruments: (r) => [
    histograms(metrics.lookupDuration, lookupDurations(r)),
    ...topListInstruments(metrics.queries, undefined, r.topTypes, (k) => ({ 'loupe.dns.question.type': k })),
    ...topListInstruments(metrics.answers, undefined, r.topRcodes, (k) => ({ 'loupe.dns.response_code': k })),
    sum(metrics.timeouts, { value: r.timeouts }),
    sum(metrics.malformed, { value: r.malformed }),
    ...topListInstruments(metrics.nameQueries, metrics.nameErrors, r.topNames, (k) => ({ 'dns.question.name': k })),
  ],
  kernel: dnsKernel,
});
