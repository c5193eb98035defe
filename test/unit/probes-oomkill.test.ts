import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { mergeProbeResults } from '../../api/merge.js';
import { OomkillResultSchema } from '../../probes/oomkill/oomkill.js';
import {
  OOMKILL_EVENT_SIZE,
  OomkillAggregator,
  decodeOomkillEvent,
  oomkillEventAttributes,
  type OomkillEvent,
} from '../../probes/oomkill/decode.js';

/** A struct oomkill_event as probes/oomkill/oomkill.h lays it out. */
function eventBuffer(cgroupId: bigint, pid: number, comm: string): Buffer {
  const buf = Buffer.alloc(OOMKILL_EVENT_SIZE);
  buf.writeBigUInt64LE(cgroupId, 0);
  buf.writeBigUInt64LE(0b10n, 8);
  buf.writeBigUInt64LE(123_456n, 16);
  buf.writeBigUInt64LE(70_000n, 24);
  buf.writeUInt32LE(pid, 32);
  buf.writeUInt32LE(1000, 36);
  buf.writeUInt32LE(pid + 1, 40);
  buf.write(comm, 48);
  return buf;
}

describe('oomkill events', () => {
  it('decodes struct oomkill_event at its offsets', () => {
    assert.deepEqual(decodeOomkillEvent(eventBuffer(42n, 4321, 'java')), {
      cgroupId: 42n,
      profiles: 0b10n,
      timeNs: 123_456n,
      totalVmPages: 70_000n,
      pid: 4321,
      uid: 1000,
      triggerPid: 4322,
      comm: 'java',
    });
    assert.throws(() => decodeOomkillEvent(Buffer.alloc(OOMKILL_EVENT_SIZE + 8)), /rebuild bpf/);
  });

  it('names attributes in OpenTelemetry style', () => {
    const attributes = oomkillEventAttributes(decodeOomkillEvent(eventBuffer(42n, 4321, 'java')));
    assert.equal(attributes['process.pid'], 4321);
    assert.equal(attributes['process.executable.name'], 'java');
    assert.equal(attributes['loupe.event'], 'oom_kill');
    assert.equal(attributes['loupe.oom.total_vm_pages'], 70_000);
  });

  it('counts kills per cgroup and by command, then starts over', () => {
    const aggregator = new OomkillAggregator();
    const event = (cgroupId: bigint, comm: string): OomkillEvent => decodeOomkillEvent(eventBuffer(cgroupId, 1, comm));
    aggregator.add(event(1n, 'java'));
    aggregator.add(event(1n, 'java'));
    aggregator.add(event(1n, 'python3'));
    aggregator.add(event(2n, 'node'));
    const results = aggregator.drain();
    assert.deepEqual(results.get(1n), { kills: 3, topCommands: [{ key: 'java', count: 2 }, { key: 'python3', count: 1 }] });
    assert.deepEqual(results.get(2n), { kills: 1, topCommands: [{ key: 'node', count: 1 }] });
    OomkillResultSchema.parse(results.get(1n));
    assert.equal(aggregator.drain().size, 0);
    assert.deepEqual(mergeProbeResults('oomkill', [results.get(1n)!, results.get(2n)!]).kills, 4);
  });
});
