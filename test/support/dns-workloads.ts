// DNS workloads for the tests of the dns probe: a responder on loopback (in
// the test's own process, outside every pod) whose answers the queried names
// choose, and a real client (Python over UDP) run in a pod, which reports the
// latency it measured for each answer.
import dgram from 'node:dgram';
import type { LocalPod } from '../../hack/local-cluster/local-pod.js';

export const A = 1;
export const AAAA = 28;
export const MX = 15;
/** Where the responder listens in the tests: a loopback address of its own, and ::1. */
export const V4 = '127.0.53.1';
export const V6 = '::1';

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

export interface Step {
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

/** Runs the client in the pod; resolves with the latencies it measured. */
export async function dnsClient(pod: LocalPod, steps: Step[], server: { host?: string; port?: number } = {}): Promise<number[]> {
  const plan = { host: server.host ?? V4, port: server.port ?? 53, steps };
  return JSON.parse(await pod.exec(['python3', '-c', CLIENT, JSON.stringify(plan)])) as number[];
}

/**
 * The responder: answers by a label of the question's name: ok (an A or AAAA
 * record), nx (NXDOMAIN), fail (SERVFAIL), slowN (ok after N ms), lost (never),
 * drop1 (ok, but only from the second send of a name on), short (a 6-byte
 * message first, then ok).
 */
export class Responder {
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
