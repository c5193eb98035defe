// What the http probe costs: a keep-alive HTTP/1.1 load over loopback between
// two pods (test/bench/http-load.c, a C server and client), bare and under
// each variant, in one run of interleaved rounds (the order rotates every
// round). Per round it takes requests/s from the client's wall time and the
// CPU per round trip of both processes together; a variant's added CPU and
// its throughput loss are medians over rounds of the difference to bare in
// the same round, which cancels the drift of a shared machine. With both pods
// traced, a round trip is two traced requests: the goal is per traced request.
// The probe runs on the hooks this kernel offers (the socket tracepoints from
// 6.3 on); where those are the socket tracepoints, the syscall hooks that
// older kernels fall back to are measured beside them, in the same rounds.
// Then bare and traced again with a server that spends about WORK_US µs of
// CPU per request before it answers: the same tracing cost against a server
// that does some work. A third table measures the read/write syscalls of an
// untargeted pod (a socket pair): what the probe's hooks cost pods it does
// not trace, against the floor of empty programs on the same hooks (the
// syscall hooks' fork and cgroup-move programs do not fire in the loop). Its
// differences are a few ns on a syscall of hundreds, so it takes RW_REPS
// interleaved triples (bare, floor, untargeted, the order rotating) per
// round, each against the bare run of its own triple, and prints the spread
// beside the median; the BPF statistics of the same loop give the programs'
// own time per syscall, which CPU time cannot resolve.
//
//   npm run bench:http -- [rounds] [requests per run] [connections]
//
// Needs root, cc, taskset, `make -C bpf` and the native addon.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeObjectDirectory } from '../../engine/probe-objects.js';
import { TARGETS_MAP } from '../../engine/probes/probe.js';
import { descriptorOf } from '../../probes/registry.js';
import { configureHttpHooks, kernelHttpHooks, type HttpHooks } from '../../probes/http/kernel.js';
import { configureTargetStorage } from '../../engine/probes/target-storage.js';
import type { HttpResult } from '../../probes/http/http-result.js';
import { BpfObject, enableStats, type BpfLink } from '../../native/index.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { fmt, median, printTable, requireFairBpfBenchmark } from './bench-support.js';

const rounds = Number(process.argv[2] ?? 9);
const requests = Number(process.argv[3] ?? 100_000);
const connections = Number(process.argv[4] ?? 1);
/** write()+read() pairs per run of the untargeted read/write loop, and runs of each variant per round. */
const rwCalls = 200_000;
const RW_REPS = 4;
const PORT = 18_480;
/** CPU a working server spends per request (http-load's work loop, no syscalls). */
const WORK_US = 50;
/**
 * Server and client share one CPU: each request is then two context switches
 * on that CPU instead of cross-CPU wake-ups whose cost swings with whatever
 * else the machine runs, and requests/s is the inverse of CPU per request.
 */
const CPU = String(availableParallelism() - 1);

const http = descriptorOf('http');

type Detach = () => void;

interface Variant {
  name: string;
  /** The two pods the load runs in. */
  server: LocalPod;
  client: LocalPod;
  /** Rounds of the server's work loop per request; none when absent. */
  workRounds?: number;
  attach(): Detach;
}

interface LoadSample {
  rps: number;
  /** Both processes' CPU per round trip (one request and its response). */
  cpuNsPerRoundTrip: number;
}

/**
 * A traced request: one request as one traced pod counts it, the server's
 * (read the request, write the response) or the client's (write the
 * request, read the response). With both pods traced, each round trip is two.
 */
const TRACED_REQUESTS_PER_ROUND_TRIP = 2;

/**
 * Empty programs on the hooks the probe attaches that the measured loops
 * reach: the socket tracepoints, or sys_exit where the kernel lacks them
 * (the syscall hooks' other two, a fork and a cgroup move, invalidate the
 * sys_exit program's memo; no run forks or moves while it is measured).
 */
const FLOOR_PROGRAMS: Record<HttpHooks, string[]> = {
  socket: ['loupe_floor_sock_recv', 'loupe_floor_sock_send'],
  syscall: ['loupe_floor_sys_exit'],
};
const hooks = kernelHttpHooks();
/**
 * Where the kernel has the socket tracepoints, the syscall hooks (what
 * kernels before 6.3 get) are measured beside them, in the same rounds.
 */
const fallback: HttpHooks | undefined = hooks === 'socket' ? 'syscall' : undefined;
const hookSets: HttpHooks[] = fallback === undefined ? [hooks] : [hooks, fallback];

function preflight(): void {
  requireFairBpfBenchmark();
  if (![rounds, requests, connections].every(Number.isInteger) || rounds < 1 || requests < 1000 || connections < 1 || connections > 256) {
    throw new Error('usage: http-overhead.ts [rounds >= 1] [requests per run >= 1000] [connections 1..256]');
  }
}

/** Builds test/bench/<name>.c into dir. */
function build(dir: string, name: string): string {
  const binary = path.join(dir, name);
  execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', binary, fileURLToPath(new URL(`${name}.c`, import.meta.url))], { stdio: 'inherit' });
  return binary;
}

async function output(child: ReturnType<typeof spawn>, what: string): Promise<string> {
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  // 'close', not 'exit': stdout may still hold the last line when the process exits.
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${what} exited with ${code}: ${out}`);
  return out;
}

/** One run of the load: the server in its pod, then the client in its own. */
async function runLoad(binary: string, v: Variant): Promise<LoadSample> {
  const perConnection = Math.ceil(requests / connections);
  const total = perConnection * connections;
  const work = v.workRounds === undefined ? [] : [String(v.workRounds)];
  const server = spawn('taskset', ['-c', CPU, binary, 'server', v.server.dir, String(PORT), String(total), ...work], { stdio: ['ignore', 'pipe', 'inherit'] });
  const serverOut = output(server, 'http-load server');
  await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));
  const client = spawn('taskset', ['-c', CPU, binary, 'client', v.client.dir, String(PORT), String(connections), String(perConnection)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const clientText = await output(client, 'http-load client');
  const [wallNs, clientCpuNs] = clientText.trim().split(' ').map(Number) as [number, number];
  const serverText = await serverOut;
  const serverCpuNs = Number(serverText.trim().split('\n').at(-1));
  if (![wallNs, clientCpuNs, serverCpuNs].every(Number.isFinite)) throw new Error(`http-load printed no numbers: client ${JSON.stringify(clientText)}, server ${JSON.stringify(serverText)}`);
  return { rps: total / (wallNs / 1e9), cpuNsPerRoundTrip: (clientCpuNs + serverCpuNs) / total };
}

/** getppid() calls in an untargeted pod: thread CPU ns per call. */
async function runGetppid(binary: string, pod: LocalPod): Promise<number> {
  return Number((await output(spawn('taskset', ['-c', CPU, binary, pod.dir, String(rwCalls)], { stdio: ['ignore', 'pipe', 'inherit'] }), 'getppid-loop')).trim());
}

async function runReadWrite(binary: string, pod: LocalPod): Promise<number> {
  return Number((await output(spawn('taskset', ['-c', CPU, binary, 'rw', pod.dir, String(rwCalls)], { stdio: ['ignore', 'pipe', 'inherit'] }), 'http-load rw')).trim());
}

async function openLoaded(file: string, configure?: (obj: BpfObject) => void): Promise<BpfObject> {
  const obj = BpfObject.open(path.join(probeObjectDirectory(), file));
  configure?.(obj);
  await obj.loadAsync();
  return obj;
}

function target(obj: BpfObject, pod: LocalPod, slot: number): void {
  const key = Buffer.alloc(8);
  key.writeBigUInt64LE(pod.cgroupId);
  const value = Buffer.alloc(16); // struct loupe_target: profile bit 0, the slot
  value.writeBigUInt64LE(1n, 0);
  value.writeUInt32LE(slot, 8);
  obj.map(TARGETS_MAP).update(key, value);
  http.kernel.syncTarget?.(obj, pod.cgroupId, value);
}

function attachAll(attach: () => BpfLink[]): () => Detach {
  return () => {
    const links = attach();
    return () => links.forEach((link) => link.destroy());
  };
}

/**
 * The run time of obj's loaded programs (the floor object's: only FLOOR_PROGRAMS)
 * over one run under variant v, by BPF statistics (which add a clock read
 * around every program run, for the floor as for the probe).
 */
async function programRunNs(v: Variant, obj: BpfObject, run: () => Promise<unknown>): Promise<number> {
  const detach = v.attach();
  const stats = enableStats();
  try {
    const programs = obj.loadedPrograms();
    const before = programs.map((p) => p.stats().runTimeNs);
    await run();
    return programs.reduce((sum, p, i) => sum + Number(p.stats().runTimeNs - before[i]!), 0);
  } finally {
    stats.close();
    detach();
  }
}

/** One run of each variant, attached in turn, the order rotated by turn: each variant's result. */
async function interleaved<V extends { name: string; attach(): Detach }, T>(vs: V[], turn: number, run: (v: V) => Promise<T>): Promise<Map<string, T>> {
  const results = new Map<string, T>();
  for (const v of vs.map((_, i) => vs[(i + turn) % vs.length]!)) {
    const detach = v.attach();
    try {
      results.set(v.name, await run(v));
    } finally {
      detach();
    }
  }
  return results;
}

async function main(): Promise<void> {
  preflight();
  const workDir = mkdtempSync(path.join(tmpdir(), 'loupe-bench-http-'));
  const pods = { server: new LocalPod(), client: new LocalPod(), traced: new LocalPod(), quiet: new LocalPod(), untracedServer: new LocalPod(), untracedClient: new LocalPod() };
  // Only the floors of the hooks measured: others' tracepoints may not exist here.
  const floor = await openLoaded('floor.bpf.o', (o) => o.programs().forEach((p) => o.setAutoload(p.name, hookSets.some((h) => FLOOR_PROGRAMS[h].includes(p.name)))));
  // Loaded copies of the probe: one with the load's pods targeted, one
  // tracing only an idle pod, so the load's pods are untargeted there; and
  // the same two on the fallback hooks.
  const openProbe = (h: HttpHooks) =>
    openLoaded(http.kernel.objectFile, (o) => {
      configureTargetStorage(o, {});
      configureHttpHooks(o, h);
    });
  const tracing = await openProbe(hooks);
  const tracingByFallback = fallback === undefined ? undefined : await openProbe(fallback);
  const bystander = await openProbe(hooks);
  const bystanderByFallback = fallback === undefined ? undefined : await openProbe(fallback);
  for (const obj of [tracing, tracingByFallback]) {
    if (obj === undefined) continue;
    target(obj, pods.server, 0);
    target(obj, pods.client, 1);
  }
  for (const obj of [bystander, bystanderByFallback]) if (obj !== undefined) target(obj, pods.quiet, 0);
  const readers = new Map([tracing, tracingByFallback, bystander, bystanderByFallback].filter((o) => o !== undefined).map((obj) => [obj, http.kernel.reader(obj, () => {})]));
  try {
    const binary = build(workDir, 'http-load');
    const getppidLoop = build(workDir, 'getppid-loop');
    const attachFloor = (h: HttpHooks) => attachAll(() => FLOOR_PROGRAMS[h].map((n) => floor.program(n).attach()));
    const untraced = { server: pods.untracedServer, client: pods.untracedClient };
    // Calibrated once, so every working server of the run does the same work.
    const workRounds = Number(execFileSync('taskset', ['-c', CPU, binary, 'rounds', String(WORK_US)], { encoding: 'utf8' }).trim());
    let tracedRuns = 0;
    /** Attaches obj for one run; after it, check gets what the run counted. */
    const attachProbe = (obj: BpfObject, check: (counted: Map<bigint, HttpResult>) => void) => (): Detach => {
      const reader = readers.get(obj)!;
      const detach = attachAll(() => http.kernel.attach(obj))();
      reader.collect();
      return () => {
        detach();
        check(reader.collect());
      };
    };
    // Proof that it measured: every request of the run, on both sides.
    const attachTraced = (obj: BpfObject) =>
      attachProbe(obj, (counted) => {
        const expected = Math.ceil(requests / connections) * connections;
        const server = counted.get(pods.server.cgroupId)?.serverRequests;
        const client = counted.get(pods.client.cgroupId)?.clientRequests;
        if (server !== expected || client !== expected) {
          throw new Error(`the probe counted ${server} server and ${client} client requests, the load made ${expected}`);
        }
        tracedRuns++;
      });
    const attachUntargeted = (obj: BpfObject) =>
      attachProbe(obj, (counted) => {
        if (counted.size > 0) throw new Error(`the probe counted requests of untargeted pods: ${[...counted.keys()]}`);
      });
    const both = { server: pods.server, client: pods.client };
    const traced = 'http probe, both pods traced';
    const onFallback = `on the ${fallback} hooks (kernels before 6.3)`;
    const variants: Variant[] = [
      { name: 'bare', ...untraced, attach: () => () => {} },
      { name: 'floor (empty programs, same hooks)', ...untraced, attach: attachFloor(hooks) },
      { name: traced, ...both, attach: attachTraced(tracing) },
      { name: 'http probe, pods untargeted', ...untraced, attach: attachUntargeted(bystander) },
      ...(tracingByFallback === undefined
        ? []
        : [
            { name: `floor ${onFallback}`, ...untraced, attach: attachFloor(fallback!) },
            { name: `http probe ${onFallback}, both pods traced`, ...both, attach: attachTraced(tracingByFallback) },
          ]),
      { name: `bare, server working ${WORK_US} µs/request`, ...untraced, workRounds, attach: () => () => {} },
      { name: `${traced}, server working ${WORK_US} µs/request`, ...both, workRounds, attach: attachTraced(tracing) },
      ...(tracingByFallback === undefined
        ? []
        : [{ name: `http probe ${onFallback}, both pods traced, server working ${WORK_US} µs/request`, ...both, workRounds, attach: attachTraced(tracingByFallback) }]),
    ];

    const load = new Map<string, LoadSample[]>(variants.map((v) => [v.name, []]));
    // bare, floor and untargeted: the read/write loop in an untargeted pod.
    const rwVariants = variants.slice(0, 4).filter((v) => v.server === pods.untracedServer);
    const rwSamples: Map<string, number>[] = [];
    // getppid(), a syscall that is no socket I/O, in an untargeted pod: what
    // each hook set costs the rest of the node's syscalls.
    const otherVariants: { name: string; attach: () => Detach }[] = [
      { name: 'bare', attach: () => () => {} },
      { name: 'http probe, pods untargeted', attach: attachUntargeted(bystander) },
      ...(bystanderByFallback === undefined ? [] : [{ name: `http probe ${onFallback}, pods untargeted`, attach: attachUntargeted(bystanderByFallback) }]),
    ];
    const otherSamples: Map<string, number>[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const [name, sample] of await interleaved(variants, r, (v) => runLoad(binary, v))) load.get(name)!.push(sample);
      for (let rep = 0; rep < RW_REPS; rep++) {
        const turn = r * RW_REPS + rep;
        rwSamples.push(await interleaved(rwVariants, turn, (v) => runReadWrite(binary, v.server)));
        otherSamples.push(await interleaved(otherVariants, turn, () => runGetppid(getppidLoop, pods.untracedServer)));
      }
      process.stderr.write(`round ${r + 1}/${rounds} done\n`);
    }

    // Each variant against the bare run of its own round with the same server.
    const working = variants.find((v) => v.workRounds !== undefined)!.name;
    const baseOf = (name: string) => (variants.find((v) => v.name === name)!.workRounds === undefined ? 'bare' : working);
    const versus = (name: string, diff: (s: LoadSample, base: LoadSample) => number) =>
      median(load.get(name)!.map((s, r) => diff(s, load.get(baseOf(name))![r]!)));
    const addedCpu = (name: string) => versus(name, (s, base) => s.cpuNsPerRoundTrip - base.cpuNsPerRoundTrip);
    const loss = (name: string) => versus(name, (s, base) => 1 - s.rps / base.rps);
    const tracesBoth = (name: string) => variants.find((v) => v.name === name)!.server === pods.server;
    const loadTable = (vs: Variant[]) =>
      printTable(
        ['variant', 'round trips/s', 'CPU µs/round trip', 'added CPU µs/round trip', 'added CPU µs/traced request', 'throughput loss'],
        vs.map((v) => {
          const xs = load.get(v.name)!;
          const cells = [v.name, fmt(median(xs.map((s) => s.rps)), 0), fmt(median(xs.map((s) => s.cpuNsPerRoundTrip)) / 1000, 2)];
          if (baseOf(v.name) === v.name) return [...cells, '-', '-', '-'];
          const perRequest = tracesBoth(v.name) ? fmt(addedCpu(v.name) / TRACED_REQUESTS_PER_ROUND_TRIP / 1000, 2) : '-';
          return [...cells, fmt(addedCpu(v.name) / 1000, 2), perRequest, `${fmt(100 * loss(v.name), 1)}%`];
        }),
      );

    console.log(`\nkeep-alive HTTP/1.1 over loopback, ${connections} connections, ${requests} round trips per run, median of ${rounds} interleaved rounds`);
    console.log('a round trip is one request and its response; with both pods traced it is 2 traced requests (the server counts one, the client one)');
    console.log(`the probe counted every request of its ${tracedRuns} traced runs, and nothing in the untargeted pods\n`);
    loadTable(variants.filter((v) => v.workRounds === undefined));
    console.log(`\nthe same load, the server spending about ${WORK_US} µs of CPU per request (a loop, no syscalls) before it answers\n`);
    loadTable(variants.filter((v) => v.workRounds !== undefined));

    const [rwBareName, rwFloorName, rwUntargetedName] = rwVariants.map((v) => v.name) as [string, string, string];
    /** Per triple: the variant's ns/syscall over the bare run of the same triple. */
    const rwAddedSamples = (name: string) => rwSamples.map((x) => x.get(name)! - x.get(rwBareName)!);
    const rwAdded = (name: string) => median(rwAddedSamples(name));
    const rwFloor = rwAdded(rwFloorName);
    const spread = (xs: number[], digits = 1) => `${fmt(Math.min(...xs), digits)}..${fmt(Math.max(...xs), digits)}`;
    const quartiles = (xs: number[], digits = 1) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
      return `${fmt(at(0.25), digits)}..${fmt(at(0.75), digits)}`;
    };
    console.log(
      `\nread()/write() of 64 bytes over a socket pair in an untargeted pod, ${rwCalls} pairs per run, ${rwSamples.length} interleaved triples (bare, floor, untargeted; ${RW_REPS} per round), thread CPU time\n`,
    );
    printTable(
      ['variant', 'ns/syscall', 'added ns (median)', 'added ns, quartiles', 'added ns, min..max', 'x floor added'],
      rwVariants.map((v) => {
        const cells = [v.name, fmt(median(rwSamples.map((x) => x.get(v.name)!)))];
        if (v.name === rwBareName) return [...cells, '-', '-', '-', '-'];
        const added = rwAddedSamples(v.name);
        return [...cells, fmt(rwAdded(v.name)), quartiles(added), spread(added), fmt(rwAdded(v.name) / rwFloor, 2)];
      }),
    );
    // Per triple, the ratio to its own floor: how far one triple alone can be trusted.
    const ratios = rwSamples.map((x) => (x.get(rwUntargetedName)! - x.get(rwBareName)!) / (x.get(rwFloorName)! - x.get(rwBareName)!));
    console.log(`untargeted added / floor added, triple by triple: median ${fmt(median(ratios), 2)}, quartiles ${quartiles(ratios, 2)}, min..max ${spread(ratios, 2)}`);

    console.log(`\ngetppid() in an untargeted pod, ${rwCalls} calls per run, ${otherSamples.length} interleaved runs of each (${RW_REPS} per round), thread CPU time: what the hooks cost syscalls that are no socket I/O\n`);
    printTable(
      ['variant', 'ns/call', 'added ns (median)', 'added ns, quartiles'],
      otherVariants.map((v) => {
        const cells = [v.name, fmt(median(otherSamples.map((x) => x.get(v.name)!)))];
        if (v.name === 'bare') return [...cells, '-', '-'];
        const added = otherSamples.map((x) => x.get(v.name)! - x.get('bare')!);
        return [...cells, fmt(median(added)), quartiles(added)];
      }),
    );

    // The same loop's programs' own run time per syscall (BPF statistics), a
    // few runs each, interleaved: what the untargeted program does beyond
    // the empty one, without the dispatch both pay.
    const rwStats = new Map<string, number[]>([
      [rwFloorName, []],
      [rwUntargetedName, []],
    ]);
    for (let i = 0; i < 3; i++) {
      for (const [v, obj] of [[rwVariants[1]!, floor], [rwVariants[2]!, bystander]] as const) {
        rwStats.get(v.name)!.push((await programRunNs(v, obj, () => runReadWrite(binary, v.server))) / (2 * rwCalls));
      }
    }
    const rwStatsFloor = median(rwStats.get(rwFloorName)!);
    console.log(`\nthe same loop, the programs' own run time per syscall (BPF_ENABLE_STATS), 3 interleaved runs each\n`);
    printTable(
      ['variant', 'program ns/syscall (median)', 'min..max', 'over the empty program'],
      [...rwStats].map(([name, xs]) => [name, fmt(median(xs)), spread(xs), name === rwFloorName ? '-' : fmt(median(xs) - rwStatsFloor)]),
    );

    // The programs' own run time per request: exact where CPU time is noisy.
    // Stats add a clock read around every run, for the floor as for the probe,
    // so the difference to the floor is the probe's own work.
    // Each row against the floor of its own hooks.
    const statsRows: { name: string; nsPerRoundTrip: number; floorNs: number; tracesBoth: boolean }[] = [];
    const statsRuns: [string, BpfObject, string][] = [
      [variants[1]!.name, floor, variants[1]!.name],
      [traced, tracing, variants[1]!.name],
      [variants[3]!.name, bystander, variants[1]!.name],
      ...(tracingByFallback === undefined
        ? []
        : ([
            [`floor ${onFallback}`, floor, `floor ${onFallback}`],
            [`http probe ${onFallback}, both pods traced`, tracingByFallback, `floor ${onFallback}`],
          ] as [string, BpfObject, string][])),
    ];
    for (const [name, obj, floorName] of statsRuns) {
      const v = variants.find((x) => x.name === name)!;
      const ns = (await programRunNs(v, obj, () => runLoad(binary, v))) / (Math.ceil(requests / connections) * connections);
      statsRows.push({ name, nsPerRoundTrip: ns, floorNs: statsRows.find((r) => r.name === floorName)?.nsPerRoundTrip ?? ns, tracesBoth: tracesBoth(name) });
    }
    console.log(`\nthe programs' own run time (BPF_ENABLE_STATS), one run each: ns per round trip (a traced round trip is 2 requests, the server's and the client's), over the floor of the same hooks\n`);
    printTable(
      ['variant', 'ns/round trip', 'over floor', 'over floor per traced request'],
      statsRows.map((r) => [r.name, fmt(r.nsPerRoundTrip, 0), fmt(r.nsPerRoundTrip - r.floorNs, 0), r.tracesBoth ? fmt((r.nsPerRoundTrip - r.floorNs) / TRACED_REQUESTS_PER_ROUND_TRIP, 0) : '-']),
    );

    const goal = (what: string, value: number, met: boolean, limit: string) => console.log(`${met ? 'MET   ' : 'MISSED'} ${what}: ${value} (goal ${limit})`);
    console.log('');
    const cpuPerRequest = addedCpu(traced) / TRACED_REQUESTS_PER_ROUND_TRIP;
    goal('added CPU per traced request (round trip / 2), µs', Number(fmt(cpuPerRequest / 1000, 2)), cpuPerRequest <= 1500, '<= 1.5');
    const perRequest = (statsRows[1]!.nsPerRoundTrip - statsRows[1]!.floorNs) / TRACED_REQUESTS_PER_ROUND_TRIP;
    goal('programs\' run time over the floor per traced request, µs', Number(fmt(perRequest / 1000, 2)), perRequest <= 1500, '<= 1.5');
    goal('throughput loss, traced, %', Number(fmt(100 * loss(traced), 1)), loss(traced) < 0.03, '< 3');
    const tracedWorking = `${traced}, server working ${WORK_US} µs/request`;
    goal(`throughput loss, traced, server working ${WORK_US} µs/request, %`, Number(fmt(100 * loss(tracedWorking), 1)), loss(tracedWorking) < 0.03, '< 3');
    const untargeted = rwAdded(rwUntargetedName) / rwFloor;
    goal('untargeted read/write, x floor added', Number(fmt(untargeted, 2)), untargeted <= 1.25, '<= 1.25');
    // The same ratio with the programs' difference taken from BPF statistics
    // (exact) instead of CPU time (a few ns in a noisy ~100): not the goal's
    // measure, a check on it.
    const byStats = (rwFloor + median(rwStats.get(rwUntargetedName)!) - rwStatsFloor) / rwFloor;
    console.log(`       untargeted read/write, x floor added, the programs' difference by BPF statistics: ${fmt(byStats, 2)}`);
  } finally {
    for (const reader of readers.values()) reader.close();
    for (const obj of [tracing, tracingByFallback, bystander, bystanderByFallback, floor]) obj?.close();
    for (const pod of Object.values(pods)) pod.remove();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
