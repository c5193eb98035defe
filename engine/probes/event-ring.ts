// A probe's ring buffer of rare events. The native RingBuffer delivers records
// from the event loop, where a throw would reach 'uncaughtException' and end
// the agent; a record this side cannot handle is kept instead and thrown by
// the next consume(), i.e. from the probe's collect(), to the manager.
import { RingBuffer, type BpfMap, type BpfObject } from '../../native/index.js';
import { monotonicNsToEpochMs } from './kernel-decode.js';
import type { ProbeEvent, ProbeEventSink, ProbeReader } from './probe.js';

export class EventRing {
  private readonly ring: RingBuffer;
  private failure: unknown;

  constructor(map: BpfMap, onRecord: (data: Buffer) => void) {
    this.ring = new RingBuffer(map, (data) => {
      try {
        onRecord(data);
      } catch (err) {
        this.failure ??= err;
      }
    });
  }

  /** Handles every pending record now; throws the first failure since the last call. */
  consume(): void {
    this.ring.consume();
    const failure = this.failure;
    this.failure = undefined;
    if (failure !== undefined) throw failure;
  }

  close(): void {
    this.ring.close();
  }
}

/** What every decoded ring-buffer event of a probe carries (see struct *_event in bpf/). */
export interface KernelEvent {
  cgroupId: bigint;
  profiles: bigint;
  timeNs: bigint;
}

export interface EventAggregator<E, R> {
  add(event: E): void;
  /** Results per cgroup id since the previous call. */
  drain(): Map<bigint, R>;
}

/**
 * The reader of a probe whose records are all events: each is decoded,
 * aggregated per cgroup, and passed on to the event sink (OTLP logs).
 */
export function eventProbeReader<R, E extends KernelEvent>(
  probe: string,
  obj: BpfObject,
  onEvent: ProbeEventSink,
  decode: (data: Buffer) => E,
  aggregator: EventAggregator<E, R>,
  attributes: (event: E) => ProbeEvent['attributes'],
): ProbeReader<R> {
  const ring = new EventRing(obj.map('events'), (data) => {
    const event = decode(data);
    aggregator.add(event);
    onEvent({
      probe,
      cgroupId: event.cgroupId,
      profileMask: event.profiles,
      timeMs: monotonicNsToEpochMs(event.timeNs),
      attributes: attributes(event),
    });
  });
  return {
    collect() {
      ring.consume();
      return aggregator.drain();
    },
    close() {
      ring.close();
    },
  };
}
