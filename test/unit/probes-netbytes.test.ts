import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { mergeProbeResults } from '../../api/merge.js';
import { NetbytesResultSchema } from '../../probes/netbytes/netbytes.js';
import { NET_TOTALS_SIZE, NetDeltas, decodeNetTotals, sumNetTotals, type NetTotals } from '../../probes/netbytes/kernel.js';

function totals(sent: number, received: number, out: number, inn: number, protocols: [number, number, number, number]): NetTotals {
  return {
    bytesSent: BigInt(sent),
    bytesReceived: BigInt(received),
    packetsSent: BigInt(out),
    packetsReceived: BigInt(inn),
    protocols: protocols.map(BigInt),
  };
}

const at = (t: NetTotals) => ({ cgroupBySlot: new Map([[0, 5n]]), totals: new Map([[0, t]]) });

describe('netbytes', () => {
  it('reads struct netbytes_totals at its offsets', () => {
    const buf = Buffer.alloc(NET_TOTALS_SIZE);
    [1500n, 60n, 1n, 1n, 2n, 0n, 0n, 0n].forEach((v, i) => buf.writeBigUInt64LE(v, 8 * i));
    assert.deepEqual(decodeNetTotals(buf), totals(1500, 60, 1, 1, [2, 0, 0, 0]));
    assert.throws(() => decodeNetTotals(Buffer.alloc(NET_TOTALS_SIZE - 8)), /rebuild bpf/);
  });

  it('sums CPUs', () => {
    assert.deepEqual(sumNetTotals([totals(1, 2, 3, 4, [1, 2, 3, 1]), totals(1, 1, 1, 1, [0, 1, 0, 1])]), totals(2, 3, 4, 5, [1, 3, 3, 2]));
  });

  it('reports growth per cgroup, protocols by packets', () => {
    const deltas = new NetDeltas();
    deltas.next(at(totals(100, 0, 1, 0, [1, 0, 0, 0])));
    const r = deltas.next(at(totals(1100, 300, 6, 2, [3, 5, 1, 0]))).get(5n);
    assert.ok(r);
    NetbytesResultSchema.parse(r);
    assert.deepEqual(r, {
      bytesSent: 1000,
      bytesReceived: 300,
      packetsSent: 5,
      packetsReceived: 2,
      topProtocols: [{ key: 'udp', count: 5 }, { key: 'tcp', count: 2 }, { key: 'icmp', count: 1 }],
    });
    assert.equal(deltas.next(at(totals(1100, 300, 6, 2, [3, 5, 1, 0]))).size, 0, 'nothing moved');
    assert.deepEqual(mergeProbeResults('netbytes', [r, r]).topProtocols[0], { key: 'udp', count: 10 });
  });
});
