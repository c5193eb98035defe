// The http probe's pure logic: decoding its map entries into results, series
// keys, the headline, OTLP instruments with an exact (other) remainder, the
// ports option, and top lists whose entries carry latency histograms.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramCount, histogramFromCounts, log2Bucket, type Log2Histogram } from '../../api/histogram.js';
import { foldTop, mergeTop, OTHER_TOP_KEY } from '../../api/top-list.js';
import { httpResults } from '../../probes/http/decode.js';
import { http } from '../../probes/http/http.js';
import { httpHeadline, httpInstruments, parseSeriesKey, seriesKey, type HttpResult } from '../../probes/http/http-result.js';
import { layouts } from '../../probes/http/layout.generated.js';
import { httpForPorts } from '../../probes/http/ports.js';
import { httpRouteHash } from '../support/http-route-hash.js';

const slotsOf = (values: Record<number, number>): bigint[] => Array.from({ length: 64 }, (_, i) => BigInt(values[i] ?? 0));
const histOf = (values: number[]): Log2Histogram => {
  const counts: number[] = [];
  for (const v of values) counts[log2Bucket(v)] = (counts[log2Bucket(v)] ?? 0) + 1;
  return histogramFromCounts(0, Array.from(counts, (c) => c ?? 0));
};

/** A record as the kernel writes it, member by member at the generated offsets (encodeStruct writes only u32/u64). */
function record(layout: { size: number; fields: Record<string, { offset: number; size: number; type: string }> }, values: Record<string, number | bigint | string | bigint[]>): Buffer {
  const buf = Buffer.alloc(layout.size);
  for (const [name, v] of Object.entries(values)) {
    const f = layout.fields[name];
    if (f === undefined) throw new Error(`no member ${name}`);
    if (f.type === 'u8') buf.writeUInt8(Number(v), f.offset);
    else if (f.type === 'u16') buf.writeUInt16LE(Number(v), f.offset);
    else if (f.type === 'u64') buf.writeBigUInt64LE(BigInt(v as number | bigint), f.offset);
    else if (f.type === 'chars') buf.write(v as string, f.offset, f.size, 'latin1');
    else if (f.type === 'u64[]') (v as bigint[]).forEach((x, i) => buf.writeBigUInt64LE(x, f.offset + 8 * i));
    else throw new Error(`${name}: ${f.type}`);
  }
  return buf;
}

function seriesEntry(cgroupId: bigint, role: 1 | 2, method: number, status: number, port: number, route: string, count: number, slot: number): [Buffer, Buffer] {
  return [
    record(layouts.http_series_key, { cgroup_id: cgroupId, status, port, role, method, route_hash: httpRouteHash(route) }),
    record(layouts.http_series_stats, { count: BigInt(count), latency: slotsOf({ [slot]: count }), route }),
  ];
}

describe('http results from the kernel maps', () => {
  const A = 11n;
  const B = 22n;
  const series = [
    seriesEntry(A, 1, 1, 200, 8080, '/items/{id}', 40, 23),
    seriesEntry(A, 1, 1, 503, 8080, '/items/{id}', 3, 25),
    seriesEntry(B, 2, 2, 404, 8080, '/orders/{id}', 7, 21),
    seriesEntry(B, 2, 1, 200, 8080, '', 1, 20),
  ];
  const overflow: [Buffer, Buffer][] = [
    [
      record(layouts.http_overflow_key, { cgroup_id: A, role: 1 }),
      record(layouts.http_stats, { count: 5n, errors: 2n, zero: 1n, latency: slotsOf({ 22: 4 }) }),
    ],
  ];
  const cgroupB = Buffer.alloc(8);
  cgroupB.writeBigUInt64LE(B);
  const anomalies: [Buffer, Buffer][] = [[cgroupB, record(layouts.http_anomalies, { unmatched_responses: 2n })]];
  const results = httpResults(series, overflow, anomalies);

  it('sums series and overflow per role, errors by role (server 5xx, client >= 400)', () => {
    const a = results.get(A)!;
    assert.deepEqual([a.requests, a.serverRequests, a.serverErrors, a.clientRequests], [48, 48, 5, 0]);
    assert.equal(a.serverLatencyNs.count, 48);
    assert.equal(a.serverLatencyNs.histogram.zeroCount, 1);
    const b = results.get(B)!;
    assert.deepEqual([b.requests, b.clientRequests, b.clientErrors, b.unmatchedResponses], [8, 8, 7, 2]);
  });

  it('keys series `<role> <METHOD> <status> <port> <route>`, the route from the value (the key has its hash), each with its latency, overflow in no series', () => {
    assert.deepEqual(
      results.get(A)!.topSeries.map((e) => [e.key, e.count, e.errors, histogramCount(e.latencyNs!)]),
      [
        ['server GET 200 8080 /items/{id}', 40, 0, 40],
        ['server GET 503 8080 /items/{id}', 3, 3, 3],
      ],
    );
    assert.deepEqual(results.get(B)!.topSeries.map((e) => e.key), ['client POST 404 8080 /orders/{id}', 'client GET 200 8080 (none)']);
  });

  it('refuses what the kernel never writes', () => {
    assert.throws(() => httpResults([seriesEntry(A, 1, 0, 200, 80, '/', 1, 1)], [], []), /method|Too small/i);
    assert.throws(() => httpResults([seriesEntry(A, 1, 1, 42, 80, '/', 1, 1)], [], []));
    assert.throws(() => httpResults([[Buffer.alloc(8), Buffer.alloc(8)]], [], []), /bytes/);
    // A series' value carries its route: an overflow value (no route) is not one.
    const [key] = seriesEntry(A, 1, 1, 200, 80, '/', 1, 1);
    assert.throws(() => httpResults([[key, record(layouts.http_stats, { count: 1n })]], [], []), /bytes/);
  });

  it('hashes a route as the kernel pads it: every byte counts, up to the 63 kept', () => {
    assert.equal(httpRouteHash('/items/{id}'), httpRouteHash('/items/{id}'));
    assert.notEqual(httpRouteHash('/items/{id}'), httpRouteHash('/items/{id}/'));
    assert.notEqual(httpRouteHash(''), httpRouteHash('/'));
    assert.equal(httpRouteHash('/'.repeat(63)), httpRouteHash('/'.repeat(80)));
    assert.ok(httpRouteHash('/a') < 1n << 64n && httpRouteHash('/a') >= 0n);
  });

  it('parses the keys it makes, and nothing else', () => {
    const s = { role: 'client', method: 'DELETE', status: 204, port: 443, route: '/a b' } as const;
    assert.deepEqual(parseSeriesKey(seriesKey(s)), s);
    assert.equal(parseSeriesKey(OTHER_TOP_KEY), undefined);
    assert.equal(parseSeriesKey('server GET 2000 80 /'), undefined);
  });
});

const result = (over: Partial<HttpResult>): HttpResult => ({ ...http.merge([]), ...over });

describe('http headline and text', () => {
  it('shows the server side when there is one: rate, 5xx ratio, p99', () => {
    const server = http.merge([
      result({ requests: 1200, serverRequests: 1200, serverErrors: 5, serverLatencyNs: { count: 0, histogram: histOf(Array(1200).fill(31e6)) } }),
    ]);
    assert.match(httpHeadline(server), /^1\.2k req, 0\.4% 5xx, p99 \d+ms$/);
  });

  it('else the client side, its errors being any status >= 400', () => {
    const client = http.merge([result({ requests: 50, clientRequests: 50, clientErrors: 10, clientLatencyNs: { count: 0, histogram: histOf(Array(50).fill(2000)) } })]);
    assert.match(httpHeadline(client), /^50 req, 20% errors, p99 \d/);
    assert.equal(httpHeadline(http.merge([])), '0 req');
  });

  it('reports both sides and the top series with their p99', () => {
    const lines = http.text(result({ topSeries: [{ key: 'server GET 200 80 /', count: 3, errors: 0, latencyNs: histOf([1000, 1000, 1000]) }] }));
    assert.ok(lines[0]!.startsWith('http'));
    assert.ok(lines.some((l) => /server GET 200 80 \/\s+3\s+p99/.test(l)), lines.join('\n'));
  });
});

describe('http OTLP instruments', () => {
  const named = histOf([1e6, 2e6]);
  const total = histOf([1e6, 2e6, 8e6, 9e6, 3e3]);
  const r = result({
    requests: 6,
    serverRequests: 5,
    serverLatencyNs: { count: 5, histogram: total },
    clientRequests: 1,
    clientLatencyNs: { count: 1, histogram: histOf([5e5]) },
    topSeries: [
      { key: 'server GET 200 8080 /a/{id}', count: 2, errors: 0, latencyNs: named },
      { key: OTHER_TOP_KEY, count: 3, errors: 0, latencyNs: histOf([8e6, 9e6, 3e3]) },
    ],
  });
  const instruments = httpInstruments(r, 'https');

  it('one point per series with the semantic-convention attributes, the rest under (other)', () => {
    const server = instruments.find((i) => i.metric.name === 'http.server.request.duration');
    assert.ok(server?.kind === 'histogram');
    assert.equal(server.metric.unit, 's');
    assert.deepEqual(server.points[0]!.attributes, {
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'http.route': '/a/{id}',
      'server.port': 8080,
      'url.scheme': 'https',
    });
    assert.deepEqual(server.points[1]!.attributes, { 'http.route': OTHER_TOP_KEY, 'url.scheme': 'https' });
    assert.equal(server.points.reduce((s, p) => s + histogramCount(p.histogram), 0), 5, 'the metric total is exact');
  });

  it('a side with requests but no named series still exports its total', () => {
    const client = instruments.find((i) => i.metric.name === 'http.client.request.duration');
    assert.ok(client?.kind === 'histogram');
    assert.equal(histogramCount(client.points[0]!.histogram), 1);
  });
});

describe('http ports option', () => {
  const r = result({
    requests: 5,
    serverRequests: 3,
    clientRequests: 2,
    topSeries: [
      { key: 'server GET 500 8080 /a', count: 3, errors: 3, latencyNs: histOf([10, 10, 10]) },
      { key: 'client GET 404 9090 /b', count: 2, errors: 2, latencyNs: histOf([10, 10]) },
    ],
  });

  it('keeps the series of its ports and recomputes totals from them', () => {
    const only = httpForPorts([8080], r)!;
    assert.deepEqual([only.requests, only.serverRequests, only.serverErrors, only.clientRequests], [3, 3, 3, 0]);
    assert.deepEqual(only.topSeries.map((e) => e.key), ['server GET 500 8080 /a']);
    assert.equal(httpForPorts([1], r), undefined);
    assert.equal(http.kernel.forProfile!({ name: 'http' }, r), r);
  });

  it('admits a small list of valid ports only', () => {
    assert.equal(http.options.safeParse({ name: 'http', ports: [80, 8080] }).success, true);
    assert.equal(http.options.safeParse({ name: 'http', ports: [0] }).success, false);
    assert.equal(http.options.safeParse({ name: 'http', ports: [] }).success, false);
  });
});

describe('top lists with latency histograms', () => {
  const a = [{ key: 'x', count: 2, latencyNs: histOf([1000, 1000]) }];
  const b = [
    { key: 'x', count: 1, latencyNs: histOf([4000]) },
    { key: 'y', count: 1, latencyNs: histOf([10]) },
  ];

  it('mergeTop merges histograms per key', () => {
    const merged = mergeTop(a, b);
    assert.deepEqual(merged.map((e) => [e.key, e.count, histogramCount(e.latencyNs!)]), [
      ['x', 3, 3],
      ['y', 1, 1],
    ]);
    assert.equal(histogramCount(a[0]!.latencyNs), 2, 'inputs untouched');
  });

  it('foldTop folds dropped histograms into (other)', () => {
    const folded = foldTop(mergeTop(a, b, [{ key: 'z', count: 1, latencyNs: histOf([20]) }]), 2);
    assert.deepEqual(folded.map((e) => [e.key, e.count, histogramCount(e.latencyNs!)]), [
      ['x', 3, 3],
      [OTHER_TOP_KEY, 2, 2],
    ]);
  });

  it('the probe merge keeps them, through mergeBySchema', () => {
    const merged = http.merge([result({ topSeries: a }), result({ topSeries: b })]);
    assert.equal(histogramCount(merged.topSeries[0]!.latencyNs!), 3);
  });
});
