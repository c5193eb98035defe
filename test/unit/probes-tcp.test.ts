import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  TCP_EVENT_SIZE,
  TcpAggregator,
  decodeTcpEvent,
  formatEndpoint,
  formatIPv6,
  tcpEventAttributes,
} from '../../probes/tcp/decode.js';

interface RawTcpEvent {
  cgroupId?: bigint;
  kind: 1 | 2 | 3 | 4;
  family?: 2 | 10;
  local?: number[];
  remote?: number[];
  localPort?: number;
  remotePort?: number;
  durationNs?: bigint;
  bytesAcked?: bigint;
  bytesReceived?: bigint;
}

/** Lays out a struct tcp_event as probes/tcp/tcp.h does. */
function tcpEvent(e: RawTcpEvent): Buffer {
  const buf = Buffer.alloc(TCP_EVENT_SIZE);
  buf.writeBigUInt64LE(e.cgroupId ?? 1n, 0);
  buf.writeBigUInt64LE(1n, 8);
  buf.writeBigUInt64LE(1000n, 16);
  buf.writeBigUInt64LE(e.durationNs ?? 0n, 24);
  buf.writeBigUInt64LE(e.bytesAcked ?? 0n, 32);
  buf.writeBigUInt64LE(e.bytesReceived ?? 0n, 40);
  buf.writeUInt32LE(e.kind, 48);
  buf.writeUInt32LE(321, 52);
  buf.writeUInt16LE(e.family ?? 2, 56);
  buf.writeUInt16LE(e.localPort ?? 40000, 58);
  buf.writeUInt16LE(e.remotePort ?? 80, 60);
  Buffer.from(e.local ?? [127, 0, 0, 1]).copy(buf, 64);
  Buffer.from(e.remote ?? [127, 0, 0, 1]).copy(buf, 80);
  return buf;
}

const v6 = (...groups: number[]) => groups.flatMap((g) => [g >> 8, g & 0xff]);

describe('tcp address formatting', () => {
  const cases: Array<[string, number[], string]> = [
    ['loopback', v6(0, 0, 0, 0, 0, 0, 0, 1), '::1'],
    ['unspecified', v6(0, 0, 0, 0, 0, 0, 0, 0), '::'],
    ['documentation prefix', v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), '2001:db8::1'],
    ['longest zero run wins', v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 0), '2001:db8:0:0:1::'],
    ['a single zero group stays', v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), '2001:db8:0:1:1:1:1:1'],
    ['first of equal runs wins', v6(1, 0, 0, 2, 0, 0, 3, 4), '1::2:0:0:3:4'],
    ['IPv4-mapped prints as IPv4', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3], '10.1.2.3'],
  ];
  for (const [name, bytes, text] of cases) {
    it(name, () => assert.equal(formatIPv6(Uint8Array.from(bytes)), text));
  }

  it('brackets IPv6 endpoints only', () => {
    assert.equal(formatEndpoint('::1', 443), '[::1]:443');
    assert.equal(formatEndpoint('10.0.0.1', 53), '10.0.0.1:53');
  });
});

describe('tcp event decoding', () => {
  it('reads an IPv4 close with duration and bytes', () => {
    const e = decodeTcpEvent(
      tcpEvent({ kind: 4, remote: [10, 0, 0, 9], remotePort: 5432, durationNs: 1500n, bytesAcked: 100n, bytesReceived: 7n }),
    );
    assert.equal(e.kind, 'close');
    assert.equal(e.family, 'ipv4');
    assert.equal(e.remoteAddress, '10.0.0.9');
    assert.equal(e.remotePort, 5432);
    assert.equal(e.localAddress, '127.0.0.1');
    assert.equal(e.localPort, 40000);
    assert.equal(e.durationNs, 1500n);
    assert.equal(tcpEventAttributes(e)['loupe.tcp.bytes_sent'], 100);
  });

  it('reads an IPv6 connect', () => {
    const e = decodeTcpEvent(tcpEvent({ kind: 1, family: 10, remote: v6(0, 0, 0, 0, 0, 0, 0, 1), local: v6(0, 0, 0, 0, 0, 0, 0, 1) }));
    assert.equal(e.family, 'ipv6');
    assert.equal(e.remoteAddress, '::1');
    assert.equal(tcpEventAttributes(e)['network.peer.address'], '::1');
  });

  it('rejects an unknown family or kind', () => {
    assert.throws(() => decodeTcpEvent(tcpEvent({ kind: 1, family: 7 as 2 })));
    const buf = tcpEvent({ kind: 1 });
    buf.writeUInt32LE(9, 48);
    assert.throws(() => decodeTcpEvent(buf), /kind/);
  });
});

describe('tcp aggregation', () => {
  it('counts lifecycle events per cgroup with peers, failures and a duration histogram', () => {
    const agg = new TcpAggregator();
    const add = (raw: RawTcpEvent, times = 1) => {
      for (let i = 0; i < times; i++) agg.add(decodeTcpEvent(tcpEvent(raw)));
    };
    add({ kind: 1, remotePort: 8080 }, 3);
    add({ kind: 2, remotePort: 9 }, 2);
    add({ kind: 1, family: 10, remote: v6(0, 0, 0, 0, 0, 0, 0, 1), remotePort: 8080 });
    add({ kind: 3, remote: [127, 0, 0, 1], remotePort: 51234 });
    add({ kind: 4, durationNs: 0n, bytesAcked: 10n, bytesReceived: 1n });
    add({ kind: 4, durationNs: 1000n, bytesAcked: 20n, bytesReceived: 2n });
    add({ kind: 4, cgroupId: 2n, durationNs: 5n });
    agg.addRetransmits(1n, 4);

    const results = agg.drain();
    const r = results.get(1n);
    assert.ok(r);
    assert.equal(r.connects, 4);
    assert.equal(r.connectFailures, 2);
    assert.equal(r.accepts, 1);
    assert.equal(r.closed, 2);
    assert.equal(r.bytesSent, 30);
    assert.equal(r.bytesReceived, 3);
    assert.equal(r.retransmits, 4);
    assert.deepEqual(r.topPeers, [
      { key: '127.0.0.1:8080', count: 3, errors: 0 },
      { key: '127.0.0.1:9', count: 2, errors: 2 },
      { key: '[::1]:8080', count: 1, errors: 0 },
    ]);
    // 1000 ns is in slot 10: (512, 1024].
    assert.equal(r.durationNs.count, 2);
    assert.equal(r.durationNs.histogram.zeroCount, 1);
    assert.equal(r.durationNs.histogram.buckets.length, 11);
    assert.equal(r.durationNs.histogram.buckets[10], 1);
    assert.equal(results.get(2n)?.closed, 1);
    assert.equal(agg.drain().size, 0);
  });
});
