// `npm run bench:profile`: what the profile probe costs a CPU-bound workload
// and the process that runs it, at 19 Hz and 99 Hz, against the same work
// untraced, measured in one run as interleaved rounds (the order rotates
// every round, so a shared machine's drift falls on every mode alike).
//
//   npm run bench:profile -- [rounds] [seconds of work per run]     (root; default 5 and 12)
//
// The workload (test/bench/spin-work.c) does a fixed amount of work in one
// function, calibrated to about the given seconds untraced, in a
// kubelet-shaped pod. The tracer is `loupe trace --probes profile
// --profile-frequency HZ --interval 1s --cgroup <pod>`, a real process with
// the engine the agent runs: sampling in the kernel, then every second
// reading the stacks, symbolizing them (ELF symbols of every new module) and
// folding them. Its CPU (utime + stime of /proc/<pid>/stat) is counted from
// 2.5 s after the line that says it is attached (Node's start-up and the
// first symbolization of the workload's binary, which the agent does once
// per process, are not in it) to the end of the workload's run; the agent
// reports every 10 s, so collecting every second is the costlier case.
//
// Rows per mode: the workload's time (median), its slowdown against the
// untraced run of the same round (median over rounds); the tracer process's
// CPU and its probe programs' CPU in the kernel (BPF run-time statistics, as
// `loupe trace` measures its cost), both in % of one CPU while the workload
// ran, and their sum, the tracing's added CPU; the samples counted per run.
// The programs' CPU is spent on the workload's CPU, inside its time: on a
// VM whose speed drifts by more than that between runs, it is the precise
// part of the slowdown.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { TraceDocumentSchema } from '../../api/trace-document.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { startTrace } from '../support/trace-process.js';
import { fmt, median, printTable } from './bench-support.js';

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 12);
/** No tracer; a tracer with a probe that sees nothing of this workload (oomkill), for the tracer process's own presence; profile at 19 and 99 Hz. */
const MODES = [undefined, 'idle', 19, 99] as const;
type Mode = (typeof MODES)[number];
const CLOCK_TICKS_PER_SECOND = 100;
const WARM_UP_MS = 2500;

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

function buildWorkload(dir: string): string {
  const binary = path.join(dir, 'spin-work');
  execFileSync('cc', ['-O1', '-fno-omit-frame-pointer', '-o', binary, fileURLToPath(new URL('spin-work.c', import.meta.url))], { stdio: 'inherit' });
  return binary;
}

/** One run of `units` of work in the pod: its wall time in seconds. */
async function work(pod: LocalPod, binary: string, units: number): Promise<number> {
  return Number((await pod.exec([binary, String(units)])).trim()) / 1e9;
}

interface Run {
  seconds: number;
  tracerCpuPercent?: number;
  /** The probe programs' CPU in the kernel (BPF run-time statistics), % of one CPU: time the workload's CPU spent sampling it. */
  programCpuPercent?: number;
  samples?: number;
}

async function runMode(mode: Mode, pod: LocalPod, binary: string, units: number): Promise<Run> {
  if (mode === undefined) return { seconds: await work(pod, binary, units) };
  const probes = mode === 'idle' ? ['--probes', 'oomkill'] : ['--probes', 'profile', '--profile-frequency', String(mode)];
  const trace = await startTrace(['--cgroup', pod.dir, ...probes, '--interval', '1s', '--output', 'json']);
  const running = work(pod, binary, units);
  // From the second interval on: the first one loads the workload's symbols, once per process as in the agent.
  await sleep(WARM_UP_MS);
  const cpuBefore = cpuSeconds(trace.pid);
  const startedAt = performance.now();
  const elapsed = await running;
  const tracerCpu = cpuSeconds(trace.pid) - cpuBefore;
  const wallSeconds = (performance.now() - startedAt) / 1000;
  trace.signal('SIGINT');
  const ended = await trace.exited;
  if (ended.status !== 0) throw new Error(`loupe trace exited with ${ended.status}: ${ended.stderr}`);
  const doc = TraceDocumentSchema.parse(JSON.parse(ended.stdout));
  return {
    seconds: elapsed,
    tracerCpuPercent: (100 * tracerCpu) / wallSeconds,
    ...(doc.cost !== undefined && doc.cost.unmeasured === undefined && { programCpuPercent: 100 * doc.cost.cpuCores }),
    ...(doc.totals.profile !== undefined && { samples: doc.totals.profile.samples }),
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark loads BPF programs: run it as root');
  if (!Number.isInteger(rounds) || rounds < 1 || !(seconds >= 5)) throw new Error('usage: profile-overhead.ts [rounds >= 1] [seconds >= 5]');
  const dir = mkdtempSync(path.join(tmpdir(), 'loupe-bench-profile-'));
  const pod = new LocalPod();
  try {
    const binary = buildWorkload(dir);
    // Calibrate: units of work that take about `seconds` untraced.
    const probe = await work(pod, binary, 100);
    const units = Math.max(100, Math.round((100 * seconds) / probe));
    console.log(`workload: ${units} units (~${seconds} s untraced) per run, ${rounds} rounds, ${MODES.length} modes interleaved`);
    const runs = new Map<Mode, Run[]>(MODES.map((m) => [m, []]));
    const slowdowns = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
    for (let r = 0; r < rounds; r++) {
      const order = MODES.map((_, i) => MODES[(i + r) % MODES.length]!);
      const round = new Map<Mode, Run>();
      for (const mode of order) round.set(mode, await runMode(mode, pod, binary, units));
      const bare = round.get(undefined)!.seconds;
      process.stderr.write(`round ${r + 1}: ${order.map((m) => `${m ?? 'untraced'} ${round.get(m)!.seconds.toFixed(3)} s`).join(', ')}\n`);
      for (const [mode, run] of round) {
        runs.get(mode)!.push(run);
        slowdowns.get(mode)!.push((100 * (run.seconds - bare)) / bare);
      }
    }
    const medianOf = (mode: Mode, pick: (r: Run) => number | undefined) => {
      const values = runs.get(mode)!.flatMap((r) => (pick(r) === undefined ? [] : [pick(r)!]));
      return values.length === 0 ? undefined : median(values);
    };
    printTable(
      ['mode', 'workload s', 'slowdown %', 'tracer process CPU %', 'probe programs CPU %', 'added CPU %', 'samples'],
      MODES.map((mode) => {
        const tracer = medianOf(mode, (r) => r.tracerCpuPercent);
        const programs = medianOf(mode, (r) => r.programCpuPercent);
        return [
          mode === undefined ? 'untraced' : mode === 'idle' ? 'tracer, oomkill only' : `profile ${mode} Hz`,
          fmt(medianOf(mode, (r) => r.seconds), 3),
          mode === undefined ? '-' : fmt(median(slowdowns.get(mode)!), 2),
          fmt(tracer, 2),
          fmt(programs, 3),
          tracer === undefined ? '-' : fmt(tracer + (programs ?? 0), 2),
          fmt(medianOf(mode, (r) => r.samples), 0),
        ];
      }),
    );
    console.log('medians over rounds; CPU in % of one CPU while the workload ran; slowdown: against the untraced run of the same round');
  } finally {
    await pod.killAll().catch(() => {});
    pod.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
