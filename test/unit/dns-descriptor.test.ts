// The dns probe's descriptor, pure: its options, headline, report and OTLP
// instruments from a result.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { histogramCount, log2Bucket, summarizeLatency, type Log2Histogram } from '../../api/histogram.js';
import { dns, type DnsResult } from '../../probes/dns/dns.js';
import { DNS_TIMEOUT_NS } from '../../probes/dns/kernel.js';

const at = (k: number, n: number): Log2Histogram => ({ zeroCount: 0, buckets: Array.from({ length: k + 1 }, (_, i) => (i === k ? n : 0)) });
const none: Log2Histogram = { zeroCount: 0, buckets: [] };

const result: DnsResult = {
  queries: 310,
  retries: 2,
  answers: 300,
  errors: 12,
  timeouts: 3,
  malformed: 1,
  latencyNs: summarizeLatency({ zeroCount: 0, buckets: [...new Array<number>(20).fill(0), 288, 8, 4] }),
  nxdomainLatencyNs: summarizeLatency(at(21, 8)),
  servfailLatencyNs: summarizeLatency(at(22, 4)),
  otherErrorLatencyNs: summarizeLatency(none),
  topNames: [{ key: 'api.example.com', count: 300, errors: 2 }, { key: 'gone.example.com', count: 10, errors: 10 }],
  topTypes: [{ key: 'A', count: 155, errors: 8 }, { key: 'AAAA', count: 155, errors: 7 }],
  topRcodes: [{ key: 'NOERROR', count: 288 }, { key: 'NXDOMAIN', count: 8 }, { key: 'SERVFAIL', count: 4 }],
};

describe('dns descriptor', () => {
  it('takes 1 to 8 ports of 1-65535, and no other option', () => {
    assert.ok(dns.options.safeParse({ name: 'dns', serverPorts: [53, 5353] }).success);
    for (const ports of [[], [0], [65536], [53.5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) assert.equal(dns.options.safeParse({ name: 'dns', serverPorts: ports }).success, false, `${ports}`);
    assert.equal(dns.options.safeParse({ name: 'dns', only: ['x'] }).success, false);
  });

  it('headlines queries, the NXDOMAIN share, other failures, timeouts and p99', () => {
    assert.equal(dns.headline(result), `310 dns, 2.7% NXDOMAIN, 4 failed, 3 timeouts p99 2.6ms`); // rank 297 of 300: a quarter into (2^21, 2^22] ns
    assert.equal(dns.headline(dns.merge([])), '0 dns');
  });

  it('reports totals, latency and its three top lists', () => {
    const lines = dns.text(result);
    assert.match(lines[0]!, /^dns +310 queries \(2 retries\), 300 answers, 12 failed, 3 timed out, 1 malformed$/);
    assert.match(lines[1]!, /latency p50 .* p99 /);
    for (const title of ['top names', 'query types', 'response codes']) assert.ok(lines.some((l) => l.includes(title)), title);
  });

  it('exports dns.lookup.duration: answers without error.type, each failure under its code, timeouts at the timeout', () => {
    const duration = dns.instruments(result).find((i) => i.metric.name === 'dns.lookup.duration');
    assert.ok(duration?.kind === 'histogram');
    assert.equal(duration.metric.unit, 's');
    const points = duration.points.map((p) => [p.attributes?.['error.type'], histogramCount(p.histogram)]);
    assert.deepEqual(points, [
      [undefined, 288],
      ['NXDOMAIN', 8],
      ['SERVFAIL', 4],
      ['timeout', 3],
    ]);
    assert.deepEqual(duration.points[0]!.histogram, at(20, 288), 'failures taken out of the answers bucket by bucket');
    assert.equal(duration.points[3]!.histogram.buckets.length - 1, log2Bucket(DNS_TIMEOUT_NS));
  });

  it('exports counts per type, code and name with their attributes', () => {
    const sums = Object.fromEntries(
      dns.instruments(result).flatMap((i) => (i.kind === 'sum' ? [[i.metric.name, i.points.map((p) => [p.attributes, p.value])]] : [])),
    );
    assert.deepEqual(sums['loupe.dns.queries'], [
      [{ 'loupe.dns.question.type': 'A' }, 155],
      [{ 'loupe.dns.question.type': 'AAAA' }, 155],
    ]);
    assert.deepEqual(sums['loupe.dns.answers']?.[1], [{ 'loupe.dns.response_code': 'NXDOMAIN' }, 8]);
    assert.deepEqual(sums['loupe.dns.name.errors']?.[1], [{ 'dns.question.name': 'gone.example.com' }, 10]);
    assert.deepEqual(sums['loupe.dns.timeouts'], [[undefined, 3]]);
  });
});
