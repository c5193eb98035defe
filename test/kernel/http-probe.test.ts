// The http probe against the live kernel: a real HTTP server in pod A and
// real clients in pod B (node:http, and raw TCP for what node:http never
// does), with known requests, statuses and server delays; counts must be
// exact on both sides, latency within one log2 bucket of what the server
// measured itself, an untargeted pod invisible, and bad input harmless.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, release, tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { log2Bucket } from '../../api/histogram.js';
import { OTHER_TOP_KEY } from '../../api/top-list.js';
import { probeObjectDirectory } from '../../engine/probe-objects.js';
import { TARGETS_MAP } from '../../engine/probes/probe.js';
import { configureTargetStorage, usesTargetStorage } from '../../engine/probes/target-storage.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { BpfObject } from '../../native/index.js';
import { http } from '../../probes/http/http.js';
import { parseSeriesKey, type HttpResult } from '../../probes/http/http-result.js';
import { configureHttpHooks, kernelHttpHooks, type HttpHooks } from '../../probes/http/kernel.js';
import { layouts } from '../../probes/http/layout.generated.js';
import { httpRouteHash } from '../support/http-route-hash.js';
import { requireKernel } from '../support/privileged.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/http/', import.meta.url));
const NODE = process.execPath;

interface Served {
  method: string;
  path: string;
  status: number;
  ns: number;
}

interface Probe {
  target(pod: LocalPod): void;
  collect(): Map<bigint, HttpResult>;
  /** Writes an entry into http_series as the kernel would. */
  putSeries(key: Buffer, value: Buffer): void;
  /** Connections in the LRU of the syscall hooks, and its size. */
  lru(): { connections: number; maxEntries: number };
}

/**
 * The http probe loaded once; `target` puts a pod in its targets map and, as
 * the agent does, in the cgroup's storage: the filter the programs read where
 * the kernel has cgroup storage (targetStorage false: the targets hash alone,
 * the fallback for older kernels). hooks: the socket tracepoints, or the
 * syscall exit that kernels before 6.3 fall back to.
 */
async function withProbe(body: (probe: Probe) => Promise<void>, targetStorage = true, hooks: HttpHooks = 'socket') {
  const obj = BpfObject.open(path.join(probeObjectDirectory(), http.kernel.objectFile));
  try {
    configureTargetStorage(obj, { targetStorage });
    configureHttpHooks(obj, hooks);
    await obj.loadAsync();
    assert.equal(usesTargetStorage(obj), targetStorage, 'the filter asked for');
    const targets = obj.map(TARGETS_MAP);
    const links = http.kernel.attach(obj);
    const reader = http.kernel.reader(obj, () => {});
    let slot = 0;
    try {
      await body({
        target(pod) {
          const key = Buffer.alloc(8);
          key.writeBigUInt64LE(pod.cgroupId);
          const value = Buffer.alloc(16);
          value.writeBigUInt64LE(1n << BigInt(slot), 0);
          value.writeUInt32LE(slot++, 8);
          targets.update(key, value);
          http.kernel.syncTarget?.(obj, pod.cgroupId, value);
        },
        collect: () => reader.collect(),
        putSeries: (key, value) => obj.map('http_series').update(key, value),
        lru: () => ({ connections: obj.map('http_conns').keys().length, maxEntries: obj.map('http_conns').maxEntries }),
      });
    } finally {
      reader.close();
      for (const link of links) link.destroy();
    }
  } finally {
    obj.close();
  }
}

/** A server running in `pod` until the pod is killed (on `cpus` when given, as taskset takes them): its port, and what it logged serving. */
async function startServer(pod: LocalPod, dir: string, script = 'server.mjs', args: string[] = [], cpus?: string) {
  const log = path.join(dir, `served-${pod.containerId.slice(0, 8)}.jsonl`);
  writeFileSync(log, '');
  let resolvePort: (port: number) => void;
  const port = new Promise<number>((resolve) => (resolvePort = resolve));
  const pinned = cpus === undefined ? [] : ['taskset', '-c', cpus];
  const exited = pod.exec([...pinned, NODE, path.join(FIXTURES, script), ...(script === 'server.mjs' ? [log] : args)], (chunk) => {
    const n = Number.parseInt(chunk, 10);
    if (Number.isInteger(n)) resolvePort(n);
  });
  exited.catch(() => {}); // killed when the test ends
  const served = () =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Served);
  return { port: await Promise.race([port, exited.then(() => Promise.reject(new Error('server exited')))]), served };
}

type Plan = { method: 'GET' | 'POST'; path: string; fresh: boolean }[];

async function runClient(pod: LocalPod, dir: string, port: number, plan: Plan): Promise<number[]> {
  const file = path.join(dir, `plan-${pod.containerId.slice(0, 8)}.json`);
  writeFileSync(file, JSON.stringify(plan));
  return JSON.parse(await pod.exec([NODE, path.join(FIXTURES, 'client.mjs'), String(port), file])) as number[];
}

async function raw(pod: LocalPod, mode: string, port: number): Promise<string> {
  return (await pod.exec([NODE, path.join(FIXTURES, 'raw.mjs'), mode, String(port)])).trim();
}

const times = (n: number, step: (i: number) => Plan[number]): Plan => Array.from({ length: n }, (_, i) => step(i));

/** Counts per series key with the port written as P, for comparing with a plan. */
function countsByKey(r: HttpResult | undefined, port: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of r?.topSeries ?? []) counts[e.key.replace(` ${port} `, ' P ')] = (counts[e.key.replace(` ${port} `, ' P ')] ?? 0) + e.count;
  return counts;
}

/** The exact q-quantile of raw values (nearest rank). */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

async function cleanup(pods: LocalPod[], dir: string) {
  for (const pod of pods) {
    await pod.killAll();
    pod.remove();
  }
  rmSync(dir, { recursive: true, force: true });
}

/** A server pod a and a client pod b, both traced, the server started; the pods and files are cleaned up after. */
async function withServerAndClient(body: (env: { a: LocalPod; b: LocalPod; dir: string; probe: Probe; server: Awaited<ReturnType<typeof startServer>> }) => Promise<void>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'loupe-http-'));
  const [a, b] = [new LocalPod(), new LocalPod()];
  try {
    await withProbe(async (probe) => {
      probe.target(a);
      probe.target(b);
      const server = await startServer(a, dir);
      await body({ a, b, dir, probe, server });
    });
  } finally {
    await cleanup([a, b], dir);
  }
}

test('http probe: the kernel\'s BTF decides the hooks, as its symbol table would: the socket tracepoints where it has both', () => {
  // Another witness than BTF: each tracepoint has a __traceiter_<name> function.
  const symbols = readFileSync('/proc/kallsyms', 'utf8');
  const has = (tracepoint: string) => new RegExp(` __traceiter_${tracepoint}$`, 'm').test(symbols);
  assert.ok(has('sys_exit'), 'the symbol table names tracepoints');
  assert.equal(kernelHttpHooks(), has('sock_recv_length') && has('sock_send_length') ? 'socket' : 'syscall', `kernel ${release()}`);
});

test('http probe: an object is configured for one hook set, once (a second choice would leave the first one\'s map sizes)', () => {
  const obj = BpfObject.open(path.join(probeObjectDirectory(), http.kernel.objectFile));
  try {
    configureHttpHooks(obj, 'socket');
    assert.throws(() => configureHttpHooks(obj, 'syscall'), /already configured for the socket hooks/);
  } finally {
    obj.close();
  }
});

const HOOKS_AND_FILTERS: [HttpHooks, boolean][] = [
  ['socket', true],
  ['socket', false],
  ['syscall', true],
  ['syscall', false],
];

for (const [hooks, targetStorage] of HOOKS_AND_FILTERS) {
test(`http probe: known requests over keep-alive and fresh connections, both sides, exact (${hooks} hooks, ${targetStorage ? 'cgroup storage' : 'targets hash'})`, async (t) => {
  if (!requireKernel(t)) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'loupe-http-'));
  const [a, b, c] = [new LocalPod(), new LocalPod(), new LocalPod()];
  try {
    await withProbe(async (probe) => {
      probe.target(a);
      probe.target(b);
      const server = await startServer(a, dir);
      const untargeted = await startServer(c, dir);
      probe.collect(); // start from zero

      // 40 × 200, 7 × 404, 3 × 503, with known server delays; ids in paths fold to {id}.
      const plan: Plan = [
        ...times(40, (i) => ({ method: 'GET', path: `/items/${i + 1}?status=200&delay=5`, fresh: i >= 25 })),
        ...times(7, (i) => ({ method: 'GET', path: `/users/6f1c2a3e-0b4d-4c5e-9f60-a1b2c3d4e5f${i}/profile?status=404&delay=1`, fresh: false })),
        ...times(3, (i) => ({ method: 'POST', path: `/orders/deadbeef0${i}?status=503&delay=30`, fresh: true })),
        ...times(2, () => ({ method: 'GET', path: '/stream?chunked=1&delay=2', fresh: false })),
      ];
      const statuses = await runClient(b, dir, server.port, plan);
      assert.deepEqual(
        [statuses.filter((s) => s === 200).length, statuses.filter((s) => s === 404).length, statuses.filter((s) => s === 503).length],
        [42, 7, 3],
      );
      assert.equal(await raw(b, 'split', server.port), '200');
      assert.equal(await raw(b, 'continue', server.port), '200');
      // The untargeted pod serves and requests too, unseen.
      await runClient(c, dir, untargeted.port, times(20, (i) => ({ method: 'GET', path: `/hidden/${i}`, fresh: i % 2 === 0 })));

      const results = probe.collect();
      const served = server.served();
      assert.equal(served.length, 54, 'the server served every request');
      assert.deepEqual([...results.keys()].sort(), [a.cgroupId, b.cgroupId].sort(), 'only the targeted pods report');
      const ra = results.get(a.cgroupId)!;
      const rb = results.get(b.cgroupId)!;

      const expected = {
        'GET 200 P /items/{id}': 40,
        'GET 404 P /users/{id}/profile': 7,
        'POST 503 P /orders/{id}': 3,
        'GET 200 P /stream': 2,
        'POST 200 P /upload/{id}': 2,
      };
      const sided = (side: string) => Object.fromEntries(Object.entries(expected).map(([k, v]) => [`${side} ${k}`, v]));
      assert.deepEqual(countsByKey(ra, server.port), sided('server'), 'server series in pod A');
      assert.deepEqual(countsByKey(rb, server.port), sided('client'), 'client series in pod B');
      assert.deepEqual(
        [ra.requests, ra.serverRequests, ra.serverErrors, ra.clientRequests, ra.unmatchedResponses],
        [54, 54, 3, 0, 0],
      );
      assert.deepEqual(
        [rb.requests, rb.clientRequests, rb.clientErrors, rb.serverRequests, rb.unmatchedResponses],
        [54, 54, 10, 0, 0],
      );
      assert.equal(ra.serverLatencyNs.count, 54);
      assert.equal(rb.clientLatencyNs.count, 54);
      for (const e of ra.topSeries) assert.equal(e.errors, parseSeriesKey(e.key)!.status >= 500 ? e.count : 0, e.key);

      // Latency: within one log2 bucket of the server's own measure.
      const own = served.map((s) => s.ns);
      for (const [q, probeQ] of [
        [0.5, ra.serverLatencyNs.p50],
        [0.99, ra.serverLatencyNs.p99],
      ] as const) {
        const truth = quantile(own, q);
        assert.ok(probeQ !== undefined);
        assert.ok(Math.abs(log2Bucket(probeQ) - log2Bucket(truth)) <= 1, `p${q * 100}: probe ${probeQ} ns, server ${truth} ns`);
      }
      // A client waits at least as long as its server worked.
      assert.ok(log2Bucket(rb.clientLatencyNs.p50!) >= log2Bucket(quantile(own, 0.5)) - 1);
      assert.match(http.headline(ra), /^54 req, 5\.6% 5xx, p99 \d/);
      // Where connections were kept: the sockets' storage, or the LRU.
      const lru = probe.lru();
      if (hooks === 'socket') {
        assert.equal(lru.connections, 0, 'the socket hooks keep no connection in the LRU');
        assert.equal(lru.maxEntries, 1, 'the unused LRU shrunk to one entry');
      } else {
        assert.ok(lru.connections > 0, 'the syscall hooks keep connections in the LRU');
      }
    }, targetStorage, hooks);
  } finally {
    await cleanup([a, b, c], dir);
  }
});
}

/** Request targets and the routes the probe must make of them. */
const ROUTES: [target: string, route: string][] = [
  ['/', '/'],
  ['/items/12345', '/items/{id}'],
  ['/a/deadbeef', '/a/deadbeef'], // hex, but no digit
  ['/a/deadbee1', '/a/{id}'], // 8 hex with a digit
  ['/a/dead1', '/a/dead1'], // hex with a digit, but short
  ['/a/1234567/b', '/a/{id}/b'],
  ['/u/6F1C2A3E-0B4D-4C5E-9F60-A1B2C3D4E5F0', '/u/{id}'],
  ['/u/6f1c2a3e-0b4d-4c5e-9f60-a1b2c3d4e5f0a', '/u/6f1c2a3e-0b4d-4c5e-9f60-a1b2c3d4e5f0a'], // a character too many
  ['/u/6f1c2a3e0-b4d-4c5e-9f60-a1b2c3d4e5f0', '/u/6f1c2a3e0-b4d-4c5e-9f60-a1b2c3d4e5f0'], // a dash out of place
  ['//x//12', '//x//{id}'],
  ['/x/12?q=1/2', '/x/{id}'],
  ['/x/13#frag', '/x/{id}'],
  ['/v1/users/42/orders/0a1b2c3d4e', '/v1/users/{id}/orders/{id}'],
  ['/files/report.2024.pdf', '/files/report.2024.pdf'],
  ['/%7Euser/9', '/%7Euser/{id}'],
  // At the cut (63 bytes): an id that starts in time folds, one that starts too late goes.
  [`/${'a'.repeat(56)}/123456`, `/${'a'.repeat(56)}/{id}`],
  [`/${'b'.repeat(57)}/123456`, `/${'b'.repeat(57)}/`],
  [`/${'c'.repeat(70)}/123`, `/${'c'.repeat(62)}`],
];

test('http probe: routes, case by case', async (t) => {
  if (!requireKernel(t)) return;
  await withServerAndClient(async ({ a, b, dir, probe, server }) => {
    probe.collect();
    const statuses = await runClient(b, dir, server.port, ROUTES.map(([target]) => ({ method: 'GET', path: target, fresh: false })));
    assert.deepEqual(new Set(statuses), new Set([200]));
    const results = probe.collect();
    const expected: Record<string, number> = {};
    for (const [, route] of ROUTES) expected[`GET 200 P ${route}`] = (expected[`GET 200 P ${route}`] ?? 0) + 1;
    const sided = (side: string) => Object.fromEntries(Object.entries(expected).map(([k, v]) => [`${side} ${k}`, v]));
    assert.deepEqual(countsByKey(results.get(a.cgroupId), server.port), sided('server'));
    assert.deepEqual(countsByKey(results.get(b.cgroupId), server.port), sided('client'));
  });
});

test('http probe: bad input is not counted, and routes and maps stay bounded', async (t) => {
  if (!requireKernel(t)) return;
  await withServerAndClient(async ({ a, b, dir, probe, server }) => {
    const rogue = await startServer(a, dir, 'raw.mjs', ['rogue', '0']);
    probe.collect();

    // Not HTTP on an HTTP port: node answers 400 to a request it never saw start.
    assert.equal(await raw(b, 'garbage', server.port), '400');
    // A response without a request.
    assert.equal(await raw(b, 'read', rogue.port), '200');
    // A request line of 64 KiB: a request, answered (431), with its route cut. The
    // server closes with bytes unread, so the client may be reset before it reads the answer.
    const longStatus = await raw(b, 'long', server.port);
    const clientGotIt = longStatus === 'closed' ? 0 : 1;
    const afterBad = probe.collect();
    const badA = afterBad.get(a.cgroupId);
    const badB = afterBad.get(b.cgroupId);
    assert.deepEqual([badA?.serverRequests, badB?.clientRequests ?? 0], [1, clientGotIt], 'only the long request is a request');
    assert.deepEqual(
      badA?.topSeries.map((e) => e.key),
      [`server GET 431 ${server.port} /${'a'.repeat(62)}`],
      'its route cut to 63 bytes',
    );
    if (clientGotIt) assert.equal(longStatus, '431');
    // Unmatched: the 400 and the rogue response, each seen by the side that wrote it and by the side that read it.
    assert.deepEqual([badA?.unmatchedResponses, badB?.unmatchedResponses], [2, 2]);

    // 10,000 distinct paths: 64 routes, the rest (other), every request counted.
    // Letters g-z only: no digit, so no path segment folds to {id}.
    const word = (i: number): string => String.fromCharCode(103 + (i % 20)) + (i >= 20 ? word(Math.floor(i / 20)) : '');
    const statuses = await runClient(b, dir, server.port, times(10_000, (i) => ({ method: 'GET', path: `/r/x${word(i)}`, fresh: false })));
    assert.equal(statuses.length, 10_000);
    const results = probe.collect();
    for (const [pod, side, r] of [
      [a, 'server', results.get(a.cgroupId)],
      [b, 'client', results.get(b.cgroupId)],
    ] as const) {
      assert.ok(r, `${side} in ${pod.containerId.slice(0, 8)}`);
      assert.equal(r.requests, 10_000, `${side}: every request counted`);
      const routes = new Set(r.topSeries.map((e) => parseSeriesKey(e.key)!.route));
      assert.equal(routes.size, 65, `${side}: 64 routes and (other)`);
      const other = r.topSeries.find((e) => parseSeriesKey(e.key)!.route === OTHER_TOP_KEY);
      assert.equal(other?.count, 10_000 - 64, `${side}: the overflow counted under (other)`);
      assert.equal(r.topSeries.reduce((s, e) => s + e.count, 0), 10_000, `${side}: series sum to the total`);
    }
  });
});

/** A struct http_series_key and struct http_series_stats as the kernel writes them. */
function seriesEntry(cgroupId: bigint, role: 1 | 2, port: number, route: string, routeHash: bigint, count: number): [Buffer, Buffer] {
  const k = layouts.http_series_key.fields;
  const key = Buffer.alloc(layouts.http_series_key.size);
  key.writeBigUInt64LE(cgroupId, k.cgroup_id.offset);
  key.writeUInt16LE(200, k.status.offset);
  key.writeUInt16LE(port, k.port.offset);
  key.writeUInt8(role, k.role.offset);
  key.writeUInt8(1, k.method.offset); // GET
  key.writeBigUInt64LE(routeHash, k.route_hash.offset);
  const v = layouts.http_series_stats.fields;
  const value = Buffer.alloc(layouts.http_series_stats.size);
  value.writeBigUInt64LE(BigInt(count), v.count.offset);
  value.writeBigUInt64LE(BigInt(count), v.latency.offset + 8 * 20);
  value.write(route, v.route.offset, v.route.size - 1, 'latin1');
  return [key, value];
}

/** A client that peeks at each response (recv with MSG_PEEK) before it reads it, over one keep-alive connection. */
const PEEKING_CLIENT = `
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(('127.0.0.1', port))
for i in range(n):
    s.sendall(b'GET /peek/%d HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n' % i)
    s.recv(64, socket.MSG_PEEK)
    got = b''
    while not (b'\\r\\n\\r\\n' in got and got.endswith(b'ok')):
        got += s.recv(4096)
s.close()
`;

test('http probe: a response peeked at (MSG_PEEK) and then read is one response, not a second, unmatched one', async (t) => {
  if (!requireKernel(t)) return;
  await withServerAndClient(async ({ a, b, probe, server }) => {
    probe.collect();
    await b.exec(['python3', '-c', PEEKING_CLIENT, String(server.port), '5']);
    const results = probe.collect();
    assert.deepEqual(countsByKey(results.get(b.cgroupId), server.port), { 'client GET 200 P /peek/{id}': 5 });
    assert.equal(results.get(b.cgroupId)?.unmatchedResponses, 0, 'the read after the peek is not a response without a request');
    assert.equal(results.get(a.cgroupId)?.serverRequests, 5);
  });
});

test('http probe: a route whose hash names another route\'s series is counted, but not in that series', async (t) => {
  if (!requireKernel(t)) return;
  await withServerAndClient(async ({ a, b, dir, probe, server }) => {
    probe.collect();
    // A 64-bit collision cannot be found in a test's time: make one. Each
    // pod gets a series keyed by the hash of /collide that counts /elsewhere.
    for (const [pod, role] of [
      [a, 1],
      [b, 2],
    ] as const) {
      probe.putSeries(...seriesEntry(pod.cgroupId, role, server.port, '/elsewhere', httpRouteHash('/collide'), 5));
    }
    const statuses = await runClient(b, dir, server.port, [
      ...times(3, () => ({ method: 'GET', path: '/collide', fresh: false })),
      ...times(2, () => ({ method: 'GET', path: '/free', fresh: false })),
    ]);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    const results = probe.collect();
    for (const [pod, side] of [
      [a, 'server'],
      [b, 'client'],
    ] as const) {
      const r = results.get(pod.cgroupId);
      assert.equal(r?.requests, 5 + 5, `${side}: the 5 requests and the 5 planted ones`);
      assert.deepEqual(
        countsByKey(r, server.port),
        { [`${side} GET 200 P /elsewhere`]: 5, [`${side} GET 200 P /free`]: 2 },
        `${side}: /collide in no series, /elsewhere's untouched`,
      );
      assert.equal((side === 'server' ? r?.serverLatencyNs : r?.clientLatencyNs)?.count, 10, `${side}: every latency`);
    }
  });
});

/** A keep-alive client that makes `before` requests, moves itself into the cgroup2 directory `to`, then makes `after` more. */
const MOVER = `
const http = require('node:http');
const fs = require('node:fs');
const [port, to, before, after] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (p) => new Promise((resolve, reject) =>
  http.get({ host: '127.0.0.1', port: Number(port), path: p, agent }, (r) => { r.resume(); r.on('end', () => resolve(r.statusCode)); }).on('error', reject));
(async () => {
  const statuses = [];
  for (let i = 0; i < Number(before); i++) statuses.push(await get('/before'));
  fs.writeFileSync(to + '/cgroup.procs', String(process.pid));
  for (let i = 0; i < Number(after); i++) statuses.push(await get('/after'));
  agent.destroy();
  console.log(JSON.stringify(statuses));
})();
`;

for (const hooks of ['socket', 'syscall'] as const) {
test(`http probe: a process running before its pod is targeted is counted from then on; one that moves into a targeted pod ${hooks === 'socket' ? 'is not, on the socket it made outside' : 'is, from its move'} (${hooks} hooks)`, async (t) => {
  if (!requireKernel(t)) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'loupe-http-'));
  const [a, b, c] = [new LocalPod(), new LocalPod(), new LocalPod()];
  try {
    await withProbe(async (probe) => {
      // The server runs and serves while its pod is untargeted: the programs
      // have seen its reads and writes, and judged it untraced. It runs on
      // the first CPU, the moving client below on the last, so that CPU's
      // memo of the last reader or writer (syscall hooks) stays the client's across its move.
      const server = await startServer(a, dir, 'server.mjs', [], '0');
      await runClient(b, dir, server.port, times(10, () => ({ method: 'GET', path: '/early', fresh: false })));
      assert.equal(probe.collect().size, 0, 'nothing targeted, nothing counted');

      probe.target(a);
      probe.target(b);
      await runClient(b, dir, server.port, times(5, () => ({ method: 'GET', path: '/now', fresh: false })));
      // A client in untargeted pod c moves itself into targeted pod b halfway, on one keep-alive connection.
      const last = String(availableParallelism() - 1);
      const statuses = JSON.parse(await c.exec(['taskset', '-c', last, NODE, '-e', MOVER, String(server.port), b.dir, '3', '4'])) as number[];
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200]);
      const results = probe.collect();
      assert.deepEqual(countsByKey(results.get(a.cgroupId), server.port), {
        'server GET 200 P /now': 5,
        'server GET 200 P /before': 3,
        'server GET 200 P /after': 4,
      }, 'the server, running since before it was targeted, counted from then on');
      // The socket hooks count a socket only when the pod made it as well
      // (its cgroup is checked first, with loads alone); the moved client's
      // connection was made in pod c.
      assert.deepEqual(countsByKey(results.get(b.cgroupId), server.port), {
        'client GET 200 P /now': 5,
        ...(hooks === 'syscall' ? { 'client GET 200 P /after': 4 } : {}),
      }, hooks === 'syscall' ? 'the moved client counted from its move, not before' : 'the moved client not counted');
      assert.equal(results.get(c.cgroupId), undefined);
    }, true, hooks);
  } finally {
    await cleanup([a, b, c], dir);
  }
});
}
