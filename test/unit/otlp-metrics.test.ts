// Probe results → OTLP metric data: the exponential histogram must be the
// kernel histogram bucket for bucket at scale 0, and every count a cumulative
// monotonic sum with the right name, unit and attributes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregationTemporality, DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { histogramFromCounts, log2Bucket, summarizeLatency, type Log2Histogram } from '../../api/histogram.js';
import { type ProbeResults } from '../../api/results.js';
import { MAX_TOP_N } from '../../api/top-list.js';
import { exponentialHistogramOf, LOUPE_METRICS, metricData, metricsOfResults, secondsHistogramOf } from '../../agent/otlp/metrics.js';
import { histograms } from '../../probes/probe-descriptor.js';
import { peerAttributes } from '../../probes/tcp/tcp.js';

/** A histogram of raw values, slotted the way the kernel slots them. */
function histogramOfValues(values: number[]): Log2Histogram {
  const counts: number[] = [];
  let zero = 0;
  for (const v of values) {
    const slot = log2Bucket(v);
    if (slot < 0) zero++;
    else counts[slot] = (counts[slot] ?? 0) + 1;
  }
  return histogramFromCounts(zero, Array.from(counts, (c) => c ?? 0));
}

/** Metrics the OpenTelemetry semantic conventions name; every other metric is loupe.*. */
const SEMCONV_DURATIONS = new Set(['http.server.request.duration', 'http.client.request.duration', 'dns.lookup.duration']);

const times = { startTimeMs: 1_700_000_000_000, nowMs: 1_700_000_010_500 };

function byName(metrics: MetricData[], name: string): MetricData {
  const metric = metrics.find((m) => m.descriptor.name === name);
  assert.ok(metric, `metric ${name} is exported`);
  return metric;
}

function sumValues(metric: MetricData): { value: unknown; attributes: object }[] {
  assert.equal(metric.dataPointType, DataPointType.SUM);
  return metric.dataPoints.map((p) => ({ value: p.value, attributes: p.attributes }));
}

describe('exponential histogram of a log2 histogram', () => {
  it('keeps our buckets as they are, at scale 0 and offset -1, with the zero bucket apart', () => {
    const h: Log2Histogram = { zeroCount: 3, buckets: [1, 0, 4, 2] };
    assert.deepEqual(exponentialHistogramOf(h), {
      count: 10,
      scale: 0,
      zeroCount: 3,
      positive: { offset: -1, bucketCounts: [1, 0, 4, 2] },
      negative: { offset: 0, bucketCounts: [] },
    });
  });

  it('puts every value in the OTLP bucket whose bounds hold it: index i holds (2^i, 2^(i+1)]', () => {
    const values = [1, 2, 3, 4, 5, 8, 9, 1000, 1024, 1025, 65_536, 1_000_000_007];
    const point = exponentialHistogramOf(histogramOfValues(values));
    assert.equal(point.count, values.length);
    for (const v of values) {
      // OTLP's definition at scale 0, computed independently of log2Bucket.
      const index = Math.ceil(Math.log2(v)) - 1;
      assert.ok(2 ** index < v && v <= 2 ** (index + 1), `${v} in (2^${index}, 2^${index + 1}]`);
      const position = index - point.positive.offset;
      assert.ok((point.positive.bucketCounts[position] ?? 0) > 0, `bucket ${index} counts ${v}`);
    }
    const nonEmpty = point.positive.bucketCounts.filter((c) => c > 0).length;
    assert.equal(nonEmpty, new Set(values.map((v) => Math.ceil(Math.log2(v)))).size);
  });

  it('counts zeros in the zero bucket only', () => {
    const point = exponentialHistogramOf(histogramOfValues([0, 0, 1]));
    assert.equal(point.zeroCount, 2);
    assert.deepEqual(point.positive, { offset: -1, bucketCounts: [1] });
    assert.equal(point.count, 3);
  });

  it('exports an empty histogram as an empty point', () => {
    const point = exponentialHistogramOf({ zeroCount: 0, buckets: [] });
    assert.equal(point.count, 0);
    assert.deepEqual(point.positive, { offset: -1, bucketCounts: [] });
  });

  it('does not share the bucket array with the results it came from', () => {
    const h: Log2Histogram = { zeroCount: 0, buckets: [1, 2] };
    exponentialHistogramOf(h).positive.bucketCounts.push(9);
    assert.deepEqual(h.buckets, [1, 2]);
  });
});

describe('explicit histogram in seconds of a log2 histogram', () => {
  it('bounds every bucket at exactly 2^k ns, in seconds, with the zero bucket first', () => {
    const v = secondsHistogramOf({ zeroCount: 2, buckets: [1, 0, 3] });
    assert.equal(v.count, 6);
    assert.equal(v.buckets.boundaries.length, 64);
    assert.deepEqual(v.buckets.boundaries.slice(0, 4), [0, 1e-9, 2e-9, 4e-9]);
    assert.equal(v.buckets.counts.length, 65, 'one more count than bounds: the overflow bucket');
    assert.deepEqual(v.buckets.counts.slice(0, 5), [2, 1, 0, 3, 0]);
  });

  it('puts every value in the bucket whose bounds hold it', () => {
    for (const ns of [1, 2, 3, 1000, 1024, 1025, 31_000_000, 5e9]) {
      const v = secondsHistogramOf(histogramOfValues([ns]));
      const i = v.buckets.counts.findIndex((c) => c === 1);
      const lower = i === 0 ? -Infinity : v.buckets.boundaries[i - 1]!;
      const upper = v.buckets.boundaries[i] ?? Infinity;
      assert.ok(ns / 1e9 > lower && ns / 1e9 <= upper * (1 + 1e-12), `${ns} ns in (${lower}, ${upper}] s`);
    }
  });

  it('exports a metric in s as explicit buckets and one in ns as an exponential histogram, each point with its attributes', () => {
    const h = histogramOfValues([1500, 90_000]);
    const points = [
      { histogram: h, attributes: { 'http.route': '/a' } },
      { histogram: h, attributes: { 'http.route': '/b' } },
    ];
    const seconds = metricData(histograms({ name: 'x.duration', unit: 's', description: '' }, points), times);
    assert.equal(seconds.dataPointType, DataPointType.HISTOGRAM);
    assert.deepEqual(seconds.dataPoints.map((p) => p.attributes), [{ 'http.route': '/a' }, { 'http.route': '/b' }]);
    const ns = metricData(histograms({ name: 'x.duration', unit: 'ns', description: '' }, points), times);
    assert.equal(ns.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
    assert.equal(ns.dataPoints.length, 2);
  });
});

describe('metrics of probe results', () => {
  const results: ProbeResults = {
    exec: { execs: 7, exits: 5, topCommands: [{ key: '/bin/true', count: 6 }, { key: '/bin/sh', count: 1 }] },
    syscalls: {
      calls: 100,
      errors: 4,
      latencyNs: summarizeLatency({ zeroCount: 0, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 90] }),
      topSyscalls: [{ key: 'read', count: 60, errors: 4 }, { key: 'write', count: 40, errors: 0 }],
    },
    files: { opens: 3, errors: 1, topPaths: [{ key: '/etc/hosts', count: 3, errors: 1 }] },
    tcp: {
      connects: 2,
      connectFailures: 1,
      connectLatencyNs: summarizeLatency({ zeroCount: 0, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2] }),
      accepts: 4,
      closed: 5,
      bytesSent: 1000,
      bytesReceived: 2000,
      retransmits: 3,
      durationNs: summarizeLatency({ zeroCount: 0, buckets: [0, 0, 0, 5] }),
      topPeers: [{ key: '10.0.0.7:443', count: 2, errors: 1 }, { key: '[fd00::1]:80', count: 1, errors: 0 }],
    },
    runqlat: { latencyNs: summarizeLatency({ zeroCount: 2, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 8] }), topCommands: [{ key: 'java', count: 11 }] },
    oomkill: { kills: 1, topCommands: [{ key: 'stress', count: 1 }] },
    biolatency: {
      ios: 12,
      errors: 1,
      bytesRead: 4096,
      bytesWritten: 8192,
      latencyNs: summarizeLatency({ zeroCount: 0, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12] }),
      topDevices: [{ key: 'vda', count: 12, errors: 1 }],
    },
    netbytes: { bytesSent: 500, bytesReceived: 700, packetsSent: 5, packetsReceived: 7, topProtocols: [{ key: 'tcp', count: 12 }] },
    dns: {
      queries: 12,
      retries: 1,
      answers: 9,
      errors: 3,
      timeouts: 2,
      malformed: 0,
      latencyNs: summarizeLatency(histogramOfValues([1000, 1000, 1000, 1000, 1000, 1000, 3000, 3000, 70_000])),
      nxdomainLatencyNs: summarizeLatency(histogramOfValues([3000, 3000])),
      servfailLatencyNs: summarizeLatency(histogramOfValues([70_000])),
      otherErrorLatencyNs: summarizeLatency(histogramOfValues([])),
      topNames: [{ key: 'api.example.com', count: 8, errors: 0 }, { key: 'nope.example.com', count: 4, errors: 5 }],
      topTypes: [{ key: 'A', count: 6, errors: 3 }, { key: 'AAAA', count: 6, errors: 2 }],
      topRcodes: [{ key: 'NOERROR', count: 6 }, { key: 'NXDOMAIN', count: 2 }, { key: 'SERVFAIL', count: 1 }],
    },
    profile: {
      samples: 40,
      cpuNs: 400_000_000,
      topFrames: [{ key: 'spin (app)', count: 38, cpuNs: 380_000_000 }],
      topStacks: [{ key: 'app;main;spin', count: 38, cpuNs: 380_000_000 }],
    },
    http: {
      requests: 12,
      serverRequests: 10,
      serverErrors: 1,
      serverLatencyNs: summarizeLatency({ zeroCount: 0, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 1] }),
      clientRequests: 2,
      clientErrors: 0,
      clientLatencyNs: summarizeLatency({ zeroCount: 0, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2] }),
      unmatchedResponses: 0,
      topSeries: [
        { key: 'server GET 200 8080 /users/{id}', count: 9, errors: 0, latencyNs: { zeroCount: 0, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9] } },
        { key: 'server GET 503 8080 /users/{id}', count: 1, errors: 1, latencyNs: { zeroCount: 0, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] } },
      ],
    },
    tls: {
      requests: 3,
      serverRequests: 3,
      serverErrors: 0,
      serverLatencyNs: summarizeLatency({ zeroCount: 0, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3] }),
      clientRequests: 0,
      clientErrors: 0,
      clientLatencyNs: summarizeLatency({ zeroCount: 0, buckets: [] }),
      unmatchedResponses: 0,
      topSeries: [{ key: 'server GET 200 0 /login', count: 3, errors: 0, latencyNs: { zeroCount: 0, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3] } }],
    },
  };
  const metrics = metricsOfResults(results, times);

  it('gives a metric two probes export (plain and TLS HTTP) once, with the points of each', () => {
    const duration = metrics.filter((m) => m.descriptor.name === 'http.server.request.duration');
    assert.equal(duration.length, 1);
    const routes = duration[0]!.dataPoints.map((p) => `${p.attributes['url.scheme']} ${p.attributes['http.route']}`);
    assert.deepEqual(routes, ['http /users/{id}', 'http /users/{id}', 'https /login']);
  });

  it('exports every count as a cumulative monotonic integer sum from the series start', () => {
    for (const metric of metrics.filter((m) => m.dataPointType === DataPointType.SUM)) {
      assert.equal(metric.aggregationTemporality, AggregationTemporality.CUMULATIVE, metric.descriptor.name);
      assert.equal(metric.dataPointType === DataPointType.SUM && metric.isMonotonic, true, metric.descriptor.name);
      for (const p of metric.dataPoints) {
        assert.deepEqual(p.startTime, [1_700_000_000, 0]);
        assert.deepEqual(p.endTime, [1_700_000_010, 500_000_000]);
      }
    }
  });

  it('names every metric in the loupe namespace (or by its semantic convention) with a unit, and each name once', () => {
    const names = metrics.map((m) => m.descriptor.name);
    assert.equal(new Set(names).size, names.length);
    for (const m of metrics) {
      if (SEMCONV_DURATIONS.has(m.descriptor.name)) assert.equal(m.descriptor.unit, 's', `${m.descriptor.name} is in seconds, as its convention says`);
      else assert.match(m.descriptor.name, /^loupe\.[a-z_]+(\.[a-z_]+)+$/);
      assert.ok(m.descriptor.unit.length > 0, `${m.descriptor.name} has a unit`);
    }
    assert.deepEqual(new Set(names), new Set(LOUPE_METRICS.map((d) => d.name)), 'all results map to the catalog');
  });

  it('maps each total to its metric', () => {
    assert.deepEqual(sumValues(byName(metrics, 'loupe.exec.execs')), [{ value: 7, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.exec.exits')), [{ value: 5, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.syscalls.calls')), [{ value: 100, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.syscalls.errors')), [{ value: 4, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.files.opens')), [{ value: 3, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.tcp.connections.outbound')), [{ value: 2, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.tcp.connections.failed')), [{ value: 1, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.tcp.connections.inbound')), [{ value: 4, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.tcp.connections.closed')), [{ value: 5, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.tcp.retransmits')), [{ value: 3, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.tcp.io')), [
      { value: 1000, attributes: { 'network.io.direction': 'transmit' } },
      { value: 2000, attributes: { 'network.io.direction': 'receive' } },
    ]);
    assert.equal(byName(metrics, 'loupe.tcp.io').descriptor.unit, 'By');
    assert.deepEqual(sumValues(byName(metrics, 'loupe.oomkill.kills')), [{ value: 1, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.biolatency.requests')), [{ value: 12, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.biolatency.errors')), [{ value: 1, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.biolatency.io')), [
      { value: 4096, attributes: { 'disk.io.direction': 'read' } },
      { value: 8192, attributes: { 'disk.io.direction': 'write' } },
    ]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.netbytes.io')), [
      { value: 500, attributes: { 'network.io.direction': 'transmit' } },
      { value: 700, attributes: { 'network.io.direction': 'receive' } },
    ]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.netbytes.packets')), [
      { value: 5, attributes: { 'network.io.direction': 'transmit' } },
      { value: 7, attributes: { 'network.io.direction': 'receive' } },
    ]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.profile.samples')), [{ value: 40, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.profile.cpu.time')), [{ value: 400_000_000, attributes: {} }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.profile.function.cpu.time')), [
      { value: 380_000_000, attributes: { 'code.function.name': 'spin (app)' } },
    ]);
  });

  it('breaks top lists down by a bounded key attribute', () => {
    assert.deepEqual(sumValues(byName(metrics, 'loupe.exec.command.execs')), [
      { value: 6, attributes: { 'process.executable.path': '/bin/true' } },
      { value: 1, attributes: { 'process.executable.path': '/bin/sh' } },
    ]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.syscalls.syscall.errors')), [
      { value: 4, attributes: { 'loupe.syscall.name': 'read' } },
      { value: 0, attributes: { 'loupe.syscall.name': 'write' } },
    ]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.files.path.errors')), [{ value: 1, attributes: { 'file.path': '/etc/hosts' } }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.runqlat.command.waits')), [{ value: 11, attributes: { 'process.executable.name': 'java' } }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.oomkill.command.kills')), [{ value: 1, attributes: { 'process.executable.name': 'stress' } }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.biolatency.device.errors')), [{ value: 1, attributes: { 'system.device': 'vda' } }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.netbytes.protocol.packets')), [{ value: 12, attributes: { 'network.transport': 'tcp' } }]);
    assert.deepEqual(sumValues(byName(metrics, 'loupe.tcp.peer.connections')), [
      { value: 2, attributes: { 'network.peer.address': '10.0.0.7', 'network.peer.port': 443 } },
      { value: 1, attributes: { 'network.peer.address': 'fd00::1', 'network.peer.port': 80 } },
    ]);
  });

  it('exports dns.lookup.duration in seconds: answers without error.type, failures and timeouts with it', () => {
    const metric = byName(metrics, 'dns.lookup.duration');
    assert.equal(metric.dataPointType, DataPointType.HISTOGRAM);
    const counts = metric.dataPoints.map((p) => [p.attributes['error.type'], (p.value as { count: number }).count]);
    assert.deepEqual(counts, [
      [undefined, 6],
      ['NXDOMAIN', 2],
      ['SERVFAIL', 1],
      ['timeout', 2],
    ]);
  });

  it('exports latencies in ns as scale-0 exponential histograms', () => {
    for (const [name, h] of [
      ['loupe.syscalls.duration', results.syscalls!.latencyNs.histogram],
      ['loupe.tcp.connection.duration', results.tcp!.durationNs.histogram],
      ['loupe.runqlat.latency', results.runqlat!.latencyNs.histogram],
      ['loupe.biolatency.duration', results.biolatency!.latencyNs.histogram],
    ] as const) {
      const metric = byName(metrics, name);
      assert.equal(metric.descriptor.unit, 'ns');
      assert.equal(metric.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
      assert.equal(metric.aggregationTemporality, AggregationTemporality.CUMULATIVE);
      assert.deepEqual(metric.dataPoints[0]?.value, exponentialHistogramOf(h));
    }
  });

  it('exports nothing for a probe that did not run', () => {
    const only = metricsOfResults({ exec: { execs: 1, exits: 0, topCommands: [] } }, times);
    assert.deepEqual(only.map((m) => m.descriptor.name), ['loupe.exec.execs', 'loupe.exec.exits']);
    assert.deepEqual(metricsOfResults({}, times), []);
  });

  it(`keeps at most ${MAX_TOP_N} keys of a top list`, () => {
    const topCommands = Array.from({ length: MAX_TOP_N + 20 }, (_, i) => ({ key: `/bin/p${i}`, count: 1000 - i }));
    const only = metricsOfResults({ exec: { execs: 1, exits: 0, topCommands } }, times);
    const points = byName(only, 'loupe.exec.command.execs').dataPoints;
    assert.equal(points.length, MAX_TOP_N);
    assert.deepEqual(points[0]?.attributes, { 'process.executable.path': '/bin/p0' });
  });
});

describe('peer attributes', () => {
  it('splits IPv4 and bracketed IPv6 peers into address and port', () => {
    assert.deepEqual(peerAttributes('192.168.1.2:8080'), { 'network.peer.address': '192.168.1.2', 'network.peer.port': 8080 });
    assert.deepEqual(peerAttributes('[::1]:53'), { 'network.peer.address': '::1', 'network.peer.port': 53 });
  });

  it('keeps a key it cannot split as the address', () => {
    assert.deepEqual(peerAttributes('(other)'), { 'network.peer.address': '(other)' });
  });
});
