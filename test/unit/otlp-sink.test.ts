// The sink between the agent and the exporters: one snapshot per
// exportResults(), a retry resends only the containers that failed, events go
// out in bounded batches, and stats() tells what happened.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { createOtlpSink, type OtlpSinkConfig } from '../../agent/otlp/sink.js';
import type { OtlpTransport } from '../../agent/otlp/transport.js';
import type { OtlpTarget } from '../../agent/otlp/resource.js';

/** Records what would go on the wire; fails sends for the pods listed in refuse. */
class RecordingTransport implements OtlpTransport {
  readonly metrics: ResourceMetrics[] = [];
  readonly logBatches: ReadableLogRecord[][] = [];
  refuse = new Set<string>();
  shutDown = false;

  async sendMetrics(metrics: ResourceMetrics): Promise<void> {
    const pod = String(metrics.resource.attributes['k8s.pod.name']);
    if (this.refuse.has(pod)) throw new Error(`refused ${pod}`);
    this.metrics.push(metrics);
  }

  async sendLogs(records: ReadableLogRecord[]): Promise<void> {
    if (this.refuse.has('logs')) throw new Error('refused logs');
    this.logBatches.push(records);
  }

  async shutdown(): Promise<void> {
    this.shutDown = true;
  }
}

const config: OtlpSinkConfig = {
  endpoint: 'collector:4317',
  protocol: 'grpc',
  insecure: true,
  headers: {},
  nodeName: 'node-a',
  profile: { namespace: 'shop', name: 'p' },
  limits: { backoff: { initialMs: 5, maxMs: 5 }, logBatchSize: 2 },
};
const target = (pod: string): OtlpTarget => ({ pod: { namespace: 'shop', name: pod, uid: `uid-${pod}` }, container: { name: 'app', id: `containerd://${pod}` } });
const execs = (n: number) => ({ exec: { execs: n, exits: 0, topCommands: [] } });

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await sleep(5);
  assert.ok(condition(), 'condition met in time');
}

describe('OTLP sink', () => {
  it('resends only the containers whose export failed', async () => {
    const transport = new RecordingTransport();
    const sink = createOtlpSink(config, transport);
    transport.refuse.add('b');
    sink.exportResults([{ ...target('a'), results: execs(1), startTimeMs: 0 }, { ...target('b'), results: execs(2), startTimeMs: 0 }], 1_000);
    await until(() => sink.stats().lastError !== undefined);
    assert.equal(sink.stats().lastError, 'refused b');
    assert.equal(sink.stats().exportedMetricPoints, 2, "a's two points went out");
    transport.refuse.clear();
    await until(() => sink.stats().pendingMetricBatches === 0);
    const pods = transport.metrics.map((m) => m.resource.attributes['k8s.pod.name']);
    assert.deepEqual(pods, ['a', 'b'], 'a is not sent twice');
    assert.deepEqual(sink.stats(), {
      exportedMetricPoints: 4,
      exportedLogRecords: 0,
      droppedMetricBatches: 0,
      droppedLogRecords: 0,
      pendingMetricBatches: 0,
      pendingLogRecords: 0,
    });
    await sink.shutdown();
    assert.ok(transport.shutDown);
  });

  it('sends nothing for targets without results', async () => {
    const transport = new RecordingTransport();
    const sink = createOtlpSink(config, transport);
    sink.exportResults([{ ...target('a'), results: {}, startTimeMs: 0 }]);
    assert.equal(sink.stats().pendingMetricBatches, 0);
    await sink.shutdown();
    assert.deepEqual(transport.metrics, []);
  });

  it('sends events in batches of the configured size, each with its container resource', async () => {
    const transport = new RecordingTransport();
    const sink = createOtlpSink(config, transport);
    const event = (pid: number) => ({ probe: 'exec' as const, cgroupId: 1n, profileMask: 1n, timeMs: 5, attributes: { 'process.pid': pid } });
    sink.exportEvents([1, 2, 3].map((pid) => ({ event: event(pid), target: target(pid === 3 ? 'b' : 'a') })));
    await sink.shutdown();
    assert.deepEqual(transport.logBatches.map((b) => b.length), [2, 1]);
    const [first, second] = transport.logBatches.flat();
    assert.equal(first?.resource, second?.resource, 'one resource object per container');
    assert.equal(transport.logBatches[1]?.[0]?.resource.attributes['k8s.pod.name'], 'b');
    assert.equal(sink.stats().exportedLogRecords, 3);
  });

  it('shutdown gives up on an unreachable collector after its timeout and counts what it drops', async () => {
    const transport = new RecordingTransport();
    transport.refuse.add('logs');
    const sink = createOtlpSink(config, transport);
    sink.exportEvents([{ event: { probe: 'exec', cgroupId: 1n, profileMask: 1n, timeMs: 5, attributes: {} }, target: target('a') }]);
    const started = Date.now();
    await sink.shutdown(100);
    assert.ok(Date.now() - started < 1_000);
    assert.equal(sink.stats().droppedLogRecords, 1);
    assert.equal(sink.stats().pendingLogRecords, 0);
  });
});
