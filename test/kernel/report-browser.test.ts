// `loupe report` of a real kernel run, opened in a real headless Chromium:
// a pod runs /bin/true a known number of times and then a program that spins
// in a known function between bursts of getppid; `loupe trace` records it,
// `loupe report --from` draws it, and the test reads what was drawn. The
// heat map must have one column per interval whose cells add up to the
// syscalls count, the flame graph's root must span every sample with the
// spinning function widest, the exec timeline must hold the execs, and the
// page must log no error and ask the network for nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TraceDocumentSchema, type TraceDocument } from '../../api/trace-document.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { runLoupe } from '../support/loupe-cli.js';
import { kernelTestBlocker, suiteSkip } from '../support/privileged.js';
import { chromiumBlocker, countInTitle, openReport, type OpenedReport } from '../support/report-browser.js';
import { startTrace } from '../support/trace-process.js';

const EXECS = 20;
const TRACE_SECONDS = 6;

// Spins in loupe_test_spin_here for about 20 ms, then makes 500 getppid calls,
// over and over for argv[1] seconds. Frame pointers, so the kernel can walk the user stack.
const WORKLOAD_C = String.raw`
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
volatile unsigned long sink;
void loupe_test_spin_here(void) {
  for (unsigned long i = 0; i < 8000000; i++) sink += i;
}
int main(int argc, char **argv) {
  time_t end = time(0) + atoi(argv[1]);
  while (time(0) < end) {
    loupe_test_spin_here();
    for (int i = 0; i < 500; i++) getppid();
  }
  return 0;
}
`;

interface Frame {
  name: string;
  x: number;
  y: number;
  width: number;
  title: string;
}


describe('loupe report in Chromium, from a real trace', { skip: suiteSkip(kernelTestBlocker() ?? chromiumBlocker()) }, () => {
  let dir: string;
  let pod: LocalPod;
  let doc: TraceDocument;
  let report: OpenedReport;
  let reportFile: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'loupe-report-'));
    writeFileSync(path.join(dir, 'workload.c'), WORKLOAD_C);
    execFileSync('cc', ['-O0', '-g', '-fno-omit-frame-pointer', '-o', path.join(dir, 'workload'), path.join(dir, 'workload.c')]);
    pod = new LocalPod();
    const run = await startTrace([
      '--cgroup', pod.dir, '--probes', 'syscalls,profile,exec', '--duration', `${TRACE_SECONDS}s`, '--interval', '1s', '--top', '50', '--output', 'json',
    ]);
    await pod.execTimes(EXECS);
    const workload = pod.exec([path.join(dir, 'workload'), String(TRACE_SECONDS + 2)]).catch(() => 'killed when it outlived the trace');
    const traced = await run.exited;
    await pod.killAll();
    await workload;
    assert.equal(traced.status, 0, traced.stderr);
    doc = TraceDocumentSchema.parse(JSON.parse(traced.stdout));
    const docFile = path.join(dir, 'trace.json');
    writeFileSync(docFile, traced.stdout);
    reportFile = path.join(dir, 'report.html');
    const made = await runLoupe(['report', '--from', docFile, '-o', reportFile]);
    assert.equal(made.status, 0, made.stderr);
    assert.equal(made.stdout.trim(), reportFile, 'prints the path it wrote');
    report = await openReport(reportFile);
  });

  after(async () => {
    await report?.screenshot('report-trace.png');
    await report?.close();
    pod?.remove();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('is one file with nothing to fetch, under 2 MB, and logs no error', () => {
    assert.deepEqual(report.errors, []);
    assert.deepEqual(report.requests, []);
    assert.ok(statSync(reportFile).size < 2 * 1024 * 1024, `${statSync(reportFile).size} bytes`);
  });

  it('draws the syscalls heat map with one column per interval, its cells adding up to the syscalls count', async () => {
    const latency = doc.totals.syscalls?.latencyNs;
    assert.ok(latency !== undefined && latency.count > 1000, `the workload's getppid calls were counted: ${latency?.count}`);
    const heatmap = report.page.locator('figure[data-heatmap="syscalls-latencyNs"]');
    const columns = await heatmap.locator('g[aria-description="heatmap columns"] rect').count();
    assert.equal(columns, doc.timeline?.columns);
    // One column per 1 s interval of the session (the last one may have just begun).
    assert.ok(Math.abs(columns - doc.durationMs / 1000) <= 1, `${columns} columns for ${doc.durationMs} ms`);
    const cells = await heatmap.locator('g[aria-description="heatmap cells"] rect title').allTextContents();
    assert.ok(cells.length > columns / 2, `${cells.length} cells drawn`);
    assert.equal(cells.map(countInTitle).reduce((a, b) => a + b, 0), latency.count);
    assert.ok((await heatmap.locator('g[aria-description="p99"] path').count()) > 0, 'the p99 line is drawn');
    assert.ok((await heatmap.locator('g[aria-description="histogram bars"] rect').count()) > 0, 'the histogram is drawn');
  });

  it('draws the flame graph: the root spans every sample and the spinning function is the widest frame below main', async () => {
    const samples = doc.totals.profile?.samples ?? 0;
    assert.ok(samples > 10, `${samples} samples`);
    const frames: Frame[] = await report.page.locator('figure[data-flamegraph="profile"] g.frame').evaluateAll((gs) =>
      gs.map((g) => {
        const [, x, y] = /translate\(([-0-9.e]+),([-0-9.e]+)\)/.exec(g.getAttribute('transform') ?? '') ?? [];
        return {
          name: g.getAttribute('name') ?? '',
          x: Number(x),
          y: Number(y),
          width: Number(g.querySelector('rect')?.getAttribute('width')),
          title: g.querySelector('title')?.textContent ?? '',
        };
      }),
    );
    const root = frames.find((f) => f.name === 'all');
    assert.ok(root !== undefined, `a root frame among ${frames.length}`);
    assert.match(root.title, new RegExp(`^all: ${samples.toLocaleString('en-US')} samples`));
    const svgWidth = Number(await report.page.locator('figure[data-flamegraph="profile"] svg').getAttribute('width'));
    assert.ok(Math.abs(root.width - svgWidth) < 1, `root ${root.width}px of ${svgWidth}px`);
    const childrenOf = (parent: Frame) =>
      frames.filter((f) => f.y < parent.y && Math.abs(parent.y - f.y - 18) < 1 && f.x >= parent.x - 0.5 && f.x + f.width <= parent.x + parent.width + 0.5);
    // Its children split its width among them: a root the width of every sample.
    const rootChildren = childrenOf(root);
    assert.ok(Math.abs(rootChildren.reduce((w, f) => w + f.width, 0) - root.width) < 1);
    const hot = frames.filter((f) => f.name === 'loupe_test_spin_here');
    assert.equal(hot.length, 1, JSON.stringify(frames.map((f) => f.name)));
    const main = frames.find((f) => f.name === 'main' && childrenOf(f).includes(hot[0]!));
    assert.ok(main !== undefined, 'loupe_test_spin_here is drawn under main');
    const siblings = childrenOf(main);
    assert.equal(siblings.sort((a, b) => b.width - a.width)[0]?.name, 'loupe_test_spin_here', JSON.stringify(siblings.map((f) => [f.name, f.width])));
    assert.ok(hot[0]!.width > root.width / 3, `the spinning function holds ${hot[0]!.width}px of ${root.width}px`);
  });

  it('draws the execs over time, every exec of the pod in it', async () => {
    assert.equal(doc.totals.exec?.execs, EXECS + 1, '/bin/true, and the workload itself');
    const bars = await report.page.locator('figure[data-counts="exec-counts"] g[aria-description="execs bars"] rect title').allTextContents();
    assert.equal(bars.map(countInTitle).reduce((a, b) => a + b, 0), EXECS + 1);
  });

  it('lists the top syscalls in a table that sorts on a click', async () => {
    const table = report.page.locator('#probe-syscalls table').first();
    assert.equal(await table.locator('tbody tr').first().locator('td').first().textContent(), 'getppid');
    await table.locator('th', { hasText: 'key' }).click();
    const keys = await table.locator('tbody tr td:first-child').allTextContents();
    assert.deepEqual(keys, [...keys].sort((a, b) => a.localeCompare(b)), 'names sort A to Z on the first click');
    await table.locator('th', { hasText: 'count' }).click();
    const counts = (await table.locator('tbody tr td:nth-child(2)').allTextContents()).map((c) => Number(c.replaceAll(',', '')));
    assert.deepEqual(counts, [...counts].sort((a, b) => b - a), 'counts sort highest first');
  });
});
