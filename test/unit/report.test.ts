// loupe report's pure parts: reading its two inputs (and refusing others with
// a message that says why), and the view the page draws.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { summarizeLatency } from '../../api/histogram.js';
import type { ProbeResults } from '../../api/results.js';
import { advanceTimeline, emptyTimeline } from '../../api/timeline.js';
import { reportCommand } from '../../cli/report-command.js';
import { reportFromTraceDocument, reportFromTraceProfile, ReportInputError } from '../../report/report-source.js';
import { flameTree, reportView, STACKS_LEFT_OUT } from '../../report/report-view.js';

const START = '2026-12-07T10:00:00.000Z';

function syscalls(buckets: number[]): ProbeResults {
  const h = { zeroCount: 0, buckets };
  const calls = buckets.reduce((a, b) => a + b, 0);
  return { syscalls: { calls, errors: 0, latencyNs: summarizeLatency(h), topSyscalls: [{ key: 'read', count: calls }] } };
}

function traceDocument(): Record<string, unknown> {
  const first = syscalls([0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
  const second = syscalls([0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  let timeline = emptyTimeline(Date.parse(START), 1000);
  timeline = advanceTimeline(timeline, undefined, first, Date.parse(START) + 500);
  timeline = advanceTimeline(timeline, first, second, Date.parse(START) + 2500);
  return {
    startedAt: START,
    endedAt: '2026-12-07T10:00:03.000Z',
    durationMs: 3000,
    endedBy: 'duration',
    probes: ['syscalls'],
    failed: [],
    totals: second,
    targets: [{ target: 'pid 1', cgroupId: '42', results: second }],
    timeline,
  };
}

function traceProfile(status: Record<string, unknown> | undefined): Record<string, unknown> {
  return {
    apiVersion: 'loupe.dev/v1alpha1',
    kind: 'TraceProfile',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: { selector: { matchLabels: { app: 'checkout' } }, probes: [{ name: 'syscalls' }] },
    ...(status !== undefined && { status }),
  };
}

describe('loupe report inputs', () => {
  it('reads a loupe trace document: heat map columns from its timeline, cells adding up to the count', () => {
    const view = reportView(reportFromTraceDocument(traceDocument()), new Date());
    const heatmap = view.probes[0]?.heatmaps[0];
    assert.equal(heatmap?.id, 'syscalls-latencyNs');
    assert.equal(heatmap?.columns, 3);
    assert.deepEqual(heatmap?.cells, [
      { column: 0, slot: 9, count: 5 },
      { column: 2, slot: 20, count: 2 },
    ]);
    assert.equal(heatmap?.total, 7);
    assert.equal(heatmap?.timelineTotal, 7);
    assert.equal(heatmap?.p50[1], null, 'an empty column has no percentile');
    assert.deepEqual(heatmap?.histogram.map((h) => [h.range, h.count]), [['(256ns, 512ns]', 5], ['(524µs, 1.05ms]', 2]]);
    assert.deepEqual(heatmap?.slots.slice(0, 2), [{ slot: 8, upper: '256ns', range: '(128ns, 256ns]' }, { slot: 9, upper: '512ns', range: '(256ns, 512ns]' }]);
    assert.equal(heatmap?.summary, '7 measured, p50 435ns, p99 1.03ms');
    assert.deepEqual(view.notices, []);
  });

  it('refuses a JSON document from another tool, naming what is missing', () => {
    assert.throws(
      () => reportFromTraceDocument({ traceEvents: [], displayTimeUnit: 'ms' }),
      (err: Error) => err instanceof ReportInputError && /not a `loupe trace --output json` document: startedAt: .*loupe trace --output json/.test(err.message),
    );
  });

  it('says so when a profile has no results yet, instead of drawing nothing', () => {
    const data = reportFromTraceProfile(traceProfile({ phase: 'Pending', conditions: [] }));
    assert.match(data.notices.join('\n'), /No results yet \(phase Pending\)/);
    const view = reportView(data, new Date());
    assert.deepEqual(view.probes, []);
  });

  it('says what a truncated status left out, and that the timeline is missing', () => {
    const data = reportFromTraceProfile(traceProfile({ phase: 'Running', results: syscalls([0, 3]), truncated: { pods: 12, topEntries: 40 } }));
    assert.match(data.notices.join('\n'), /12 pods and 40 top-list entries are not in it/);
    assert.match(data.notices.join('\n'), /no timeline/);
    assert.equal(reportView(data, new Date()).probes[0]?.heatmaps[0]?.columns, 0);
  });

  it('refuses an object that is not a TraceProfile', () => {
    assert.throws(() => reportFromTraceProfile({ kind: 'Pod' }), /not a TraceProfile Loupe can read: apiVersion/);
  });
});

describe('loupe report view', () => {
  it('builds the flame graph from folded stacks: the root is every sample, what the list left out is one child', () => {
    const root = flameTree(
      [
        { key: 'app;main;spin', count: 6 },
        { key: 'app;main;write;ksys_write_[k]', count: 3 },
        { key: '(other)', count: 1 },
      ],
      12,
    );
    assert.equal(root.value, 12);
    assert.deepEqual(
      root.children.map((c) => [c.name, c.value]),
      [
        ['app', 9],
        [STACKS_LEFT_OUT, 3],
      ],
    );
    const main = root.children[0]?.children[0];
    assert.deepEqual(
      main?.children.map((c) => [c.name, c.value]),
      [
        ['spin', 6],
        ['write', 3],
      ],
    );
  });

  it('merges every pod into the per-pod table, sortable by each probe\'s activity', () => {
    const doc = traceDocument();
    doc.targets = [
      { target: 'pid 1', cgroupId: '1', results: syscalls([0, 4]) },
      { target: 'pid 2', cgroupId: '2', results: syscalls([0, 9]) },
    ];
    const view = reportView(reportFromTraceDocument(doc), new Date());
    assert.deepEqual(view.pods?.columns.map((c) => c.label), ['pod', 'node', 'syscalls', 'summary']);
    assert.deepEqual(view.pods?.rows.map((r) => r.sortKeys[2]), [4, 9]);
  });
});

describe('loupe report command', () => {
  const run = async (args: string[], stdin = '') => {
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d: Buffer) => (stdout += d));
    err.on('data', (d: Buffer) => (stderr += d));
    const input = new PassThrough();
    input.end(stdin);
    const status = await reportCommand(args, { stdout: out, stderr: err, stdin: input });
    return { status, stdout, stderr };
  };

  it('reads a document on stdin with --from - and refuses what is not JSON', async () => {
    const notJson = await run(['--from', '-', '-o', '/dev/null'], 'hello');
    assert.equal(notJson.status, 1);
    assert.match(notJson.stderr, /standard input is not JSON .*loupe trace --output json/);
  });

  it('asks for exactly one source', async () => {
    const neither = await run([]);
    assert.equal(neither.status, 2);
    assert.match(neither.stderr, /name one TraceProfile, or give --from FILE/);
    const both = await run(['checkout', '--from', 'x.json']);
    assert.equal(both.status, 2);
  });

  it('says which file it cannot read', async () => {
    const missing = await run(['--from', '/nonexistent/trace.json']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read \/nonexistent\/trace.json: ENOENT/);
  });

  it('writes one self-contained HTML file from a document on stdin and prints its path', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'loupe-report-unit-'));
    try {
      const file = path.join(dir, 'r.html');
      const made = await run(['--from', '-', '-o', file], JSON.stringify(traceDocument()));
      assert.equal(made.status, 0, made.stderr);
      assert.equal(made.stdout, `${file}\n`);
      const html = readFileSync(file, 'utf8');
      assert.match(html, /<script id="loupe-report" type="application\/json">\{/);
      // Nothing loads from elsewhere: no external script, stylesheet or image, and a policy that forbids any.
      assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i);
      assert.match(html, /default-src 'none'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
