import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramCount, mergeHistograms, summarizeLatency, type Log2Histogram } from '../../api/histogram.js';
import type { ProbeResults } from '../../api/results.js';
import { advanceTimeline, coarsenTimeline, columnHistogram, emptyTimeline, extendTimeline, TIMELINE_COLUMNS, type Timeline } from '../../api/timeline.js';

const START = Date.parse('2026-12-07T10:00:00Z');

/** Cumulative syscalls results: `calls` calls whose latencies fill `histogram`. */
function syscalls(histogram: Log2Histogram): ProbeResults {
  const calls = histogramCount(histogram);
  return { syscalls: { calls, errors: 0, latencyNs: summarizeLatency(histogram), topSyscalls: [] } };
}

function latencySeries(t: Timeline) {
  const s = t.latency.find((l) => l.probe === 'syscalls' && l.member === 'latencyNs');
  assert.ok(s, 'a syscalls latency series');
  return s;
}

/** Feeds cumulative histograms at 10 s steps; returns the timeline and the last cumulative histogram. */
function feed(steps: Log2Histogram[], columnMs = 10_000): { timeline: Timeline; total: Log2Histogram } {
  let timeline = emptyTimeline(START, columnMs);
  let previous: ProbeResults | undefined;
  let total: Log2Histogram = { zeroCount: 0, buckets: [] };
  steps.forEach((added, i) => {
    total = mergeHistograms(total, added);
    const current = syscalls(total);
    timeline = advanceTimeline(timeline, previous, current, START + i * 10_000 + 5_000);
    previous = current;
  });
  return { timeline, total };
}

describe('timeline', () => {
  it('puts what each interval gained in its own column, and the columns add up to the total', () => {
    const steps = [
      { zeroCount: 0, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1] },
      { zeroCount: 0, buckets: [] },
      { zeroCount: 2, buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7] },
    ];
    const { timeline, total } = feed(steps);
    assert.equal(timeline.columns, 3);
    const series = latencySeries(timeline);
    assert.deepEqual(columnHistogram(series, 0), { zeroCount: 0, buckets: steps[0]!.buckets });
    assert.deepEqual(series.columns[1], []);
    assert.equal(histogramCount(columnHistogram(series, 2)), 9);
    const summed = mergeHistograms(...series.columns.map((_, i) => columnHistogram(series, i)));
    assert.deepEqual(summed, total);
    const calls = timeline.counts.find((c) => c.member === 'calls');
    assert.deepEqual(calls?.columns, [4, 0, 9]);
  });

  it('returns the same timeline when nothing was gained, so the status does not change', () => {
    const { timeline, total } = feed([{ zeroCount: 0, buckets: [0, 4] }]);
    const same = advanceTimeline(timeline, syscalls(total), syscalls(total), START + 99_000);
    assert.equal(same, timeline);
  });

  it('extends to a time with empty columns for idle intervals, so the columns cover the session', () => {
    const { timeline } = feed([{ zeroCount: 0, buckets: [0, 4] }]);
    assert.equal(extendTimeline(timeline, START + 9_000), timeline, 'it has that column already');
    const later = extendTimeline(timeline, START + 35_000);
    assert.equal(later.columns, 4);
    assert.deepEqual(columnHistogram(latencySeries(later), 0), { zeroCount: 0, buckets: [0, 4] });
    assert.deepEqual(latencySeries(later).columns.slice(1), [[], [], []]);
    assert.deepEqual(later.counts.find((c) => c.member === 'calls')?.columns, [4, 0, 0, 0]);
  });

  it('counts a drop (an agent restarted) as nothing gained, not as a negative column', () => {
    const { timeline } = feed([{ zeroCount: 0, buckets: [0, 0, 5] }]);
    const after = advanceTimeline(timeline, syscalls({ zeroCount: 0, buckets: [0, 0, 5] }), syscalls({ zeroCount: 0, buckets: [0, 0, 2] }), START + 8_000);
    assert.ok(latencySeries(after).columns.flat().every((c) => c >= 0));
    assert.deepEqual(after.counts.find((c) => c.member === 'calls')?.columns, [5]);
  });

  it(`never holds more than ${TIMELINE_COLUMNS} columns: a longer session merges neighbours and doubles the column width`, () => {
    const steps = Array.from({ length: 150 }, (_, i) => ({ zeroCount: 0, buckets: [0, 0, 0, i + 1] }));
    const { timeline, total } = feed(steps);
    assert.ok(timeline.columns <= TIMELINE_COLUMNS, `${timeline.columns} columns`);
    assert.equal(timeline.columnSeconds, 40);
    assert.equal(timeline.columns, Math.ceil(150 / 4));
    const series = latencySeries(timeline);
    assert.equal(series.columns.length, timeline.columns);
    assert.deepEqual(mergeHistograms(...series.columns.map((_, i) => columnHistogram(series, i))), total);
    // Column 0 now covers the first four intervals: 1 + 2 + 3 + 4.
    assert.equal(histogramCount(columnHistogram(series, 0)), 10);
  });

  it('extends past the last column by coarsening, never beyond its columns', () => {
    const { timeline } = feed([{ zeroCount: 0, buckets: [0, 4] }]);
    const hourLater = extendTimeline(timeline, START + 3_600_000);
    assert.ok(hourLater.columns <= TIMELINE_COLUMNS);
    assert.equal(hourLater.columnSeconds, 80);
    assert.deepEqual(columnHistogram(latencySeries(hourLater), 0), { zeroCount: 0, buckets: [0, 4] });
  });

  it('coarsens an odd number of columns, the last one alone', () => {
    const { timeline } = feed([1, 2, 3].map((n) => ({ zeroCount: 0, buckets: [n] })));
    const coarse = coarsenTimeline(timeline);
    assert.equal(coarse.columns, 2);
    assert.deepEqual(coarse.counts.find((c) => c.member === 'calls')?.columns, [3, 3]);
  });
});
