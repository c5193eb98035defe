// Latency histograms as bpftrace-style bars in `loupe trace`'s text report.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramFromCounts, type Log2Histogram } from '../../api/histogram.js';
import { bucketLabel, BAR_WIDTH, memberWords, renderHistogramBars } from '../../cli/trace/histogram-text.js';
import { buildProfileReport } from '../../cli/trace/report.js';
import { renderReportText } from '../../cli/trace/report-text.js';
import type { SyscallsResult } from '../../probes/syscalls/syscalls.js';

/** A histogram with these counts at these slots (-1: the zero bucket). */
function histogram(counts: Record<number, number>): Log2Histogram {
  const slots = Array<number>(64).fill(0);
  for (const [slot, c] of Object.entries(counts)) if (Number(slot) >= 0) slots[Number(slot)] = c;
  return histogramFromCounts(counts[-1] ?? 0, slots);
}

/** [label, count, bar] of each line. */
function parse(lines: string[]): [string, number, string][] {
  return lines.map((l) => {
    const m = /^(.+?) +([\d,]+) \|(@*) *\|$/.exec(l);
    assert.ok(m, `a bar line: ${JSON.stringify(l)}`);
    return [m[1]!, Number(m[2]!.replaceAll(',', '')), m[3]!];
  });
}

describe('histogram bars', () => {
  it('labels each bucket with its range in ns, µs, ms and s', () => {
    assert.equal(bucketLabel(-1), '0');
    assert.equal(bucketLabel(0), '(0, 1ns]');
    assert.equal(bucketLabel(9), '(256ns, 512ns]');
    assert.equal(bucketLabel(10), '(512ns, 1.0µs]');
    assert.equal(bucketLabel(15), '(16µs, 33µs]');
    assert.equal(bucketLabel(22), '(2.1ms, 4.2ms]');
    assert.equal(bucketLabel(30), '(537ms, 1.1s]');
  });

  it('draws one line per bucket from the first non-empty to the last, the fastest first, gaps included', () => {
    const lines = parse(renderHistogramBars(histogram({ 9: 30, 10: 12_000, 22: 300 })));
    assert.deepEqual(
      lines.map(([label]) => label),
      Array.from({ length: 14 }, (_, i) => bucketLabel(9 + i)),
    );
    assert.deepEqual(
      lines.map(([, count]) => count),
      [30, 12_000, ...Array<number>(11).fill(0), 300],
    );
  });

  it('scales bars to the largest bucket, proportional to counts, a non-empty bucket never bare', () => {
    const counts = { 3: 40, 4: 10, 5: 20, 6: 0, 7: 1, 8: 5 };
    const lines = parse(renderHistogramBars(histogram(counts)));
    for (const [, count, bar] of lines) {
      if (count === 0) assert.equal(bar, '');
      else assert.equal(bar.length, Math.max(1, Math.round((count / 40) * BAR_WIDTH)), `${count}: ${bar}`);
    }
    assert.deepEqual(lines.map(([, , bar]) => bar.length), [40, 10, 20, 0, 1, 5]);
  });

  it('aligns the counts and the bars in columns, the zero bucket included', () => {
    const lines = renderHistogramBars(histogram({ [-1]: 7, 0: 3, 1: 1_234_567 }), 20);
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^0 /);
    assert.equal(new Set(lines.map((l) => l.indexOf('|'))).size, 1, lines.join('\n'));
    assert.equal(new Set(lines.map((l) => l.length)).size, 1);
    assert.match(lines[2]!, /1,234,567 \|@{20}\|$/);
  });

  it('draws nothing for an empty histogram', () => {
    assert.deepEqual(renderHistogramBars({ zeroCount: 0, buckets: [] }), []);
  });

  it('names a latency member in words', () => {
    assert.equal(memberWords('latencyNs'), 'latency');
    assert.equal(memberWords('serverLatencyNs'), 'server latency');
    assert.equal(memberWords('nxdomainLatencyNs'), 'nxdomain latency');
  });

  it('puts the totals\' histogram under its probe\'s lines in the report, and not under each target', () => {
    const latency = histogram({ 9: 90, 20: 10 });
    const syscalls: SyscallsResult = { calls: 100, errors: 0, latencyNs: { count: 100, histogram: latency }, topSyscalls: [{ key: 'read', count: 100 }] };
    const report = buildProfileReport({
      profileId: 'trace',
      probes: ['syscalls', 'exec'],
      failed: [],
      results: { syscalls: new Map([[1n, syscalls]]), exec: new Map([[1n, { execs: 1, exits: 1, topCommands: [] }]]) },
      targets: [
        { label: 'pid 1', cgroupId: 1n },
        { label: 'pid 2', cgroupId: 2n },
      ],
      top: 5,
    });
    const lines = renderReportText(report, 'heading').split('\n');
    const title = lines.indexOf('  latency histogram:');
    assert.ok(title > lines.findIndex((l) => l.startsWith('syscalls ')), 'under the syscalls line');
    assert.ok(title > lines.indexOf('    read        100'), 'after its top list');
    const bars = lines.slice(title + 1, title + 13);
    assert.deepEqual(bars, renderHistogramBars(latency).map((b) => `    ${b}`));
    assert.ok(lines[title + 13]!.startsWith('exec '), 'the next probe follows its bars');
    assert.equal(lines.filter((l) => l.includes('histogram:')).length, 1, 'totals only');
  });
});
