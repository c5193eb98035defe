// `loupe trace`: one ad-hoc profile on this machine. Resolves the targets,
// loads the probes through the ProbeManager, refreshes a live summary on a
// terminal, and prints one report when the duration ends or on SIGINT/SIGTERM.
// Whatever happens, the manager is closed before the process exits, so nothing
// stays attached.
//
// --output json prints exactly one JSON document on stdout, at the end:
//   {
//     "startedAt": "2026-11-26T07:00:00.000Z", "endedAt": "…",   ISO 8601
//     "durationMs": 30012,
//     "endedBy": "duration" | "SIGINT" | "SIGTERM",
//     "probes": ["exec", …],                probes that counted
//     "failed": [{ "probe", "message", "verifierLog"? }],   probes that did not load
//     "totals": { "exec"?: ExecResult, "syscalls"?: …, "files"?: …, "tcp"?: … },   api/results.ts shapes,
//                                           top lists cut to --top, latencies with p50/p90/p99
//     "targets": [{ "target": "pid 1234", "cgroupId": "8123", "results": { same as totals } }],
//     "cost": ProfileCost?,
//     "timeline": Timeline                  api/timeline.ts: what each interval gained, for heat maps
//   }
import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { ProfileCost } from '../api/cost.js';
import type { ProbeResults } from '../api/results.js';
import type { TraceDocument } from '../api/trace-document.js';
import { advanceTimeline, emptyTimeline, extendTimeline, type Timeline } from '../api/timeline.js';
import { BpfObject } from '../native/index.js';
import { CgroupNotFoundError } from '../engine/cgroup/cgroup-id.js';
import { findCgroup2Mount, NoCgroup2MountError } from '../engine/cgroup/mount.js';
import { turnOnBpfStats } from '../engine/cost/bpf-stats.js';
import { CostMeter } from '../engine/cost/cost-meter.js';
import { eventsByProbe } from '../engine/cost/probe-events.js';
import { ProbeManager } from '../engine/probe-manager.js';
import { probeObjectOpener } from '../engine/probe-objects.js';
import { probeCatalog } from '../engine/probes/catalog.js';
import { buildProfileReport, type ProfileReport, type ReportTarget } from './trace/report.js';
import { heatmapPalette, renderHeatmaps } from './trace/heatmap-text.js';
import { renderReportText } from './trace/report-text.js';
import { parseTraceOptions, TRACE_USAGE, traceProbeSpecs, UsageError, type TraceOptions } from './trace/trace-options.js';
import { resolveTraceTargets } from './trace/trace-targets.js';

const PROFILE_ID = 'trace';
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type EndReason = TraceDocument['endedBy'];

/** Starts the line on stderr that says every probe is attached. */
export const TRACING_LINE = 'loupe trace: tracing';

/** A failure the user can act on; printed as one line. */
class TraceError extends Error {}

export interface TraceIo {
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable;
}

export interface TraceEnvironment {
  uid: number | undefined;
  btfPath: string;
}

/** Why tracing cannot work on this machine, in one line; undefined when it can. */
export function traceBlocker(env: TraceEnvironment): string | undefined {
  if (env.uid !== 0) {
    return 'needs root to load eBPF programs (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN): run it with sudo';
  }
  if (!existsSync(env.btfPath)) {
    return `needs a kernel with BTF (${env.btfPath} is missing): use a kernel built with CONFIG_DEBUG_INFO_BTF=y`;
  }
  return undefined;
}

function traceLogger(stderr: Writable): Logger {
  return pino(
    { level: process.env.LOUPE_LOG_LEVEL ?? 'warn' },
    pretty({ destination: stderr, sync: true, colorize: (stderr as { isTTY?: boolean }).isTTY === true }),
  );
}

interface TraceSession {
  report: ProfileReport;
  timeline: Timeline;
  startedAt: Date;
  endedAt: Date;
  endedBy: EndReason;
}

/** Waits for the duration or a stop signal, calling tick every interval. */
function runUntilStopped(options: TraceOptions, tick: () => void): Promise<EndReason> {
  return new Promise((resolve, reject) => {
    const handlers = STOP_SIGNALS.map((signal) => [signal, () => finish(signal)] as const);
    const interval = setInterval(() => {
      try {
        tick();
      } catch (err) {
        cleanup();
        reject(err);
      }
    }, options.interval);
    const timeout = options.duration === undefined ? undefined : setTimeout(() => finish('duration'), options.duration);
    function cleanup(): void {
      clearInterval(interval);
      clearTimeout(timeout);
      for (const [signal, handler] of handlers) process.off(signal, handler);
    }
    function finish(reason: EndReason): void {
      cleanup();
      resolve(reason);
    }
    for (const [signal, handler] of handlers) process.on(signal, handler);
  });
}

async function trace(options: TraceOptions, targets: ReportTarget[], io: TraceIo, log: Logger): Promise<TraceSession> {
  const manager = new ProbeManager({
    catalog: probeCatalog,
    openObject: probeObjectOpener((file) => BpfObject.open(file)),
    logger: log,
  });
  const meter = new CostMeter(turnOnBpfStats());
  const measureCost = (): ProfileCost | undefined =>
    meter.measure(manager.loadedObjects(), new Map([[PROFILE_ID, eventsByProbe(manager.results(PROFILE_ID))]]))?.profiles.get(PROFILE_ID)
      ?.cost;
  // A signal during loading must not kill the process before close() below.
  const earlyStop: EndReason[] = [];
  const recordEarlyStop = STOP_SIGNALS.map((s) => [s, () => earlyStop.push(s)] as const);
  for (const [signal, handler] of recordEarlyStop) process.on(signal, handler);
  const startedAt = new Date();
  try {
    const state = await manager.register(PROFILE_ID, { probes: traceProbeSpecs(options), targets: [...new Set(targets.map((t) => t.cgroupId))] });
    for (const [signal, handler] of recordEarlyStop) process.off(signal, handler);
    if (state.active.length === 0) {
      const reasons = state.failed.map((f) => `${f.probe}: ${f.message}`).join('; ');
      throw new TraceError(`no probe could be loaded (${reasons})`);
    }
    measureCost(); // the baseline: the session's cost is measured from here to the end
    // Everything is attached from here on: say so, so a person (or a script) knows when to start the workload.
    const until = options.duration === undefined ? 'until Ctrl-C' : `for ${formatElapsed(options.duration)}`;
    io.stderr.write(`${TRACING_LINE} ${state.active.join(', ')} in ${targets.length} target(s) ${until}\n`);
    const report = (cost?: ProfileCost): ProfileReport =>
      buildProfileReport({
        profileId: PROFILE_ID,
        probes: state.active,
        failed: state.failed,
        results: manager.results(PROFILE_ID),
        targets,
        top: options.top,
        cost,
      });
    // Each interval's gain goes into the timeline (heat maps over the session), a column per interval even when idle.
    let timeline = emptyTimeline(startedAt.getTime(), options.interval);
    let previous: ProbeResults | undefined;
    const advance = (current: ProfileReport): void => {
      const now = Date.now();
      timeline = extendTimeline(advanceTimeline(timeline, previous, current.totals, now), now);
      previous = current.totals;
    };
    const live = io.stdout.isTTY === true && options.output === 'text';
    const endedBy =
      earlyStop[0] ??
      (await runUntilStopped(options, () => {
        manager.collect();
        const now = report();
        advance(now);
        if (!live) return;
        const elapsed = formatElapsed(Date.now() - startedAt.getTime());
        const of = options.duration === undefined ? '' : ` of ${formatElapsed(options.duration)}`;
        const frame = renderReportText(now, `loupe trace: ${elapsed}${of} (Ctrl-C to stop)`, heatmapText(timeline, options, io));
        // Home and clear, then redraw: the summary replaces itself in place, cut to the
        // terminal's height so the redraw never scrolls its top (the heat map) away.
        io.stdout.write(`\x1b[H\x1b[2J${frame.split('\n').slice(0, (io.stdout.rows ?? Infinity) - 1).join('\n')}`);
      }));
    manager.collect();
    const final = report(measureCost());
    advance(final);
    return { report: final, timeline, startedAt, endedAt: new Date(), endedBy };
  } finally {
    for (const [signal, handler] of recordEarlyStop) process.off(signal, handler);
    manager.close();
    meter.close();
  }
}

/** The heat maps when --heatmap asks for them: in colour on a terminal that has it, fitted to its width. */
function heatmapText(timeline: Timeline, options: TraceOptions, io: TraceIo): string {
  if (options.heatmap !== true) return '';
  return renderHeatmaps(timeline, { palette: heatmapPalette(process.env, io.stdout.isTTY === true), width: io.stdout.columns });
}

function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${m}m${s % 60}s` : m > 0 ? `${m}m${s % 60}s` : `${s}s`;
}

function printSession(session: TraceSession, options: TraceOptions, io: TraceIo): void {
  const { report } = session;
  const durationMs = session.endedAt.getTime() - session.startedAt.getTime();
  if (options.output === 'json') {
    const document: TraceDocument = {
      startedAt: session.startedAt.toISOString(),
      endedAt: session.endedAt.toISOString(),
      durationMs,
      endedBy: session.endedBy,
      probes: report.probes,
      failed: report.failed,
      totals: report.totals,
      targets: report.targets,
      cost: report.cost,
      timeline: session.timeline,
    };
    io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    return;
  }
  if (io.stdout.isTTY === true) io.stdout.write('\x1b[H\x1b[2J');
  const heading = `loupe trace: ${formatElapsed(durationMs)}, ended by ${session.endedBy}, ${report.targets.length} target(s)`;
  io.stdout.write(renderReportText(report, heading, heatmapText(session.timeline, options, io)));
}

/** Runs `loupe trace args`; resolves to the exit status. */
export async function traceCommand(args: readonly string[], io: TraceIo = process): Promise<number> {
  const fail = (message: string, status: number): number => {
    io.stderr.write(`loupe trace: ${message}\n`);
    return status;
  };
  let options: TraceOptions;
  try {
    options = parseTraceOptions(args);
  } catch (err) {
    if (err instanceof UsageError) return fail(err.message, 2);
    throw err;
  }
  if (options.help) {
    io.stdout.write(TRACE_USAGE);
    return 0;
  }
  const blocker = traceBlocker({ uid: process.getuid?.(), btfPath: '/sys/kernel/btf/vmlinux' });
  if (blocker !== undefined) return fail(blocker, 1);
  const log = traceLogger(io.stderr);
  try {
    const targets = resolveTraceTargets(options.targets, findCgroup2Mount());
    const session = await trace(options, targets, io, log);
    printSession(session, options, io);
    return 0;
  } catch (err) {
    // Expected failures (targets, probes) are one line; anything else gets its stack in the log.
    if (!(err instanceof TraceError || err instanceof CgroupNotFoundError || err instanceof NoCgroup2MountError)) {
      log.error({ err }, 'loupe trace failed');
    }
    return fail(err instanceof Error ? err.message : String(err), 1);
  }
}
