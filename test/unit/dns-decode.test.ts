// The dns probe's user side, pure: kernel map entries → per-cgroup results,
// the timeout sweep, the port set, names as dns.question.name reads them.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { histogramCount } from '../../api/histogram.js';
import { OTHER_TOP_KEY } from '../../api/top-list.js';
import { dnsResults, NO_RCODE, questionName, rcodeName, typeName } from '../../probes/dns/decode.js';
import { DNS_PORT, DNS_TIMEOUT_NS, dnsPorts, sweepTimedOut } from '../../probes/dns/kernel.js';
import { layouts } from '../../probes/dns/layout.generated.js';

const { dns_stats_key: KEY, dns_stats: STATS, dns_name_key: NAME_KEY, dns_name_counts: NAME_COUNTS, dns_flight: FLIGHT, dns_spilled: SPILLED } = layouts;

/** A struct record with these integer members (by C name) and, optionally, its name bytes. */
function record(layout: { size: number; fields: Record<string, { offset: number; size: number; type: string }> }, values: Record<string, number | bigint | number[]>, name?: string): Buffer {
  const buf = Buffer.alloc(layout.size);
  for (const [member, value] of Object.entries(values)) {
    const f = layout.fields[member]!;
    if (Array.isArray(value)) value.forEach((v, k) => buf.writeBigUInt64LE(BigInt(v), f.offset + 8 * k));
    else if (f.type === 'u64') buf.writeBigUInt64LE(BigInt(value), f.offset);
    else buf.writeUInt16LE(Number(value), f.offset);
  }
  if (name !== undefined) wireName(name).copy(buf, layout.fields.name!.offset);
  return buf;
}

/** "a.b" → its wire form, 3a1b0 style: what the kernel keeps. */
const wireName = (name: string) => Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);

const statsKey = (cgroupId: bigint, qtype: number, rcode: number) => record(KEY, { cgroup_id: cgroupId, qtype, rcode });
const stats = (values: Record<string, number | number[]>) => record(STATS, values);
const nameEntry = (cgroupId: bigint, name: string, queries: number, errors: number): [Buffer, Buffer] => [
  record(NAME_KEY, { cgroup_id: cgroupId }, name),
  record(NAME_COUNTS, { queries, errors }),
];
const flight = (cgroupId: bigint, name: string, startNs: bigint, qtype: number) => record(FLIGHT, { cgroup_id: cgroupId, start_ns: startNs, qtype }, name);
const cgroupKey = (cgroupId: bigint) => record({ size: 8, fields: { id: { offset: 0, size: 8, type: 'u64' } } }, { id: cgroupId });

/** Latency slots with n answers in slot k. */
const slots = (k: number, n: number) => Array.from({ length: 64 }, (_, i) => (i === k ? n : 0));

describe('dns names, types and response codes', () => {
  it('reads wire names as dns.question.name does: lowercased, escaped, the root as "."', () => {
    const wire = (...labels: string[]) => Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.alloc(9)]);
    assert.equal(questionName(wire('WWW', 'Example', 'com')), 'www.example.com');
    assert.equal(questionName(Buffer.alloc(8)), '.');
    assert.equal(questionName(wire('a"b\\c', 'x\x01\xff', 'dot.ted', 'sp ace')), 'a\\"b\\\\c.x\\001\\255.dot\\.ted.sp ace');
  });

  it('names known types and codes, and numbers the others', () => {
    assert.deepEqual([1, 28, 65, 4242].map(typeName), ['A', 'AAAA', 'HTTPS', 'TYPE4242']);
    assert.deepEqual([0, 2, 3, 5, 15].map(rcodeName), ['NOERROR', 'SERVFAIL', 'NXDOMAIN', 'REFUSED', 'RCODE15']);
  });
});

describe('dns results of one drain', () => {
  const pod = 7n;
  const other = 9n;
  const results = dnsResults({
    stats: [
      [statsKey(pod, 1, NO_RCODE), stats({ queries: 6, retries: 1, timeouts: 1 })],
      [statsKey(pod, 28, NO_RCODE), stats({ queries: 2 })],
      [statsKey(pod, 1, 0), stats({ answers: 3, latency: slots(20, 3) })],
      [statsKey(pod, 28, 0), stats({ answers: 2, zero: 1, latency: slots(21, 1) })],
      [statsKey(pod, 1, 3), stats({ answers: 1, latency: slots(22, 1) })],
      [statsKey(pod, 1, 2), stats({ answers: 1, latency: slots(25, 1) })],
      [statsKey(pod, 1, 5), stats({ answers: 1, latency: slots(23, 1) })],
      [statsKey(other, 1, NO_RCODE), stats({ queries: 1 })],
    ],
    names: [nameEntry(pod, 'api.example.com', 5, 0), nameEntry(pod, 'NOPE.example.com', 3, 4), nameEntry(other, 'x.test', 1, 0)],
    spilled: [[cgroupKey(pod), record(SPILLED, { malformed: 2, queries: 4, answers: 2, errors: 1, name_queries: 1, name_errors: 1, latency: slots(19, 2) })]],
    timedOut: [{ cgroupId: pod, startNs: 1n, qtype: 1, name: 'nope.example.com' }],
  });
  const r = results.get(pod)!;

  it('sums rows and spills into exact totals', () => {
    assert.deepEqual([r.queries, r.retries, r.answers, r.errors, r.timeouts, r.malformed], [12, 1, 10, 4, 2, 2]);
  });

  it('keeps every answer latency, and failures apart by code', () => {
    assert.equal(r.latencyNs.count, 10);
    assert.equal(histogramCount(r.latencyNs.histogram), 10);
    assert.equal(r.latencyNs.histogram.zeroCount, 1);
    assert.equal(r.nxdomainLatencyNs.histogram.buckets[22], 1);
    assert.equal(r.servfailLatencyNs.histogram.buckets[25], 1);
    assert.deepEqual([r.nxdomainLatencyNs.count, r.servfailLatencyNs.count, r.otherErrorLatencyNs.count], [1, 1, 1]);
  });

  it('ranks types, codes and names; failures and timeouts are errors; spills are (other)', () => {
    assert.deepEqual(r.topTypes, [
      { key: 'A', count: 6, errors: 5 },
      { key: 'AAAA', count: 2, errors: 0 },
      { key: OTHER_TOP_KEY, count: 4, errors: 1 },
    ]);
    assert.deepEqual(r.topRcodes, [
      { key: 'NOERROR', count: 5 },
      { key: 'NXDOMAIN', count: 1 },
      { key: 'REFUSED', count: 1 },
      { key: 'SERVFAIL', count: 1 },
      { key: OTHER_TOP_KEY, count: 2 },
    ]);
    assert.deepEqual(r.topNames, [
      { key: 'api.example.com', count: 5, errors: 0 },
      { key: 'nope.example.com', count: 3, errors: 5 },
      { key: OTHER_TOP_KEY, count: 1, errors: 1 },
    ]);
  });

  it('keeps cgroups apart', () => {
    assert.deepEqual([...results.keys()].sort(), [pod, other]);
    const o = results.get(other)!;
    assert.deepEqual([o.queries, o.answers, o.timeouts], [1, 0, 0]);
    assert.deepEqual(o.topNames, [{ key: 'x.test', count: 1, errors: 0 }]);
    assert.equal(o.latencyNs.count, 0);
  });

  it('reports nothing for an empty drain', () => {
    assert.equal(dnsResults({ stats: [], names: [], spilled: [], timedOut: [] }).size, 0);
  });
});

describe('dns timeout sweep', () => {
  const now = 100n * DNS_TIMEOUT_NS;
  const entries: [Buffer, Buffer][] = [
    [Buffer.from([1]), flight(1n, 'old.test', now - DNS_TIMEOUT_NS, 1)],
    [Buffer.from([2]), flight(1n, 'fresh.test', now - DNS_TIMEOUT_NS + 1n, 28)],
    [Buffer.from([3]), flight(2n, 'answered.test', now - 2n * DNS_TIMEOUT_NS, 1)],
  ];

  it('takes out the queries that waited the timeout, except those the kernel took first', () => {
    const removed: number[] = [];
    const timedOut = sweepTimedOut(entries, now, (key) => {
      removed.push(key[0]!);
      return key[0] !== 3; // its answer came while the sweep ran
    });
    assert.deepEqual(removed, [1, 3], 'a fresh query stays');
    assert.deepEqual(timedOut, [{ cgroupId: 1n, startNs: now - DNS_TIMEOUT_NS, qtype: 1, name: 'old.test' }]);
  });
});

describe('dns ports', () => {
  it('counts 53 for profiles that name no port, and the union of the others', () => {
    assert.deepEqual([...dnsPorts([])], [DNS_PORT]);
    assert.deepEqual([...dnsPorts([{ name: 'dns' }])], [DNS_PORT]);
    assert.deepEqual([...dnsPorts([{ name: 'dns', serverPorts: [5353] }, { name: 'dns', serverPorts: [53, 5353, 1053] }])].sort((a, b) => a - b), [53, 1053, 5353]);
  });
});
