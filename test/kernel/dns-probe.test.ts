// The dns probe against the live kernel: a real DNS responder on loopback
// (outside every pod, in this process) and real clients in kubelet-shaped
// pods (a Python script that speaks DNS over UDP, and glibc's resolver
// through getent), with known ground truth: counts by type and response
// code, timeouts, latency against what the client measured, names, bad
// input, and nothing for an untargeted pod.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { histogramCount, log2Bucket, type LatencySummary } from '../../api/histogram.js';
import { OTHER_TOP_KEY } from '../../api/top-list.js';
import { dns } from '../../probes/dns/dns.js';
import type { ResultOf } from '../../probes/registry.js';
import { requireKernel } from '../support/privileged.js';
import { A, AAAA, dnsClient as client, MX, Responder, V4, V6, type Step } from '../support/dns-workloads.js';
import { runProbeCases } from '../support/probe-cases.js';

const OTHER_PORT = 5353;

/** A DNS header (id 0x1234, flags 0: a standard query) with these counts. */
const header = (qdcount: number) => `12340000${qdcount.toString(16).padStart(4, '0')}000000000000`;
const label = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]).toString('hex');
const QUESTION_TAIL = '00010001'; // type A, class IN

/** Packets to port 53 that are not queries the probe can read: each is one malformed packet. */
const MALFORMED = [
  '123400', // shorter than a header
  header(0) + label('zero') + '00' + QUESTION_TAIL, // no question
  header(1) + '3f' + Buffer.from('short').toString('hex'), // a label running past the packet
  header(1) + 'c00c' + QUESTION_TAIL, // a compression pointer for the question's name
  header(1) + label('x'.repeat(63)).repeat(5) + '00' + QUESTION_TAIL, // 321 bytes of name: over DNS's 255
  header(1) + label('nothing') + label('after'), // a name without its terminator
  header(1) + label('notype') + '00' + '01', // a question cut before its type and class
];

type DnsResult = ResultOf<'dns'>;

const top = (list: DnsResult['topNames']) => Object.fromEntries(list.map((e) => [e.key, [e.count, e.errors ?? 0]]));
const buckets = (s: LatencySummary) => s.histogram.buckets.flatMap((c, k) => (c > 0 ? [k] : []));

/** Pod A's workload: A and AAAA over IPv4 and IPv6, NXDOMAIN and SERVFAIL. */
const MIXED: Step[] = [
  { name: 'a#.ok.test', type: A, count: 20 },
  { name: 'v6-#.ok.test', type: AAAA, count: 10, host: V6 },
  { name: 'missing.nx.test', type: A, count: 5 },
  { name: 'broken.fail.test', type: MX, count: 3 },
];

function expectMixed(r: DnsResult | undefined): void {
  assert.ok(r, 'no result for a targeted pod');
  assert.equal(r.queries, 38);
  assert.equal(r.answers, 38);
  assert.equal(r.errors, 8);
  assert.equal(r.retries, 0);
  assert.equal(r.timeouts, 0);
  assert.equal(r.malformed, 0);
  assert.equal(r.latencyNs.count, 38);
  assert.equal(r.nxdomainLatencyNs.count, 5);
  assert.equal(r.servfailLatencyNs.count, 3);
  assert.equal(r.otherErrorLatencyNs.count, 0);
  assert.deepEqual(top(r.topTypes), { A: [25, 5], AAAA: [10, 0], MX: [3, 3] });
  assert.deepEqual(top(r.topRcodes), { NOERROR: [30, 0], NXDOMAIN: [5, 0], SERVFAIL: [3, 0] });
  const names = top(r.topNames);
  assert.equal(Object.keys(names).length, 32);
  assert.deepEqual(names['missing.nx.test'], [5, 5]);
  assert.deepEqual(names['broken.fail.test'], [3, 3]);
  assert.deepEqual(names['a7.ok.test'], [1, 0]);
  assert.deepEqual(names['v6-9.ok.test'], [1, 0]);
}

test('dns probe', async (t) => {
  if (!requireKernel(t)) return;
  const responder = new Responder();
  const resolvConf = mkdtempSync(path.join(tmpdir(), 'loupe-dns-'));
  writeFileSync(path.join(resolvConf, 'resolv.conf'), `nameserver ${V4}\noptions attempts:1 timeout:2\n`);
  try {
    await responder.listen('udp4', V4, 53);
    await responder.listen('udp6', V6, 53);
    await responder.listen('udp4', V4, OTHER_PORT);
    const SLOW_MS = 30;
    let measured: number[] = [];
    await runProbeCases(t, dns, [
      { name: 'pod A: A and AAAA over IPv4 and IPv6, NXDOMAIN and SERVFAIL', targeted: true, workload: (pod) => client(pod, MIXED).then(() => {}), check: expectMixed },
      {
        name: `pod B: answers ${SLOW_MS} ms late, latency within one bucket of the client's`,
        targeted: true,
        workload: async (pod) => {
          measured = await client(pod, [{ name: `q#.slow${SLOW_MS}.test`, count: 10 }]);
        },
        check: (r) => {
          assert.ok(r);
          assert.equal(measured.length, 10, 'the client got every answer');
          assert.equal(r.latencyNs.count, 10);
          const low = Math.min(...measured.map(log2Bucket));
          const high = Math.max(...measured.map(log2Bucket));
          for (const k of buckets(r.latencyNs)) assert.ok(k >= low - 1 && k <= high + 1, `bucket ${k} against the client's ${low}..${high}`);
          assert.ok((r.latencyNs.p50 ?? 0) >= SLOW_MS * 1e6 / 2);
        },
      },
      {
        name: 'pod C: a query never answered and one answered after 5 s are timeouts, each counted once',
        targeted: true,
        workload: (pod) =>
          client(pod, [
            { name: 'gone.lost.test', wait: 0 },
            { name: 'late.slow5500.test', wait: 6 },
            { name: 'fine.ok.test' },
          ]).then(() => {}),
        check: (r) => {
          assert.ok(r);
          assert.equal(r.queries, 3);
          assert.equal(r.answers, 1);
          assert.equal(r.timeouts, 2);
          assert.equal(r.errors, 0, 'a timeout is not an answer');
          assert.deepEqual(top(r.topNames), { 'gone.lost.test': [1, 1], 'late.slow5500.test': [1, 1], 'fine.ok.test': [1, 0] });
          assert.deepEqual(top(r.topTypes), { A: [3, 2] });
          assert.ok(buckets(r.latencyNs).every((k) => k < log2Bucket(1e9)), 'the late answer is not in the latency');
        },
      },
      {
        name: 'pod D: a retry of an unanswered query counts as a query, its latency from the first send',
        targeted: true,
        workload: (pod) => client(pod, [{ name: 'again.drop1.test', wait: 0.3, sends: 2 }]).then(() => {}),
        check: (r) => {
          assert.ok(r);
          assert.deepEqual([r.queries, r.retries, r.answers, r.timeouts], [2, 1, 1, 0]);
          assert.deepEqual(top(r.topNames), { 'again.drop1.test': [2, 0] });
          assert.ok(buckets(r.latencyNs).every((k) => k >= log2Bucket(0.3e9) - 1), 'measured from the first send');
        },
      },
      {
        name: 'pod E: malformed packets are counted as such, never as queries',
        targeted: true,
        workload: (pod) => client(pod, [...MALFORMED.map((raw) => ({ raw })), { name: 'cut.short.test' }]).then(() => {}),
        check: (r) => {
          assert.ok(r);
          // The short message before cut.short.test's answer is malformed too.
          assert.equal(r.malformed, MALFORMED.length + 1);
          assert.deepEqual([r.queries, r.answers], [1, 1]);
          assert.deepEqual(top(r.topNames), { 'cut.short.test': [1, 0] });
        },
      },
      {
        name: 'pod F: 10,000 distinct names: totals exact, names bounded with the rest as (other)',
        targeted: true,
        workload: (pod) => client(pod, [{ name: 'n#.ok.test', count: 10_000 }]).then(() => {}),
        check: (r) => {
          assert.ok(r);
          assert.deepEqual([r.queries, r.answers, r.errors, r.timeouts], [10_000, 10_000, 0, 0]);
          assert.equal(histogramCount(r.latencyNs.histogram), 10_000);
          const other = r.topNames.find((e) => e.key === OTHER_TOP_KEY);
          assert.ok(other && other.count > 0, 'names past the kernel map are counted as (other)');
          assert.ok(r.topNames.length < 10_000);
          assert.equal(r.topNames.reduce((sum, e) => sum + e.count, 0), 10_000);
        },
      },
      {
        name: "pod G: glibc's resolver (getent) through the pod's resolv.conf",
        targeted: true,
        workload: (pod) =>
          pod
            .exec(['unshare', '-m', 'sh', '-c', `mount --bind ${resolvConf}/resolv.conf /etc/resolv.conf && exec getent ahostsv4 www.ok.test`])
            .then(() => {}),
        check: (r) => {
          assert.ok(r);
          assert.deepEqual([r.queries, r.answers, r.errors], [1, 1, 0]);
          assert.deepEqual(top(r.topNames), { 'www.ok.test': [1, 0] });
          assert.deepEqual(top(r.topTypes), { A: [1, 0] });
        },
      },
      {
        name: 'pod H: a port that is not a DNS port is not looked at',
        targeted: true,
        workload: (pod) => client(pod, [{ name: 'elsewhere.ok.test' }], { port: OTHER_PORT }).then(() => {}),
        check: (r) => assert.equal(r, undefined),
      },
      { name: 'untargeted pod I runs the same lookups as pod A and reports nothing', targeted: false, workload: (pod) => client(pod, MIXED).then(() => {}), check: (r) => assert.equal(r, undefined) },
    ]);

    await t.test('with serverPorts: [5353]', async (t) => {
      await runProbeCases(
        t,
        dns,
        [
          {
            name: 'queries to 5353 are counted, to 53 not',
            targeted: true,
            workload: async (pod) => {
              await client(pod, [{ name: 'mdns.ok.test', count: 3 }], { port: OTHER_PORT });
              await client(pod, [{ name: 'plain.ok.test' }]);
            },
            check: (r) => {
              assert.ok(r);
              assert.deepEqual([r.queries, r.answers], [3, 3]);
              assert.deepEqual(top(r.topNames), { 'mdns.ok.test': [3, 0] });
            },
          },
        ],
        [{ name: 'dns', serverPorts: [OTHER_PORT] }],
      );
    });
  } finally {
    responder.close();
    rmSync(resolvConf, { recursive: true, force: true });
  }
});
