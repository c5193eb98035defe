// `loupe trace --heatmap` as a person sees it: the real command in a real
// terminal (a detached tmux pane, read back with capture-pane), tracing a
// kubelet-shaped pod whose workload has two latency modes of known place:
// getppid() calls well under 2 µs, and a 3 ms sleep after every 200 of them
// (one syscall in (2.1ms, 4.2ms]). The heat map must grow a column per
// interval, show both modes, and be in 256 colours, or in shades when the
// terminal has no colour or stdout is not a terminal.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { bucketLabel } from '../../cli/trace/histogram-text.js';
import { MARKS, SHADES } from '../../cli/trace/heatmap-text.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { PYTHON } from '../support/app-workloads.js';
import { kernelTestBlocker, requireKernel } from '../support/privileged.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TMUX = '/usr/bin/tmux';
/** A tmux server of our own, so no one else's sessions are touched. */
const SOCKET = `loupe-heatmap-${randomBytes(4).toString('hex')}`;
const WIDTH = 160;
const HEIGHT = 50;

const WORKLOAD = `
import os, time
while True:
    for _ in range(200):
        os.getppid()
    time.sleep(0.003)
`;
const SLEEP_SLOT = 22; // 3 ms is in (2^21, 2^22] ns
const FAST_SLOTS = 11; // getppid() is at most 2^11 ns = 2 µs

function blocker(): string | undefined {
  return kernelTestBlocker() ?? (existsSync(TMUX) ? undefined : `needs tmux at ${TMUX}`) ?? (existsSync(PYTHON) ? undefined : `needs ${PYTHON}`);
}

const tmux = (...args: string[]): string => execFileSync(TMUX, ['-L', SOCKET, ...args], { encoding: 'utf8' });

const ESCAPE = /\x1b\[[0-9;]*m/g;

interface Frame {
  /** The pane as captured, escapes and all. */
  raw: string;
  /** Whole seconds since the session started, from the live heading. */
  elapsed: number | undefined;
  /** The heat map's column count, from its title. */
  columns: number | undefined;
  /** Heat map rows: the bucket's label and its cells, raw. */
  rows: { label: string; cells: string }[];
}

function readFrame(raw: string): Frame {
  const text = raw.replace(ESCAPE, '');
  const rows = raw.split('\n').flatMap((line) => {
    const m = /^ *(\S.*?) │(.*)│$/.exec(line.replace(/\s+$/, ''));
    return m === null ? [] : [{ label: m[1]!.replace(ESCAPE, ''), cells: m[2]! }];
  });
  const elapsed = /^loupe trace: (\d+)s of \d+s/m.exec(text)?.[1];
  const columns = /^syscalls latency: (\d+) columns of 1s, newest on the right$/m.exec(text)?.[1];
  return { raw, elapsed: elapsed === undefined ? undefined : Number(elapsed), columns: columns === undefined ? undefined : Number(columns), rows };
}

/** The visible characters of a row's cells: two per column. */
const cellText = (cells: string) => cells.replace(ESCAPE, '');

interface PaneRun {
  frames: Frame[];
  /** The pane (and its scrollback) once the command has exited. */
  last: string;
}

/** Runs `loupe trace` in a fresh 160×50 tmux pane with env, capturing the pane every 700 ms until it exits. */
async function runInPane(name: string, env: string, args: string[]): Promise<PaneRun> {
  const command = `env ${env} ${process.execPath} --import tsx cli/loupe.ts trace ${args.join(' ')}; echo loupe-exit=$?; sleep 600`;
  tmux('new-session', '-d', '-s', name, '-x', String(WIDTH), '-y', String(HEIGHT), '-c', repo, command);
  const frames: Frame[] = [];
  for (const start = Date.now(); Date.now() - start < 60_000; await sleep(700)) {
    const raw = tmux('capture-pane', '-p', '-e', '-t', name);
    if (/^loupe-exit=/m.test(raw)) {
      return { frames, last: tmux('capture-pane', '-p', '-e', '-S', '-200', '-t', name) };
    }
    if (/^syscalls latency: /m.test(raw.replace(ESCAPE, ''))) frames.push(readFrame(raw));
  }
  throw new Error(`loupe trace did not end in 60s; the pane:\n${tmux('capture-pane', '-p', '-t', name)}`);
}

describe('loupe trace --heatmap in a terminal', () => {
  let pod: LocalPod | undefined;
  let workload: Promise<unknown> = Promise.resolve();
  before(() => {
    if (blocker() !== undefined) return;
    pod = new LocalPod();
    workload = pod.exec([PYTHON, '-c', WORKLOAD]).catch(() => undefined); // ends when after() kills the pod's processes
  });
  after(async () => {
    try {
      tmux('kill-server');
    } catch {
      // no server: no test got to start one
    }
    if (pod !== undefined) {
      await pod.killAll();
      await workload;
      pod.remove();
    }
  });

  it('redraws a 256-colour heat map every interval, a column per interval, covering the workload\'s latencies', async (t) => {
    if (!requireKernel(t, blocker())) return;
    const run = await runInPane('colour', '-u NO_COLOR TERM=tmux-256color', ['--heatmap', '--interval', '1s', '--duration', '6s', '--probes', 'syscalls', '--cgroup', pod!.dir]);
    const frames = run.frames.filter((f) => f.columns !== undefined && f.elapsed !== undefined);
    for (const f of frames) console.log(`--- capture at ${f.elapsed}s, ${f.columns} columns ---\n${f.raw.replace(ESCAPE, '')}`);
    assert.ok(frames.length >= 3, `at least three live frames captured: ${frames.length}\n${run.last}`);

    // A column per interval since the session began (the frame's heading and its timeline are
    // read a moment apart, so a second boundary between them may make it one fewer).
    for (const f of frames) {
      assert.ok(f.columns === f.elapsed! + 1 || f.columns === f.elapsed, `${f.columns} columns at ${f.elapsed}s`);
      for (const row of f.rows) assert.equal(cellText(row.cells).length, 2 * f.columns!, `row ${row.label} has a cell per column`);
    }
    const counts = frames.map((f) => f.columns!);
    assert.ok(counts.every((c, i) => i === 0 || c >= counts[i - 1]!), `never fewer columns: ${counts}`);
    assert.ok(counts.at(-1)! >= counts[0]! + 2, `growing: ${counts}`);

    const latest = frames.at(-1)!;
    assert.match(latest.raw, /\x1b\[48;5;\d+m/, '256-colour backgrounds');
    // Slowest on top, and both modes drawn: the sleeps' bucket and the getppid() calls' buckets have counts.
    const labels = latest.rows.map((r) => r.label);
    const slots = Array.from({ length: 64 }, (_, s) => s);
    const slotOf = (label: string) => slots.find((s) => bucketLabel(s) === label) ?? -1;
    assert.deepEqual(labels.map(slotOf), [...labels.map(slotOf)].sort((a, b) => b - a), 'rows run from the slowest down');
    const row = (slot: number) => latest.rows.find((r) => r.label === bucketLabel(slot));
    const sleeps = row(SLEEP_SLOT);
    assert.ok(sleeps, `a row for the 3 ms sleeps, ${bucketLabel(SLEEP_SLOT)}: ${labels.join(' / ')}`);
    assert.match(sleeps.cells, /\x1b\[48;5;\d+m/, 'the sleeps are counted');
    const fast = latest.rows.filter((r) => slotOf(r.label) <= FAST_SLOTS);
    assert.ok(fast.some((r) => /\x1b\[48;5;\d+m/.test(r.cells)), 'the getppid() calls are counted');
    // 200 fast calls to each slow one: every counted column's p50 is a fast bucket.
    const p50Rows = latest.rows.filter((r) => cellText(r.cells).includes(MARKS.p50) || cellText(r.cells).includes(MARKS.both));
    assert.ok(p50Rows.length > 0 && p50Rows.every((r) => slotOf(r.label) <= FAST_SLOTS), `p50 among the fast buckets: ${p50Rows.map((r) => r.label)}`);

    // The final report, after the duration, draws the whole session's heat map once more.
    // tmux keeps each cleared frame in the scrollback: the final report is what follows the last heading.
    const pane = run.last.replace(ESCAPE, '');
    const final = pane.slice(pane.lastIndexOf('loupe trace: '));
    console.log(`--- the final report ---\n${final}`);
    assert.match(final, /^loupe trace: \d+s, ended by duration, 1 target\(s\)$/m);
    assert.match(final, /^syscalls latency: \d+ columns of 1s, newest on the right$/m);
    assert.match(final, /^ {2}latency histogram:$/m, 'and the bars');
    assert.match(final, /^loupe-exit=0$/m);
  });

  for (const { why, env } of [
    { why: 'TERM=dumb', env: '-u NO_COLOR TERM=dumb' },
    { why: 'NO_COLOR=1', env: 'NO_COLOR=1 TERM=tmux-256color' },
  ]) {
    it(`draws in shades, without a colour escape, when ${why}`, async (t) => {
      if (!requireKernel(t, blocker())) return;
      const run = await runInPane(why.replace(/\W/g, '-'), env, ['--heatmap', '--interval', '1s', '--duration', '3s', '--probes', 'syscalls', '--cgroup', pod!.dir]);
      const latest = run.frames.at(-1);
      assert.ok(latest, `a live frame with the heat map:\n${run.last}`);
      console.log(`--- ${why}: capture at ${latest.elapsed}s ---\n${latest.raw}`);
      assert.doesNotMatch(latest.raw, /\x1b\[/, 'no escape of any kind in the pane');
      const drawn = latest.rows.map((r) => r.cells).join('');
      assert.ok(SHADES.some((s) => drawn.includes(s)), 'shades');
      assert.ok(latest.rows.some((r) => r.label === bucketLabel(SLEEP_SLOT) && SHADES.some((s) => r.cells.includes(s))), 'the sleeps in shades');
    });
  }

  it('draws the heat map once, in shades, in the report when stdout is not a terminal', async (t) => {
    if (!requireKernel(t, blocker())) return;
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/loupe.ts', 'trace', '--heatmap', '--duration', '3s', '--probes', 'syscalls', '--cgroup', pod!.dir], {
      cwd: repo,
      env: { ...process.env, TERM: 'xterm-256color', NO_COLOR: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(status, 0, stderr);
    assert.doesNotMatch(stdout, /\x1b/, 'no escapes in a file');
    assert.equal(stdout.match(/^syscalls latency: \d+ columns of 1s, newest on the right$/gm)?.length, 1, stdout);
    assert.match(stdout, new RegExp(`^ *${bucketLabel(SLEEP_SLOT).replace(/[()[\]]/g, '\\$&')} │.*[${SHADES.join('')}].*│$`, 'm'), stdout);
  });
});
