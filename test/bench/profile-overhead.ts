// `npm run bench:profile`: what the profile probe costs a CPU-bound workload
// and the node agent that runs it, at 19 Hz and 99 Hz, against the same work
// untraced, measured in one run as interleaved rounds (the order rotates
// every round, so a shared machine's drift falls on every mode alike).
//
//   npm run bench:profile -- [rounds] [seconds of work per run]     (root; default 5 and 12)
//
// The agent is the real one, run as users run it: a real kube-apiserver and
// etcd with Loupe's CRDs, one `loupe agent` process for this machine's node,
// and its work given through the node's NodeTracePlan, written here in the
// operator's place with what the operator would write for a one-node cluster
// (the TraceProfile defaults: 10 s interval, top 10; the report interval a
// one-node cluster gets). The workload (test/bench/spin-work.c) does a fixed
// amount of work in one function, calibrated to about the given seconds
// untraced, in a kubelet-shaped pod that the plan's target resolves to.
//
// Modes: untraced (the plan has no profile; the agent idles), the agent with
// a profile whose only probe sees nothing of this workload (oomkill: the
// agent's own presence), and `profile` at 19 and 99 Hz (the probe's
// `frequency`). One agent serves every run: a mode is switched by rewriting
// the plan's spec and waiting until the agent reports the profile's probes
// attached (or none) in the plan status, as a user's change reaches a node.
// Each traced run is a new profile, so its probe is loaded afresh with an
// empty symbol cache: a short run of the same binary right after the switch
// gives the agent's first collection stacks to symbolize, so the workload's
// binary, its libraries and the kernel's symbols are read before the
// measurement, as on a node the agent has been profiling for a while.
//
// Measured over the workload's run, from the agent's first regular report
// after the switch (the switch is reported from a step of its own, which
// restarts the profile's interval; from then on the agent collects,
// symbolizes, summarizes and writes its status every 10 s, as on a node):
// the agent process's CPU (utime + stime of /proc/<pid>/stat, all its
// threads), and its probe programs' CPU in the kernel (BPF run-time
// statistics, which the agent turns on to report each profile's cost:
// run_time_ns of the programs it holds, read before and after); their sum is
// the added CPU. A run of about 12 s holds one of the agent's ticks or two,
// so round r of R starts its run r/R of a tick later than the first: the CPU
// columns are a mode's CPU over all its runs divided by their time, in % of
// one CPU, not a median (which would pick runs of one kind). The workload's
// time and slowdown are medians, the slowdown against the untraced run of
// the same round. Samples: the profile's samples in the plan status over the
// measured run (after it the profile is made inactive, which makes the agent
// collect its last samples and report them). The programs' CPU is spent on
// the workload's CPU, inside its time: on a VM whose speed drifts by more
// than that between runs, it is the precise part of the slowdown.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { nodeTracePlanResource, parseNodeTracePlan, type NodeProfilePlan, type NodeProfileStatus, type NodeTracePlanStatus } from '../../api/nodetraceplan.js';
import type { ProbeSpec } from '../../api/probes.js';
import { DEFAULT_INTERVAL, DEFAULT_TOP_N } from '../../api/traceprofile.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { freeLoopbackPorts } from '../../hack/local-cluster/loopback-ports.js';
import type { KubeObject } from '../../kube/kube-object.js';
import type { ResourceClient } from '../../kube/resource-client.js';
import { profileIntervalMs } from '../../agent/plan-interval.js';
import { agentReportIntervalMs } from '../../operator/write-budget.js';
import { bpfHandlesOf, kernelPrograms } from '../support/bpf-handles.js';
import { startLoupeControlPlane, type LoupeControlPlane } from '../support/loupe-control-plane.js';
import { LoupeProcess } from '../support/loupe-process.js';
import { waitFor } from '../support/wait-for.js';
import { cpuSeconds, fmt, median, printTable } from './bench-support.js';

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 12);
/** No profile; a profile with a probe that sees nothing of this workload (oomkill), for the agent's own presence; profile at 19 and 99 Hz. */
const MODES = [undefined, 'idle', 19, 99] as const;
type Mode = (typeof MODES)[number];
const NAMESPACE = 'bench';
/** Kubernetes names are lower case; the agent stands for this machine's node. */
const NODE = hostname().toLowerCase();
/** After a report the agent is waited on: the rest of that step (its own status write coming back through its watch) stays out of the run. */
const SETTLE_MS = 1000;
/** The short run before a measured one that gives the agent stacks to symbolize. */
const PRIMING_SECONDS = 1;
/** The agent's tick at the TraceProfile's default interval: it collects, summarizes and reports this often. */
const TICK_MS = profileIntervalMs(DEFAULT_INTERVAL);

/** Nanoseconds the BPF programs a process holds have run, while BPF run-time statistics are on (bpftool leaves out a zero). */
function programRunTimeNs(pid: number): number {
  const ids = new Set(bpfHandlesOf(pid).progIds);
  return kernelPrograms()
    .filter((p) => ids.has(p.id))
    .reduce((sum, p) => sum + (p.run_time_ns ?? 0), 0);
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

/** The node's agent and its plan, which the bench writes in the operator's place. */
class NodeUnderTest {
  private constructor(
    private readonly client: ResourceClient,
    readonly agent: LoupeProcess,
    private readonly pod: LocalPod,
    /** The plan's metadata.generation as last written. */
    private generation: number,
  ) {}

  /** Creates the node's plan with no profile, starts its agent and waits for the agent's first status. */
  static async start(cluster: LoupeControlPlane, pod: LocalPod): Promise<NodeUnderTest> {
    const plan = await cluster.client.create(nodeTracePlanResource, {
      apiVersion: 'loupe.dev/v1alpha1',
      kind: 'NodeTracePlan',
      metadata: { name: NODE },
      spec: { nodeName: NODE, profiles: [], reportIntervalSeconds: agentReportIntervalMs(1) / 1000 },
    });
    // The profile downloads served as the DaemonSet serves them, on a port free here.
    const [profilePort] = await freeLoopbackPorts(1);
    const args = ['agent', '--node-name', NODE, '--kubeconfig', cluster.controlPlane.kubeconfigPath, '--profile-port', String(profilePort)];
    const node = new NodeUnderTest(cluster.client, new LoupeProcess(`agent ${NODE}`, args), pod, plan.metadata?.generation ?? 0);
    await node.reported('its first status', () => true);
    // It logs this before it reports: without statistics the programs' CPU would read as zero.
    if (!node.agent.log.includes('BPF run-time statistics on')) throw new Error(`the agent does not measure its probes' CPU:\n${node.agent.log}`);
    return node;
  }

  /** A profile as the operator plans one from a TraceProfile with its defaults, targeting the workload's pod. */
  profile(probes: ProbeSpec[]): NodeProfilePlan {
    const uid = randomUUID();
    const target = { podUid: this.pod.podUid, namespace: NAMESPACE, pod: 'spin-work', container: 'app', containerId: this.pod.containerRef };
    const name = `bench-${uid.slice(0, 8)}`;
    return { uid, namespace: NAMESPACE, name, generation: 1, probes, interval: DEFAULT_INTERVAL, topN: DEFAULT_TOP_N, active: true, targets: [target] };
  }

  /** Rewrites the plan's profiles. */
  async write(profiles: NodeProfilePlan[]): Promise<void> {
    const written = await this.client.mergePatch(nodeTracePlanResource, { name: NODE }, { spec: { profiles } });
    this.generation = written.metadata?.generation ?? 0;
  }

  /** Waits until the agent has applied the last write and reports what `accept` wants of the plan status. */
  async reported<T>(what: string, accept: (status: NodeTracePlanStatus) => T | undefined): Promise<T> {
    return waitFor(
      `the agent to report ${what}`,
      async () => {
        const parsed = parseNodeTracePlan(await this.client.get<KubeObject>(nodeTracePlanResource, { name: NODE }));
        const status = parsed.ok ? parsed.value.status : undefined;
        return status?.observedGeneration === this.generation ? accept(status) : undefined;
      },
      { timeoutMs: 60_000, diagnostics: () => `--- agent:\n${this.agent.log.split('\n').slice(-15).join('\n')}` },
    );
  }

  /** Waits until the agent reports the profile running with exactly these probes attached; resolves with that status. */
  running(plan: NodeProfilePlan): Promise<NodeTracePlanStatus> {
    const probes = JSON.stringify(plan.probes.map((p) => p.name));
    const attached = (p: NodeProfileStatus) =>
      p.uid === plan.uid && p.observedGeneration === plan.generation && p.state === 'Running' && JSON.stringify(p.probesLoaded) === probes;
    return this.reported(`${probes} attached`, (status) => (status.profiles?.some(attached) ? status : undefined));
  }
}

interface Run {
  /** The workload's own time. */
  seconds: number;
  /** The measurement's wall time, around the workload's run. */
  wallSeconds: number;
  agentCpuSeconds: number;
  /** The probe programs' CPU in the kernel (BPF run-time statistics): time the workload's CPU spent sampling it. */
  programCpuSeconds: number;
  samples?: number;
}

const samplesOf = (entry: NodeProfileStatus | undefined) => entry?.results?.profile?.samples ?? 0;

async function runMode(mode: Mode, round: number, node: NodeUnderTest, pod: LocalPod, binary: string, units: number): Promise<Run> {
  const profile = mode === undefined ? undefined : node.profile(mode === 'idle' ? [{ name: 'oomkill' }] : [{ name: 'profile', frequency: mode }]);
  await node.write(profile === undefined ? [] : [profile]);
  const switched =
    profile === undefined
      ? await node.reported('no profile', (status) => ((status.profiles ?? []).length === 0 ? status : undefined))
      : await node.running(profile);
  // Stacks for the agent's first collection, which reads the symbols of the workload's binary, its libraries and the kernel.
  if (mode !== undefined && mode !== 'idle') await work(pod, binary, Math.round((units * PRIMING_SECONDS) / seconds));
  // The switch was reported from a step of its own, which restarts the profile's interval: from the agent's next
  // regular report on it ticks as on a node (a collect, a summary and a status write every 10 s).
  const steady = await node.reported('a regular report after the switch', (status) =>
    status.heartbeat !== undefined && status.heartbeat !== switched.heartbeat ? status : undefined,
  );
  const samplesBefore = profile === undefined ? 0 : samplesOf(steady.profiles?.find((p) => p.uid === profile.uid));
  // Each round starts its run at another point of the agent's period, so the rounds together weigh every point alike.
  await sleep(SETTLE_MS + (TICK_MS * round) / rounds);
  const cpuBefore = cpuSeconds(node.agent.pid);
  const programNsBefore = programRunTimeNs(node.agent.pid);
  const startedAt = performance.now();
  const elapsed = await work(pod, binary, units);
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const run: Run = {
    seconds: elapsed,
    wallSeconds,
    agentCpuSeconds: cpuSeconds(node.agent.pid) - cpuBefore,
    programCpuSeconds: (programRunTimeNs(node.agent.pid) - programNsBefore) / 1e9,
  };
  if (profile !== undefined && mode !== 'idle') {
    const stopped = { ...profile, generation: 2, active: false };
    await node.write([stopped]);
    const last = await node.reported('the profile stopped', (status) =>
      status.profiles?.find((p) => p.uid === stopped.uid && p.observedGeneration === stopped.generation && p.state === 'Stopped'),
    );
    run.samples = samplesOf(last) - samplesBefore;
  }
  return run;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark loads BPF programs: run it as root');
  if (!Number.isInteger(rounds) || rounds < 1 || !(seconds >= 5)) throw new Error('usage: profile-overhead.ts [rounds >= 1] [seconds >= 5]');
  const dir = mkdtempSync(path.join(tmpdir(), 'loupe-bench-profile-'));
  const pod = new LocalPod();
  let cluster: LoupeControlPlane | undefined;
  let node: NodeUnderTest | undefined;
  try {
    const binary = buildWorkload(dir);
    cluster = await startLoupeControlPlane(NAMESPACE);
    node = await NodeUnderTest.start(cluster, pod);
    // Calibrate on half a second or so, not a few milliseconds in which this VM's speed varies most: units of work that take about `seconds` untraced.
    const probe = await work(pod, binary, 1000);
    const units = Math.max(1000, Math.round((1000 * seconds) / probe));
    console.log(`workload: ${units} units (~${seconds} s untraced) per run, ${rounds} rounds, ${MODES.length} modes interleaved; agent for node ${NODE}`);
    const runs = new Map<Mode, Run[]>(MODES.map((m) => [m, []]));
    const slowdowns = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
    for (let r = 0; r < rounds; r++) {
      const order = MODES.map((_, i) => MODES[(i + r) % MODES.length]!);
      const round = new Map<Mode, Run>();
      for (const mode of order) round.set(mode, await runMode(mode, r, node, pod, binary, units));
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
    /** % of one CPU over every run of the mode together: a run holds one or two of the agent's 10 s ticks, and a median would pick one kind. */
    const cpuPercent = (mode: Mode, pick: (r: Run) => number) => {
      const modeRuns = runs.get(mode)!;
      return (100 * modeRuns.reduce((sum, r) => sum + pick(r), 0)) / modeRuns.reduce((sum, r) => sum + r.wallSeconds, 0);
    };
    const added = (mode: Mode) => cpuPercent(mode, (r) => r.agentCpuSeconds + r.programCpuSeconds);
    printTable(
      ['mode', 'workload s', 'slowdown %', 'agent CPU %', 'probe programs CPU %', 'added CPU %', 'samples'],
      MODES.map((mode) => [
        mode === undefined ? 'untraced (agent, no profile)' : mode === 'idle' ? 'agent, oomkill only' : `profile ${mode} Hz`,
        fmt(medianOf(mode, (r) => r.seconds), 3),
        mode === undefined ? '-' : fmt(median(slowdowns.get(mode)!), 2),
        fmt(cpuPercent(mode, (r) => r.agentCpuSeconds), 2),
        fmt(cpuPercent(mode, (r) => r.programCpuSeconds), 3),
        fmt(added(mode), 2),
        fmt(medianOf(mode, (r) => r.samples), 0),
      ]),
    );
    console.log('workload s, slowdown, samples: medians over rounds, slowdown against the untraced run of the same round; CPU: % of one CPU over all the runs of a mode');
    const at19 = added(19);
    console.log(`${at19 < 1 ? 'MET' : 'MISSED'}: added CPU at 19 Hz ${fmt(at19, 2)}% of a CPU (goal: under 1%)`);
  } finally {
    await node?.agent.stop();
    await cluster?.controlPlane.stop();
    await pod.killAll().catch(() => {});
    pod.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
