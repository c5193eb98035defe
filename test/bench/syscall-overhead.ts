// What the syscalls probe costs on the hottest path there is: a getppid()
// loop (test/bench/getppid-loop.c), bare and under each tracer, measured in
// one run as interleaved rounds (the order rotates every round). A variant's
// added cost is the median over rounds of its time minus bare's in the same
// round, which cancels the drift of a shared machine.
//
//   npx tsx test/bench/syscall-overhead.ts [rounds] [calls per run]
//
// Rows: bare; the floor (empty programs on the same hooks); the clock floor
// (the same plus one clock read per hook: what any probe that times every
// syscall pays); the syscalls probe with the loop's cgroup targeted, and with
// the loop in an untargeted cgroup while another is targeted, each with its
// filter on cgroup storage and on the targets hash alone (kernels < 6.2, and
// the probe before cgroup storage); bpftrace doing
// the same latency histogram with a cgroup filter. Needs root, cc, bpftrace,
// `make -C bpf` and the native addon.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeObjectDirectory } from '../../engine/probe-objects.js';
import { TARGETS_MAP, type ProbeDefinition, type ProbeReader } from '../../engine/probes/probe.js';
import type { SyscallsOptions, SyscallsResult } from '../../probes/syscalls/syscalls.js';
import { syscallsProbe } from '../../probes/syscalls/kernel.js';
import { BpfObject, type BpfLink } from '../../native/index.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { fmt, median, printTable, requireFairBpfBenchmark } from './bench-support.js';

const rounds = Number(process.argv[2] ?? 15);
const calls = Number(process.argv[3] ?? 500_000);
const BPFTRACE_ATTACH_TIMEOUT_MS = 60_000;
const BPFTRACE_EXIT_TIMEOUT_MS = 5_000;

/** Stops an attached tracer. */
type Detach = () => Promise<void>;

interface Variant {
  name: string;
  pod: LocalPod;
  attach(): Promise<Detach>;
}

function preflight(): void {
  requireFairBpfBenchmark();
  if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(calls) || calls < 1000) {
    throw new Error('usage: syscall-overhead.ts [rounds >= 1] [calls per run >= 1000]');
  }
}

function buildLoop(dir: string): string {
  const source = fileURLToPath(new URL('getppid-loop.c', import.meta.url));
  const binary = path.join(dir, 'getppid-loop');
  execFileSync('cc', ['-O2', '-Wall', '-o', binary, source], { stdio: 'inherit' });
  return binary;
}

/** One run of the loop in pod: ns per call. */
function runLoop(binary: string, pod: LocalPod): Promise<number> {
  const child = spawn(binary, [pod.dir, String(calls)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const ns = Number(out.trim());
      if (code === 0 && Number.isFinite(ns)) resolve(ns);
      else reject(new Error(`getppid-loop exited with ${code}: ${out}`));
    });
  });
}

function attachNamed(obj: BpfObject, names: readonly string[]): Detach {
  const links: BpfLink[] = names.map((name) => obj.program(name).attach());
  return async () => links.forEach((link) => link.destroy());
}

const BPFTRACE_READY = 'loupe-bench: attached';

/**
 * bpftrace with the same histogram and cgroup filter. Its "Attaching N
 * probes" comes before the attach calls; BEGIN fires after them, so its line
 * says the probes are in.
 */
function attachBpftrace(pod: LocalPod): Promise<Detach> {
  const script =
    `BEGIN { printf("${BPFTRACE_READY}\\n"); } ` +
    `tracepoint:raw_syscalls:sys_enter /cgroup == cgroupid("${pod.dir}")/ { @s[tid] = nsecs } ` +
    'tracepoint:raw_syscalls:sys_exit /@s[tid]/ { @h = hist(nsecs - @s[tid]); delete(@s[tid]); }';
  const child = spawn('bpftrace', ['-B', 'line', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const detach: Detach = async () => {
    child.kill('SIGINT'); // prints its maps and exits; a SIGINT has been seen to go astray, hence the deadline
    const killer = setTimeout(() => child.kill('SIGKILL'), BPFTRACE_EXIT_TIMEOUT_MS);
    await exited;
    clearTimeout(killer);
  };
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bpftrace did not attach in ${BPFTRACE_ATTACH_TIMEOUT_MS} ms: ${output}`));
    }, BPFTRACE_ATTACH_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes(BPFTRACE_READY)) return;
      clearTimeout(timer);
      resolve(detach);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bpftrace exited with ${code} before attaching: ${output}`));
    });
  });
}

async function openLoaded(file: string, configure?: (obj: BpfObject) => void): Promise<BpfObject> {
  const obj = BpfObject.open(path.join(probeObjectDirectory(), file));
  configure?.(obj);
  await obj.loadAsync();
  return obj;
}

/** The syscalls probe loaded with the targeted pod in its targets (profile bit 0, slot 0), and its reader. */
async function loadProbe(definition: ProbeDefinition<SyscallsResult, SyscallsOptions>, targeted: LocalPod): Promise<{ obj: BpfObject; reader: ProbeReader<SyscallsResult> }> {
  const obj = await openLoaded(definition.objectFile, (o) => definition.configure?.(o));
  const key = Buffer.alloc(8);
  key.writeBigUInt64LE(targeted.cgroupId);
  const value = Buffer.alloc(16); // struct loupe_target
  value.writeBigUInt64LE(1n, 0);
  obj.map(TARGETS_MAP).update(key, value);
  definition.syncTarget?.(obj, targeted.cgroupId, value);
  return { obj, reader: definition.reader(obj, () => {}) };
}

async function main(): Promise<void> {
  preflight();
  const workDir = mkdtempSync(path.join(tmpdir(), 'loupe-bench-'));
  const targeted = new LocalPod();
  const untargeted = new LocalPod();
  // Its floors are the sys_* programs (the sock_* ones are the http bench's).
  const floor = await openLoaded('floor.bpf.o', (o) => o.programs().forEach((p) => o.setAutoload(p.name, !p.name.startsWith('loupe_floor_sock_'))));
  const probes: { obj: BpfObject; reader: ProbeReader<SyscallsResult> }[] = [];
  try {
    const binary = buildLoop(workDir);
    let probeRuns = 0;
    const probeVariants = async (filter: string, definition: ProbeDefinition<SyscallsResult, SyscallsOptions>): Promise<Variant[]> => {
      const { obj, reader } = await loadProbe(definition, targeted);
      probes.push({ obj, reader });
      return [
        {
          name: `syscalls probe, targeted (${filter})`,
          pod: targeted,
          attach: async () => {
            const detach = attachNamed(obj, ['loupe_sys_enter', 'loupe_sys_exit']);
            reader.collect();
            return async () => {
              await detach();
              // Proof that it measured: every getppid of the run (and its warm-up) is counted.
              const counted = reader.collect().get(targeted.cgroupId)?.topSyscalls.find((e) => e.key === 'getppid')?.count;
              const expected = calls + Math.floor(calls / 10);
              if (counted !== expected) throw new Error(`the probe counted ${counted} getppid calls, the loop made ${expected}`);
              probeRuns++;
            };
          },
        },
        {
          name: `syscalls probe, untargeted (${filter})`,
          pod: untargeted,
          attach: async () => {
            const detach = attachNamed(obj, ['loupe_sys_enter', 'loupe_sys_exit']);
            reader.collect();
            return async () => {
              await detach();
              const counted = reader.collect();
              if (counted.size > 0) throw new Error(`the probe counted calls of untargeted cgroups: ${[...counted.keys()]}`);
            };
          },
        },
      ];
    };
    const STORAGE = 'cgroup storage';
    const HASH = 'targets hash';

    const variants: Variant[] = [
      { name: 'bare', pod: targeted, attach: async () => async () => {} },
      {
        name: 'floor (empty programs)',
        pod: targeted,
        attach: async () => attachNamed(floor, ['loupe_floor_sys_enter', 'loupe_floor_sys_exit']),
      },
      {
        name: 'clock floor (1 clock read/hook)',
        pod: targeted,
        attach: async () => attachNamed(floor, ['loupe_floor_clock_sys_enter', 'loupe_floor_clock_sys_exit']),
      },
      ...(await probeVariants(STORAGE, syscallsProbe({ targetStorage: true }))),
      ...(await probeVariants(HASH, syscallsProbe({ targetStorage: false }))),
      { name: 'bpftrace, targeted', pod: targeted, attach: () => attachBpftrace(targeted) },
    ];

    const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    for (let r = 0; r < rounds; r++) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
      for (const v of order) {
        const detach = await v.attach();
        try {
          samples.get(v.name)!.push(await runLoop(binary, v.pod));
        } finally {
          await detach();
        }
      }
      process.stderr.write(`round ${r + 1}/${rounds} done\n`);
    }

    const ns = new Map([...samples].map(([name, xs]) => [name, median(xs)]));
    const bareSamples = samples.get('bare')!;
    const added = (name: string) => median(samples.get(name)!.map((x, r) => x - bareSamples[r]!));
    const floorAdded = added('floor (empty programs)');
    const bpftraceAdded = added('bpftrace, targeted');

    console.log(`\ngetppid() loop, ${calls} calls per run, median of ${rounds} interleaved rounds (thread CPU time)`);
    console.log(`the probe counted every getppid of its ${probeRuns} targeted runs, and nothing of its untargeted ones`);
    const header = ['variant', 'ns/call', 'added ns', 'x floor added', 'x bpftrace added', 'min..max ns/call'];
    console.log('ns/call: median; added ns: median of (variant - bare) per round\n');
    const rows = variants.map((v) => {
      const xs = samples.get(v.name)!;
      const range = `${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))}`;
      const a = added(v.name);
      return v.name === 'bare'
        ? [v.name, fmt(ns.get(v.name)), '-', '-', '-', range]
        : [v.name, fmt(ns.get(v.name)), fmt(a), fmt(a / floorAdded, 2), fmt(a / bpftraceAdded, 2), range];
    });
    printTable(header, rows);

    const goal = (what: string, ratio: number, limit: number, limitText: string) =>
      console.log(`${ratio <= limit ? 'MET   ' : 'MISSED'} ${what}: ${fmt(ratio, 2)} (goal <= ${limitText})`);
    console.log('');
    for (const filter of [STORAGE, HASH]) {
      goal(`targeted (${filter}), x floor added`, added(`syscalls probe, targeted (${filter})`) / floorAdded, 2, '2');
      goal(`untargeted (${filter}), x floor added`, added(`syscalls probe, untargeted (${filter})`) / floorAdded, 1.25, '1.25');
      goal(`targeted (${filter}), x bpftrace added`, added(`syscalls probe, targeted (${filter})`) / bpftraceAdded, 1 / 3, '0.33');
    }
    console.log(
      `two clock reads alone: ${fmt(added('clock floor (1 clock read/hook)') / floorAdded, 2)} x floor added ` +
        '(no probe that times every syscall can go below this)',
    );
  } finally {
    for (const { obj, reader } of probes) {
      reader.close();
      obj.close();
    }
    floor.close();
    untargeted.remove();
    targeted.remove();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
