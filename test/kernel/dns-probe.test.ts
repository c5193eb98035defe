// The dns probe against the live kernel: a real DNS responder on loopback
// (outside every pod, in this process) and real clients in kubelet-shaped
// pods (a Python script that speaks DNS over UDP, and glibc's resolver
// through getent), with known ground truth: counts by type and response
// code, timeouts, latency against what the client measured, names, bad
// input, and nothing for an untargeted pod.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { histogramCount, log2Bucket, type LatencySummary } from '../../api/histogram.js';
import { OTHER_TOP_KEY } from '../../api/top-list.js';
import { dns } from '../../probes/dns/dns.js';
import type { ResultOf } from '../../probes/registry.js';
import type { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { requireKernel } from '../support/privileged.js';
import { runProbeCases } from '../support/probe-cases.js';

const V4 = '127.0.53.1';
const V6 = '::1';
const OTHER_PORT = 5353;

/**
 * Runs a plan of DNS steps from one connected UDP socket per server and
 * prints, as JSON, the latency in ns of each answered query as it measured
 * it. A step: {name, type, count, host, port, wait (s for an answer; 0: do
 * not wait), sends (the same message, same id, each after `wait`)}; '#' in a
 * name is the query's index. {raw: hex} sends bytes as they are; {sleep: s}.
 */
const CLIENT = `
import json, random, socket, struct, sys, time
plan = json.loads(sys.argv[1])
socks = {}
def sock(host, port):
    if (host, port) not in socks:
        s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((host, port))
        socks[(host, port)] = s
    return socks[(host, port)]
def answer(s, qid, wait):
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        s.settimeout(left)
        try:
            data = s.recv(4096)
        except socket.timeout:
            return False
        if len(data) >= 12 and struct.unpack('!H', data[:2])[0] == qid:
            return True
latencies = []
for step in plan['steps']:
    if 'sleep' in step:
        time.sleep(step['sleep'])
        continue
    s = sock(step.get('host', plan['host']), step.get('port', plan['port']))
    if 'raw' in step:
        s.send(bytes.fromhex(step['raw']))
        continue
    for i in range(step.get('count', 1)):
        qid = random.randrange(65536)
        name = step['name'].replace('#', str(i))
        wire = b''.join(bytes([len(l)]) + l.encode() for l in name.split('.') if l) + b'\\0'
        msg = struct.pack('!HHHHHH', qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack('!HH', step.get('type', 1), 1)
        start = time.monotonic_ns()
        for _ in range(step.get('sends', 1)):
            s.send(msg)
            if step.get('wait', 2) > 0 and answer(s, qid, step.get('wait', 2)):
                latencies.append(time.monotonic_ns() - start)
                break
print(json.dumps(latencies))
`;

interface Step {
  name?: string;
  type?: number;
  count?: number;
  host?: string;
  port?: number;
  wait?: number;
  sends?: number;
  raw?: string;
  sleep?: number;
}

const A = 1;
const AAAA = 28;
const MX = 15;

/** Runs the client in the pod; resolves with the latencies it measured. */
async function client(pod: LocalPod, steps: Step[], server: { host?: string; port?: number } = {}): Promise<number[]> {
  const plan = { host: server.host ?? V4, port: server.port ?? 53, steps };
  return JSON.parse(await pod.exec(['python3', '-c', CLIENT, JSON.stringify(plan)])) as number[];
}

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

/**
 * The responder: answers by a label of the question's name: ok (an A or AAAA
 * record), nx (NXDOMAIN), fail (SERVFAIL), slowN (ok after N ms), lost (never),
 * drop1 (ok, but only from the second send of a name on), short (a 6-byte
 * message first, then ok).
 */
class Responder {
  private readonly sockets: dgram.Socket[] = [];
  private readonly seen = new Set<string>();

  async listen(type: 'udp4' | 'udp6', host: string, port: number): Promise<void> {
    const socket = dgram.createSocket(type);
    socket.on('message', (msg, peer) => this.onQuery(socket, msg, peer));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => resolve());
    });
    this.sockets.push(socket);
  }

  private onQuery(socket: dgram.Socket, msg: Buffer, peer: dgram.RemoteInfo): void {
    const question = questionOf(msg);
    if (question === undefined) return;
    const send = (reply: Buffer) => socket.send(reply, peer.port, peer.address);
    const labels = question.labels;
    const behaviour = (prefix: string) => labels.find((l) => l.startsWith(prefix));
    const key = `${peer.address}:${peer.port}:${msg.readUInt16BE(0)}:${labels.join('.')}`;
    if (behaviour('lost')) return;
    if (behaviour('drop1') && !this.seen.has(key)) {
      this.seen.add(key);
      return;
    }
    if (behaviour('short')) send(msg.subarray(0, 6));
    const rcode = behaviour('nx') ? 3 : behaviour('fail') ? 2 : 0;
    const delay = Number(behaviour('slow')?.slice(4) ?? 0);
    const reply = answerTo(msg, question.end, question.type, rcode);
    if (delay > 0) setTimeout(() => send(reply), delay);
    else send(reply);
  }

  close(): void {
    for (const socket of this.sockets) socket.close();
  }
}

function questionOf(msg: Buffer): { labels: string[]; end: number; type: number } | undefined {
  if (msg.length < 17 || msg[2]! & 0x80 || msg.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length && msg[at] !== 0) {
    const len = msg[at]!;
    if (len & 0xc0 || at + 1 + len > msg.length) return undefined;
    labels.push(msg.subarray(at + 1, at + 1 + len).toString().toLowerCase());
    at += 1 + len;
  }
  if (at + 5 > msg.length || at - 12 >= 255) return undefined; // cut short, or a name longer than DNS allows
  return { labels, end: at + 5, type: msg.readUInt16BE(at + 1) };
}

/** The query's header and question, flagged as an answer, with one A/AAAA record when NOERROR. */
function answerTo(msg: Buffer, questionEnd: number, type: number, rcode: number): Buffer {
  const head = Buffer.from(msg.subarray(0, questionEnd));
  head.writeUInt16BE(0x8180 | rcode, 2); // QR, RD, RA
  const address = type === A ? Buffer.from([127, 0, 0, 1]) : type === AAAA ? Buffer.alloc(16, 0).fill(1, 15) : undefined;
  if (rcode !== 0 || address === undefined) return head;
  head.writeUInt16BE(1, 6); // ANCOUNT
  const record = Buffer.alloc(12);
  record.writeUInt16BE(0xc00c, 0); // the question's name
  record.writeUInt16BE(type, 2);
  record.writeUInt16BE(1, 4);
  record.writeUInt32BE(60, 6);
  record.writeUInt16BE(address.length, 10);
  return Buffer.concat([head, record, address]);
}

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
