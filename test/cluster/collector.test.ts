// The real OpenTelemetry Collector that OTLP tests export to: what is POSTed
// as OTLP/HTTP JSON comes back from its file exporter, attributes intact.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCollector, type Collector } from '../support/collector.js';
import { controlPlaneSuiteSkip } from '../support/control-plane-blocker.js';

const resource = { attributes: [{ key: 'k8s.pod.name', value: { stringValue: 'checkout-7d9f' } }] };
const nowNanos = () => (BigInt(Date.now()) * 1_000_000n).toString();

/** Polls read until it returns a non-empty list: the file exporter flushes every 100 ms. */
async function eventually<T>(read: () => Promise<T[]>, timeoutMs = 10_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await read();
    if (items.length > 0 || Date.now() > deadline) return items;
    await sleep(100);
  }
}

async function post(collector: Collector, path: string, body: object): Promise<void> {
  const response = await fetch(`${collector.httpEndpoint}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

describe('OpenTelemetry Collector', { skip: await controlPlaneSuiteSkip() }, () => {
  let collector: Collector;

  before(async () => {
    collector = await startCollector();
  });

  after(async () => {
    await collector?.stop();
  });

  it('listens on loopback for OTLP/gRPC and OTLP/HTTP', () => {
    assert.match(collector.grpcEndpoint, /^127\.0\.0\.1:\d+$/);
    assert.match(collector.httpEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(collector.grpcEndpoint, collector.httpEndpoint.slice('http://'.length));
  });

  it('writes a metric received over OTLP/HTTP', async () => {
    await post(collector, '/v1/metrics', {
      resourceMetrics: [{
        resource,
        scopeMetrics: [{
          scope: { name: 'loupe.test' },
          metrics: [{
            name: 'loupe.exec.count',
            unit: '{exec}',
            sum: {
              aggregationTemporality: 2,
              isMonotonic: true,
              dataPoints: [{ asInt: '7', timeUnixNano: nowNanos(), attributes: [{ key: 'k8s.namespace.name', value: { stringValue: 'shop' } }] }],
            },
          }],
        }],
      }],
    });
    const batches = await eventually(() => collector.readMetrics());
    assert.equal(batches.length, 1);
    const [resourceMetrics] = batches[0]!.resourceMetrics;
    assert.deepEqual(resourceMetrics?.resource?.attributes, resource.attributes);
    const metric = resourceMetrics?.scopeMetrics?.[0]?.metrics?.[0];
    assert.equal(metric?.name, 'loupe.exec.count');
    const dataPoints = metric?.sum?.dataPoints as { asInt?: string }[] | undefined;
    assert.equal(dataPoints?.[0]?.asInt, '7');
    assert.deepEqual(await collector.readLogs(), [], 'a metric is not read back as a log');
  });

  it('writes a log record received over OTLP/HTTP', async () => {
    await post(collector, '/v1/logs', {
      resourceLogs: [{
        resource,
        scopeLogs: [{
          scope: { name: 'loupe.test' },
          logRecords: [{
            timeUnixNano: nowNanos(),
            severityNumber: 9,
            severityText: 'INFO',
            body: { stringValue: 'exec /bin/true' },
            attributes: [{ key: 'process.executable.path', value: { stringValue: '/bin/true' } }],
          }],
        }],
      }],
    });
    const batches = await eventually(() => collector.readLogs());
    assert.equal(batches.length, 1);
    const record = batches[0]!.resourceLogs[0]?.scopeLogs?.[0]?.logRecords?.[0];
    assert.deepEqual(record?.body, { stringValue: 'exec /bin/true' });
    assert.equal(record?.severityText, 'INFO');
    assert.deepEqual(record?.attributes, [{ key: 'process.executable.path', value: { stringValue: '/bin/true' } }]);
  });

  it('stops and removes its files', async () => {
    const { outputFile, pid } = collector;
    await collector.stop();
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
    assert.equal(existsSync(outputFile), false);
  });
});
