import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { HISTOGRAM_BUCKETS, histogramCount } from '../../api/histogram.js';
import { OTHER_TOP_KEY } from '../../api/top-list.js';
import { SyscallsResultSchema } from '../../probes/syscalls/syscalls.js';
import { SYSCALL_NAMES, syscallName } from '../../probes/syscalls/node-syscalls.js';
import {
  COUNT_SIZE,
  OTHER_SYSCALL_NR,
  SyscallsDeltas,
  TOTALS_SIZE,
  decodeCount,
  decodeCountKey,
  decodeTotals,
  sumCounts,
  sumTotals,
  type Count,
  type SyscallsSnapshot,
  type Totals,
} from '../../probes/syscalls/kernel.js';
import { decodeTargetValue } from '../../engine/probes/target-value.js';

const GETPPID = 110;
const CLOSE = 3;

/** A struct syscalls_totals as probes/syscalls/syscalls.h lays it out. */
function totalsBuffer(errors: bigint, zero: bigint, latency: Record<number, bigint>): Buffer {
  const buf = Buffer.alloc(TOTALS_SIZE);
  buf.writeBigUInt64LE(errors, 0);
  buf.writeBigUInt64LE(zero, 8);
  for (const [k, c] of Object.entries(latency)) buf.writeBigUInt64LE(c, 16 + 8 * Number(k));
  return buf;
}

function totals(errors: number, zero: number, latency: Record<number, number>): Totals {
  const t: Totals = { errors: BigInt(errors), zero: BigInt(zero), latency: new Array<bigint>(HISTOGRAM_BUCKETS).fill(0n) };
  for (const [k, c] of Object.entries(latency)) t.latency[Number(k)] = BigInt(c);
  return t;
}

const count = (calls: number, errors = 0): Count => ({ calls: BigInt(calls), errors: BigInt(errors) });

function snapshot(
  cgroupBySlot: [number, bigint][],
  totalsBySlot: [number, Totals][],
  counts: [number, [number, Count][]][] = [],
): SyscallsSnapshot {
  return {
    cgroupBySlot: new Map(cgroupBySlot),
    totals: new Map(totalsBySlot),
    counts: new Map(counts.map(([slot, bySyscall]) => [slot, new Map(bySyscall)])),
    latencies: new Map(),
  };
}

describe('syscalls map decoding', () => {
  it('reads struct syscalls_totals at its offsets', () => {
    const t = decodeTotals(totalsBuffer(7n, 2n, { 0: 1n, 6: 900n, 63: 5n }));
    assert.equal(t.errors, 7n);
    assert.equal(t.zero, 2n);
    assert.equal(t.latency.length, HISTOGRAM_BUCKETS);
    assert.equal(t.latency[0], 1n);
    assert.equal(t.latency[6], 900n);
    assert.equal(t.latency[63], 5n);
    assert.equal(t.latency[7], 0n);
  });

  it('reads keys, counts and targets values', () => {
    const key = Buffer.alloc(8);
    key.writeUInt32LE(9, 0);
    key.writeUInt32LE(GETPPID, 4);
    assert.deepEqual(decodeCountKey(key), { slot: 9, nr: GETPPID });
    const value = Buffer.alloc(COUNT_SIZE);
    value.writeBigUInt64LE(1000n, 0);
    value.writeBigUInt64LE(3n, 8);
    assert.deepEqual(decodeCount(value), { calls: 1000n, errors: 3n });
    const target = Buffer.alloc(16);
    target.writeBigUInt64LE(0b110n, 0);
    target.writeUInt32LE(4, 8);
    assert.deepEqual(decodeTargetValue(target), { profiles: 0b110n, slot: 4, flags: 0 });
  });

  it('rejects a value of the wrong size and a syscall number past the other bucket', () => {
    assert.throws(() => decodeTotals(Buffer.alloc(TOTALS_SIZE - 8)), /syscalls_totals: got 520 bytes, expected 528/);
    const key = Buffer.alloc(8);
    key.writeUInt32LE(OTHER_SYSCALL_NR + 1, 4);
    assert.throws(() => decodeCountKey(key));
  });

  it('sums the CPUs of a per-CPU value', () => {
    const sum = sumTotals([totals(1, 0, { 6: 10 }), totals(2, 1, { 6: 5, 9: 1 })]);
    assert.deepEqual(sum, totals(3, 1, { 6: 15, 9: 1 }));
    assert.deepEqual(sumCounts([count(4, 1), count(6, 0)]), count(10, 1));
  });
});

describe('syscalls deltas', () => {
  it('reports what grew since the previous read, by cgroup, with names', () => {
    const deltas = new SyscallsDeltas();
    const first = deltas.next(
      snapshot([[0, 100n]], [[0, totals(1, 0, { 6: 40, 7: 2 })]], [[0, [[GETPPID, count(40)], [CLOSE, count(2, 1)]]]]),
    );
    assert.deepEqual([...first.keys()], [100n]);
    const second = deltas.next(
      snapshot(
        [[0, 100n]],
        [[0, totals(4, 1, { 6: 140, 7: 4, 20: 1 })]],
        [[0, [[GETPPID, count(140)], [CLOSE, count(5, 4)], [OTHER_SYSCALL_NR, count(1)]]]],
      ),
    );
    const r = second.get(100n);
    assert.ok(r);
    SyscallsResultSchema.parse(r);
    assert.equal(r.calls, 104);
    assert.equal(r.errors, 3);
    assert.equal(histogramCount(r.latencyNs.histogram), r.calls);
    assert.deepEqual(r.latencyNs.histogram, { zeroCount: 1, buckets: [0, 0, 0, 0, 0, 0, 100, 2, ...new Array(12).fill(0), 1] });
    assert.deepEqual(r.topSyscalls, [
      { key: 'getppid', count: 100, errors: 0 },
      { key: 'close', count: 3, errors: 3 },
      { key: OTHER_TOP_KEY, count: 1, errors: 0 },
    ]);
  });

  it('reports nothing for a cgroup whose counters did not move', () => {
    const deltas = new SyscallsDeltas();
    const s = snapshot([[0, 100n]], [[0, totals(0, 0, { 6: 5 })]], [[0, [[GETPPID, count(5)]]]]);
    assert.equal(deltas.next(s).size, 1);
    assert.equal(deltas.next(s).size, 0);
  });

  it('gives a slot that changed hands only what its new cgroup did', () => {
    const deltas = new SyscallsDeltas();
    deltas.next(snapshot([[3, 100n]], [[3, totals(0, 0, { 6: 50 })]], [[3, [[GETPPID, count(50)]]]]));
    // slot 3 freed: the reader deleted its per-syscall entries, the array kept its totals
    assert.equal(deltas.next(snapshot([], [])).size, 0);
    const r = deltas.next(snapshot([[3, 200n]], [[3, totals(0, 0, { 6: 57 })]], [[3, [[GETPPID, count(7)]]]]));
    assert.deepEqual([...r.keys()], [200n]);
    assert.equal(r.get(200n)?.calls, 7);
    assert.deepEqual(r.get(200n)?.topSyscalls, [{ key: 'getppid', count: 7, errors: 0 }]);
  });

  it('counts a per-syscall entry that shrank (deleted and recreated) as all new', () => {
    const deltas = new SyscallsDeltas();
    deltas.next(snapshot([[0, 1n]], [[0, totals(0, 0, { 6: 10 })]], [[0, [[GETPPID, count(10)]]]]));
    const r = deltas.next(snapshot([[0, 1n]], [[0, totals(0, 0, { 6: 12 })]], [[0, [[GETPPID, count(2)]]]]));
    assert.deepEqual(r.get(1n)?.topSyscalls, [{ key: 'getppid', count: 2, errors: 0 }]);
  });
});

describe('syscall names', () => {
  it('names x86_64 numbers as the kernel does', () => {
    assert.equal(syscallName(0), 'read');
    assert.equal(syscallName(CLOSE), 'close');
    assert.equal(syscallName(59), 'execve');
    assert.equal(syscallName(GETPPID), 'getppid');
    assert.equal(syscallName(231), 'exit_group');
    assert.equal(syscallName(435), 'clone3');
    assert.equal(syscallName(469), 'file_setattr');
    assert.equal(syscallName(400), 'syscall_400');
  });

  it('has one number per name', () => {
    const names = [...SYSCALL_NAMES.values()];
    assert.equal(new Set(names).size, names.length);
  });

  it('agrees with the installed unistd_64.h where that has the number', (t) => {
    const header = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
    let text: string;
    try {
      text = readFileSync(header, 'utf8');
    } catch {
      t.skip(`${header} is not installed`);
      return;
    }
    let checked = 0;
    for (const m of text.matchAll(/^#define __NR_(\w+) (\d+)$/gm)) {
      assert.equal(SYSCALL_NAMES.get(Number(m[2])), m[1], `number ${m[2]}`);
      checked++;
    }
    assert.ok(checked > 300);
  });
});
