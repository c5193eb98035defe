import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { HISTOGRAM_BUCKETS } from '../../api/histogram.js';
import { mergeProbeResults } from '../../api/merge.js';
import { BiolatencyResultSchema } from '../../probes/biolatency/biolatency.js';
import {
  BIO_COUNT_SIZE,
  BIO_KEY_SIZE,
  BIO_TOTALS_SIZE,
  BioDeltas,
  decodeBioCount,
  decodeBioKey,
  decodeBioTotals,
  deviceName,
  deviceNumber,
  sumBioTotals,
  type BioSnapshot,
  type BioTotals,
} from '../../probes/biolatency/kernel.js';

const VDA = (254 << 20) | 0;

function totals(ios: number, read: number, written: number, latency: Record<number, number>, errors = 0): BioTotals {
  const t: BioTotals = {
    ios: BigInt(ios),
    errors: BigInt(errors),
    bytesRead: BigInt(read),
    bytesWritten: BigInt(written),
    zero: 0n,
    latency: new Array<bigint>(HISTOGRAM_BUCKETS).fill(0n),
  };
  for (const [k, c] of Object.entries(latency)) t.latency[Number(k)] = BigInt(c);
  return t;
}

function snapshot(t: BioTotals, devices: [number, number, number][]): BioSnapshot {
  return {
    cgroupBySlot: new Map([[3, 77n]]),
    totals: new Map([[3, t]]),
    devices: new Map([[3, new Map(devices.map(([dev, ios, errors]) => [dev, { ios: BigInt(ios), errors: BigInt(errors) }]))]]),
  };
}

describe('biolatency map decoding', () => {
  it('reads struct biolatency_totals, _key and _count at their offsets', () => {
    const buf = Buffer.alloc(BIO_TOTALS_SIZE);
    [5n, 1n, 4096n, 8192n, 0n].forEach((v, i) => buf.writeBigUInt64LE(v, 8 * i));
    buf.writeBigUInt64LE(5n, 40 + 8 * 17);
    assert.deepEqual(decodeBioTotals(buf), totals(5, 4096, 8192, { 17: 5 }, 1));
    const key = Buffer.alloc(BIO_KEY_SIZE);
    key.writeUInt32LE(3, 0);
    key.writeUInt32LE(VDA, 4);
    assert.deepEqual(decodeBioKey(key), { slot: 3, dev: VDA });
    const count = Buffer.alloc(BIO_COUNT_SIZE);
    count.writeBigUInt64LE(9n, 0);
    assert.deepEqual(decodeBioCount(count), { ios: 9n, errors: 0n });
  });

  it('sums CPUs', () => {
    assert.deepEqual(sumBioTotals([totals(1, 512, 0, { 10: 1 }), totals(2, 0, 1024, { 10: 2 })]), totals(3, 512, 1024, { 10: 3 }));
  });
});

describe('devices', () => {
  it('splits the kernel dev_t into major:minor', () => {
    assert.equal(deviceNumber(VDA), '254:0');
    assert.equal(deviceNumber((259 << 20) | 3), '259:3');
  });

  it('names a device from /sys/dev/block, and falls back to major:minor', () => {
    const sys = mkdtempSync(path.join(tmpdir(), 'loupe-sys-'));
    try {
      mkdirSync(path.join(sys, 'devices/virtual/block/vda'), { recursive: true });
      symlinkSync('devices/virtual/block/vda', path.join(sys, '254:0'));
      assert.equal(deviceName(VDA, sys), 'vda');
      assert.equal(deviceName((8 << 20) | 1, sys), '8:1');
    } finally {
      rmSync(sys, { recursive: true, force: true });
    }
  });
});

describe('biolatency deltas', () => {
  it('reports growth per cgroup, devices by name', () => {
    const deltas = new BioDeltas((dev) => (dev === VDA ? 'vda' : deviceNumber(dev)));
    deltas.next(snapshot(totals(2, 0, 8192, { 20: 2 }), [[VDA, 2, 0]]));
    const r = deltas.next(snapshot(totals(5, 4096, 8192, { 20: 4, 22: 1 }, 1), [[VDA, 4, 1], [(8 << 20) | 16, 1, 0]])).get(77n);
    assert.ok(r);
    BiolatencyResultSchema.parse(r);
    assert.deepEqual(
      { ...r, latencyNs: r.latencyNs.count },
      {
        ios: 3,
        errors: 1,
        bytesRead: 4096,
        bytesWritten: 0,
        latencyNs: 3,
        topDevices: [{ key: 'vda', count: 2, errors: 1 }, { key: '8:16', count: 1, errors: 0 }],
      },
    );
    assert.deepEqual(mergeProbeResults('biolatency', [r, r]).topDevices[0], { key: 'vda', count: 4, errors: 2 });
  });

  it('reports nothing when nothing moved', () => {
    const deltas = new BioDeltas(() => 'vda');
    deltas.next(snapshot(totals(2, 0, 8192, { 20: 2 }), [[VDA, 2, 0]]));
    assert.equal(deltas.next(snapshot(totals(2, 0, 8192, { 20: 2 }), [[VDA, 2, 0]])).size, 0);
  });
});
