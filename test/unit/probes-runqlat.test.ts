import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { HISTOGRAM_BUCKETS } from '../../api/histogram.js';
import { mergeProbeResults } from '../../api/merge.js';
import { RunqlatResultSchema } from '../../probes/runqlat/runqlat.js';
import {
  RUNQLAT_KEY_SIZE,
  RUNQLAT_TOTALS_SIZE,
  RunqlatDeltas,
  decodeRunqlatKey,
  decodeRunqlatTotals,
  sumRunqlatTotals,
  type RunqlatSnapshot,
  type RunqlatTotals,
} from '../../probes/runqlat/kernel.js';

function totals(zero: number, latency: Record<number, number>): RunqlatTotals {
  const t: RunqlatTotals = { zero: BigInt(zero), latency: new Array<bigint>(HISTOGRAM_BUCKETS).fill(0n) };
  for (const [k, c] of Object.entries(latency)) t.latency[Number(k)] = BigInt(c);
  return t;
}

function snapshot(slots: [number, bigint][], t: [number, RunqlatTotals][], waits: [number, [string, number][]][] = []): RunqlatSnapshot {
  return {
    cgroupBySlot: new Map(slots),
    totals: new Map(t),
    waits: new Map(waits.map(([slot, byComm]) => [slot, new Map(byComm.map(([c, n]) => [c, BigInt(n)]))])),
  };
}

describe('runqlat map decoding', () => {
  it('reads struct runqlat_totals and struct runqlat_key at their offsets', () => {
    const buf = Buffer.alloc(RUNQLAT_TOTALS_SIZE);
    buf.writeBigUInt64LE(4n, 0);
    buf.writeBigUInt64LE(17n, 8 + 8 * 10);
    buf.writeBigUInt64LE(2n, 8 + 8 * 63);
    assert.deepEqual(decodeRunqlatTotals(buf), totals(4, { 10: 17, 63: 2 }));
    const key = Buffer.alloc(RUNQLAT_KEY_SIZE);
    key.writeUInt32LE(7, 0);
    key.write('python3', 4);
    assert.deepEqual(decodeRunqlatKey(key), { slot: 7, comm: 'python3' });
  });

  it('rejects records of the wrong size', () => {
    assert.throws(() => decodeRunqlatTotals(Buffer.alloc(RUNQLAT_TOTALS_SIZE - 8)), /rebuild bpf/);
  });

  it('sums CPUs bucket by bucket', () => {
    assert.deepEqual(sumRunqlatTotals([totals(1, { 3: 2 }), totals(0, { 3: 5, 4: 1 })]), totals(1, { 3: 7, 4: 1 }));
  });
});

describe('runqlat deltas', () => {
  it('reports what grew since the last read, per cgroup, with thread names', () => {
    const deltas = new RunqlatDeltas();
    const first = deltas.next(snapshot([[0, 100n]], [[0, totals(0, { 10: 3 })]], [[0, [['app', 3]]]]));
    assert.deepEqual(first.get(100n)?.topCommands, [{ key: 'app', count: 3 }]);
    const second = deltas.next(snapshot([[0, 100n]], [[0, totals(0, { 10: 5, 20: 1 })]], [[0, [['app', 4], ['worker', 2]]]]));
    const r = second.get(100n);
    assert.ok(r);
    RunqlatResultSchema.parse(r);
    assert.equal(r.latencyNs.count, 3);
    assert.deepEqual(r.latencyNs.histogram.buckets.slice(10), [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(r.topCommands, [{ key: 'worker', count: 2 }, { key: 'app', count: 1 }]);
  });

  it('reports nothing for a cgroup whose counters did not move', () => {
    const deltas = new RunqlatDeltas();
    deltas.next(snapshot([[0, 100n]], [[0, totals(0, { 10: 3 })]]));
    assert.equal(deltas.next(snapshot([[0, 100n]], [[0, totals(0, { 10: 3 })]])).size, 0);
  });

  it('merges results by adding histograms and thread counts', () => {
    const deltas = new RunqlatDeltas();
    const a = deltas.next(snapshot([[0, 1n]], [[0, totals(0, { 10: 2 })]], [[0, [['app', 2]]]])).get(1n)!;
    const b = new RunqlatDeltas().next(snapshot([[0, 1n]], [[0, totals(0, { 12: 1 })]], [[0, [['app', 1]]]])).get(1n)!;
    const merged = mergeProbeResults('runqlat', [a, b]);
    assert.equal(merged.latencyNs.count, 3);
    assert.deepEqual(merged.topCommands, [{ key: 'app', count: 3 }]);
  });
});
