// Loupe's OTLP output against a real OpenTelemetry Collector, over gRPC and
// over HTTP/protobuf: what the collector writes holds our numbers (sums,
// scale-0 exponential histograms bucket for bucket), our resources and our
// log records; while the collector is away exports fail quietly, drops are
// counted, and once it is back on the same port what is pending arrives.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { summarizeLatency } from '../../api/histogram.js';
import type { OtlpProtocol } from '../../api/otlp.js';
import type { ProbeResults } from '../../api/results.js';
import { createOtlpSink, type OtlpSink, type OtlpTargetEvent, type OtlpTargetResults } from '../../agent/otlp/sink.js';
import type { OtlpTarget } from '../../agent/otlp/resource.js';
import type { ProbeEvent } from '../../engine/probes/probe.js';
import { startCollector, type Collector, type OtlpKeyValue, type OtlpMetricsData } from '../support/collector.js';
import { controlPlaneSuiteSkip } from '../support/control-plane-blocker.js';
import { TcpRelay } from '../support/tcp-relay.js';

const profile = { namespace: 'shop', name: 'checkout-latency' };
const checkout: OtlpTarget = {
  pod: { namespace: 'shop', name: 'checkout-7d9f', uid: '6f1f6a52-5c1e-4b4e-9d0b-1c2d3e4f5a60' },
  container: { name: 'app', id: 'containerd://4f1c2b9a' },
};
const cart: OtlpTarget = {
  pod: { namespace: 'shop', name: 'cart-55b8', uid: '0d3c2b1a-9e8f-4a7b-8c6d-5e4f3a2b1c0d' },
  container: { name: 'app', id: 'containerd://77aa01' },
};

/** Cumulative results that grow with round, so each export is told apart by its numbers. */
function resultsAt(round: number): ProbeResults {
  return {
    exec: { execs: 10 * round, exits: 9 * round, topCommands: [{ key: '/bin/true', count: 10 * round }] },
    syscalls: {
      calls: 1000 * round,
      errors: round,
      latencyNs: summarizeLatency({ zeroCount: round, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 3 * round, 0, 7 * round] }),
      topSyscalls: [{ key: 'read', count: 600 * round, errors: round }],
    },
  };
}

function snapshot(round: number, startTimeMs: number): OtlpTargetResults[] {
  return [
    { ...checkout, results: resultsAt(round), startTimeMs },
    { ...cart, results: { exec: { execs: round, exits: 0, topCommands: [] } }, startTimeMs },
  ];
}

function execEvent(target: OtlpTarget, pid: number): OtlpTargetEvent {
  const event: ProbeEvent = {
    probe: 'exec',
    cgroupId: 1234n,
    profileMask: 1n,
    timeMs: Date.now(),
    attributes: { 'loupe.event': 'exec', 'process.pid': pid, 'process.executable.path': '/bin/true' },
  };
  return { event, target };
}

function attributeMap(attributes: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map((kv) => [kv.key, Object.values(kv.value)[0]]));
}

interface ReceivedPoint {
  podName: unknown;
  resource: Record<string, unknown>;
  metric: string;
  unit: string | undefined;
  kind: string;
  point: Record<string, unknown>;
  isMonotonic?: unknown;
  temporality?: unknown;
}

/** Every data point the collector wrote, flattened with its resource and metric. */
function pointsOf(batches: OtlpMetricsData[]): ReceivedPoint[] {
  return batches.flatMap((batch) =>
    batch.resourceMetrics.flatMap((rm) => {
      const resource = attributeMap(rm.resource?.attributes);
      return (rm.scopeMetrics ?? []).flatMap((sm) =>
        (sm.metrics ?? []).flatMap((metric) => {
          const [kind, data] = Object.entries(metric).find(([key]) => ['sum', 'exponentialHistogram', 'gauge', 'histogram'].includes(key)) as [
            string,
            { dataPoints?: Record<string, unknown>[]; isMonotonic?: unknown; aggregationTemporality?: unknown },
          ];
          return (data.dataPoints ?? []).map((point) => ({
            podName: resource['k8s.pod.name'],
            resource,
            metric: metric.name,
            unit: metric.unit,
            kind,
            point,
            isMonotonic: data.isMonotonic,
            temporality: data.aggregationTemporality,
          }));
        }),
      );
    }),
  );
}

async function eventually<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The point of metric on pod whose value says it came from the given round. */
async function pointOf(collector: Collector, pod: string, metric: string, matches: (p: ReceivedPoint) => boolean): Promise<ReceivedPoint> {
  return eventually(`${metric} of ${pod}`, async () =>
    pointsOf(await collector.readMetrics()).find((p) => p.podName === pod && p.metric === metric && matches(p)),
  );
}

const sumIs = (value: number) => (p: ReceivedPoint) => p.point.asInt === String(value);

for (const protocol of ['grpc', 'http'] as const satisfies readonly OtlpProtocol[]) {
  describe(`OTLP output over ${protocol}`, { skip: await controlPlaneSuiteSkip() }, () => {
    let collector: Collector;
    let relay: TcpRelay;
    let sink: OtlpSink;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    const startTimeMs = Date.now() - 60_000;
    const upstreamPort = (c: Collector) => Number((protocol === 'grpc' ? c.grpcEndpoint : c.httpEndpoint).split(':').at(-1));

    before(async () => {
      process.on('unhandledRejection', onUnhandled);
      collector = await startCollector();
      relay = await TcpRelay.start(upstreamPort(collector));
      sink = createOtlpSink({
        endpoint: protocol === 'grpc' ? `127.0.0.1:${relay.port}` : `http://127.0.0.1:${relay.port}`,
        protocol,
        insecure: true,
        headers: { 'x-loupe-tenant': 'tenant-a' },
        resourceAttributes: { 'deployment.environment': 'test' },
        nodeName: 'node-a',
        profile,
        limits: { maxMetricBatches: 2, maxLogRecords: 4, logBatchSize: 2, exportTimeoutMs: 1_000, backoff: { initialMs: 100, maxMs: 400 } },
      });
    });

    after(async () => {
      await sink?.shutdown(1_000);
      await relay?.pause();
      await collector?.stop();
      process.off('unhandledRejection', onUnhandled);
    });

    it('exports cumulative sums the collector writes as they are', async () => {
      sink.exportResults(snapshot(1, startTimeMs));
      const execs = await pointOf(collector, 'checkout-7d9f', 'loupe.exec.execs', sumIs(10));
      assert.equal(execs.kind, 'sum');
      assert.equal(execs.unit, '{exec}');
      assert.equal(execs.isMonotonic, true);
      assert.equal(execs.temporality, 2, 'cumulative');
      assert.equal(execs.point.startTimeUnixNano, String(BigInt(startTimeMs) * 1_000_000n));
      await pointOf(collector, 'checkout-7d9f', 'loupe.syscalls.calls', sumIs(1000));
      await pointOf(collector, 'cart-55b8', 'loupe.exec.execs', sumIs(1));
      const read = await pointOf(collector, 'checkout-7d9f', 'loupe.syscalls.syscall.calls', sumIs(600));
      assert.deepEqual(attributeMap(read.point.attributes as OtlpKeyValue[]), { 'loupe.syscall.name': 'read' });
      await eventually('the sink to count its points', async () => (sink.stats().pendingMetricBatches === 0 ? true : undefined));
      const stats = sink.stats();
      assert.equal(stats.exportedMetricPoints, 8 + 2, 'checkout: 8 points, cart: 2');
      assert.equal(stats.lastError, undefined);
    });

    it('exports latency as a scale-0 exponential histogram with our buckets at offset -1', async () => {
      const expected = resultsAt(1).syscalls!.latencyNs.histogram;
      const { point, unit, kind } = await pointOf(collector, 'checkout-7d9f', 'loupe.syscalls.duration', () => true);
      assert.equal(kind, 'exponentialHistogram');
      assert.equal(unit, 'ns');
      assert.equal(point.scale ?? 0, 0, 'scale 0 (proto3 JSON omits a zero)');
      assert.equal(point.zeroCount, String(expected.zeroCount));
      assert.equal(point.count, String(1 + 3 + 7));
      const positive = point.positive as { offset?: number; bucketCounts?: string[] };
      assert.equal(positive.offset, -1);
      assert.deepEqual(positive.bucketCounts, expected.buckets.map(String));
    });

    it('labels every resource with the pod, container, node, profile and user attributes', async () => {
      const { resource } = await pointOf(collector, 'checkout-7d9f', 'loupe.exec.execs', () => true);
      assert.deepEqual(resource, {
        'deployment.environment': 'test',
        'k8s.namespace.name': 'shop',
        'k8s.pod.name': 'checkout-7d9f',
        'k8s.pod.uid': checkout.pod.uid,
        'k8s.container.name': 'app',
        'container.id': '4f1c2b9a',
        'container.runtime.name': 'containerd',
        'k8s.node.name': 'node-a',
        'loupe.profile': 'shop/checkout-latency',
      });
      if (protocol === 'http') assert.match(relay.sent, /x-loupe-tenant: tenant-a\r\n/i, 'headers from the Secret go on the request');
    });

    it('exports events as log records of their container', async () => {
      sink.exportEvents([execEvent(checkout, 101), execEvent(cart, 202)]);
      const records = await eventually('two log records', async () => {
        const all = (await collector.readLogs()).flatMap((batch) =>
          batch.resourceLogs.flatMap((rl) =>
            (rl.scopeLogs ?? []).flatMap((sl) => (sl.logRecords ?? []).map((record) => ({ resource: attributeMap(rl.resource?.attributes), record }))),
          ),
        );
        return all.length >= 2 ? all : undefined;
      });
      const byPid = new Map(records.map((r) => [attributeMap(r.record.attributes)['process.pid'], r]));
      assert.equal(byPid.get('101')?.resource['k8s.pod.name'], 'checkout-7d9f');
      assert.equal(byPid.get('202')?.resource['k8s.pod.name'], 'cart-55b8');
      const record = byPid.get('101')!.record as Record<string, unknown>;
      assert.deepEqual(record.body, { stringValue: 'exec /bin/true' });
      assert.equal(record.eventName, 'loupe.exec.exec');
      assert.deepEqual(attributeMap(record.attributes as OtlpKeyValue[]), {
        'loupe.event': 'exec',
        'process.pid': '101',
        'process.executable.path': '/bin/true',
      });
      await eventually('the sink to count its records', async () => (sink.stats().exportedLogRecords === 2 ? true : undefined));
    });

    it('keeps running while the collector is away, bounded, counting what it drops', async () => {
      await relay.pause();
      await collector.stop();
      const before = sink.stats();
      // Round 2 goes in flight and fails; 3, 4 and 5 queue behind it with room for one: 3 and 4 are dropped.
      for (const round of [2, 3, 4, 5]) sink.exportResults(snapshot(round, startTimeMs));
      // Three log batches of two; room for four records: the middle batch is dropped.
      sink.exportEvents([301, 302, 303, 304, 305, 306].map((pid) => execEvent(checkout, pid)));
      const failing = await eventually('a recorded export failure', async () => sink.stats().lastError !== undefined ? sink.stats() : undefined);
      await sleep(1_000); // several retries while the collector is away
      const stats = sink.stats();
      assert.equal(stats.droppedMetricBatches - before.droppedMetricBatches, 2);
      assert.equal(stats.droppedLogRecords - before.droppedLogRecords, 2);
      assert.equal(stats.pendingMetricBatches, 2);
      assert.equal(stats.pendingLogRecords, 4);
      assert.equal(stats.exportedMetricPoints, before.exportedMetricPoints);
      assert.ok(failing.lastError && failing.lastError.length > 0);
      assert.deepEqual(unhandled, []);
    });

    it('delivers what is pending, and new exports, once the collector is back on the same port', async () => {
      collector = await startCollector();
      await relay.resume(upstreamPort(collector));
      await pointOf(collector, 'checkout-7d9f', 'loupe.exec.execs', sumIs(20));
      await pointOf(collector, 'checkout-7d9f', 'loupe.exec.execs', sumIs(50));
      // Only now: pushed earlier, round 6 would have pushed the oldest pending round out.
      sink.exportResults(snapshot(6, startTimeMs));
      await pointOf(collector, 'checkout-7d9f', 'loupe.exec.execs', sumIs(60));
      await pointOf(collector, 'cart-55b8', 'loupe.exec.execs', sumIs(6));
      const received = await eventually('every metrics batch', async () =>
        pointsOf(await collector.readMetrics()).filter((p) => p.podName === 'checkout-7d9f' && p.metric === 'loupe.exec.execs'),
      );
      assert.deepEqual(received.map((p) => p.point.asInt).sort(), ['20', '50', '60'], 'rounds 3 and 4 were dropped');
      const pids = await eventually('the pending log records', async () => {
        const seen = (await collector.readLogs()).flatMap((b) =>
          b.resourceLogs.flatMap((rl) => (rl.scopeLogs ?? []).flatMap((sl) => (sl.logRecords ?? []).map((r) => attributeMap(r.attributes)['process.pid']))),
        );
        return seen.length >= 4 ? seen : undefined;
      });
      assert.deepEqual([...pids].sort(), ['301', '302', '305', '306']);
      await eventually('an empty queue', async () => (sink.stats().pendingMetricBatches === 0 && sink.stats().pendingLogRecords === 0 ? true : undefined));
      assert.equal(sink.stats().lastError, undefined);
      assert.deepEqual(unhandled, []);
    });
  });
}
