// Probe events → OTLP log records: the event's attributes as they are, its
// time, a readable body, an event name, and the container's resource.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeverityNumber } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { eventBodyOf, eventNameOf, logRecordOf } from '../../agent/otlp/logs.js';
import type { ProbeEvent } from '../../engine/probes/probe.js';

const exec: ProbeEvent = {
  probe: 'exec',
  cgroupId: 42n,
  profileMask: 1n,
  timeMs: 1_700_000_000_250,
  attributes: { 'loupe.event': 'exec', 'process.pid': 7, 'process.parent_pid': 1, 'process.executable.name': 'true', 'process.executable.path': '/bin/true' },
};
const exit: ProbeEvent = { ...exec, attributes: { 'loupe.event': 'exit', 'process.pid': 7, 'process.executable.name': 'sh', 'process.exit.code': 1 } };
const close: ProbeEvent = {
  ...exec,
  probe: 'tcp',
  attributes: { 'loupe.event': 'close', 'network.peer.address': '10.0.0.7', 'network.peer.port': 443, 'loupe.tcp.bytes_sent': 100 },
};

describe('log records of probe events', () => {
  it('names events by probe and kind', () => {
    assert.equal(eventNameOf(exec), 'loupe.exec.exec');
    assert.equal(eventNameOf(exit), 'loupe.exec.exit');
    assert.equal(eventNameOf(close), 'loupe.tcp.close');
    assert.equal(eventNameOf({ ...exec, attributes: {} }), 'loupe.exec');
  });

  it('says what happened in the body', () => {
    assert.equal(eventBodyOf(exec), 'exec /bin/true');
    assert.equal(eventBodyOf(exit), 'exit sh (code 1)');
    assert.equal(eventBodyOf(close), 'close 10.0.0.7:443');
  });

  it('keeps the event time, attributes and resource', () => {
    const resource = resourceFromAttributes({ 'k8s.pod.name': 'web-1' });
    const record = logRecordOf(close, resource, { name: 'loupe' }, 1_700_000_001_000);
    assert.deepEqual(record.hrTime, [1_700_000_000, 250_000_000]);
    assert.deepEqual(record.hrTimeObserved, [1_700_000_001, 0]);
    assert.deepEqual(record.attributes, close.attributes);
    assert.notEqual(record.attributes, close.attributes, 'a copy: the exporter may hold it after the event is reused');
    assert.equal(record.resource, resource);
    assert.equal(record.severityNumber, SeverityNumber.INFO);
    assert.equal(record.eventName, 'loupe.tcp.close');
  });
});
