// Rare probe events (exec, exit, TCP close, …) → OTLP log records, built as
// the SDK's ReadableLogRecord so its log exporters serialize them. Each record
// carries the event's attributes as they are and the container's resource.
import { SeverityNumber } from '@opentelemetry/api';
import { millisToHrTime, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ProbeEvent } from '../../engine/probes/probe.js';

/** `loupe.<probe>.<kind>`, e.g. loupe.exec.exit, loupe.tcp.close. */
export function eventNameOf(event: ProbeEvent): string {
  const kind = event.attributes['loupe.event'];
  return kind === undefined ? `loupe.${event.probe}` : `loupe.${event.probe}.${kind}`;
}

/** One line a person can read in a log view (exec /bin/true, exit sh (code 1), close 10.0.0.7:443); the attributes hold the data. */
export function eventBodyOf(event: ProbeEvent): string {
  const a = event.attributes;
  const peer = a['network.peer.address'] === undefined ? undefined : `${a['network.peer.address']}:${a['network.peer.port'] ?? '?'}`;
  const subject = a['process.executable.path'] ?? peer ?? a['process.executable.name'];
  const code = a['process.exit.code'] === undefined ? '' : ` (code ${a['process.exit.code']})`;
  return [a['loupe.event'] ?? event.probe, subject].filter((part) => part !== undefined).join(' ') + code;
}

export function logRecordOf(event: ProbeEvent, resource: Resource, scope: InstrumentationScope, observedMs: number): ReadableLogRecord {
  return {
    hrTime: millisToHrTime(event.timeMs),
    hrTimeObserved: millisToHrTime(observedMs),
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    eventName: eventNameOf(event),
    body: eventBodyOf(event),
    attributes: { ...event.attributes },
    droppedAttributesCount: 0,
    resource,
    instrumentationScope: scope,
  };
}
