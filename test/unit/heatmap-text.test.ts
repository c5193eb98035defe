// `loupe trace --heatmap`: a timeline's latency series drawn as terminal heat
// maps, in 256 colours or in shades, read back cell by cell.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramCount, mergeHistograms, summarizeLatency, type Log2Histogram } from '../../api/histogram.js';
import type { ProbeResults } from '../../api/results.js';
import { advanceTimeline, emptyTimeline, type Timeline } from '../../api/timeline.js';
import { COLOUR_RAMP, heatmapPalette, MARKS, renderHeatmap, renderHeatmaps, SHADES, type HeatmapPalette } from '../../cli/trace/heatmap-text.js';
import { bucketLabel } from '../../cli/trace/histogram-text.js';
import { parseTraceOptions, TRACE_USAGE } from '../../cli/trace/trace-options.js';

const START = Date.parse('2026-12-07T10:00:00Z');

/** A histogram with these counts at these slots. */
function histogram(counts: Record<number, number>): Log2Histogram {
  const slots = Array<number>(64).fill(0);
  for (const [slot, c] of Object.entries(counts)) slots[Number(slot)] = c;
  return { zeroCount: 0, buckets: slots };
}

/** A syscalls timeline of 1 s columns, column i gaining columns[i]. */
function timelineOf(columns: Record<number, number>[]): Timeline {
  let timeline = emptyTimeline(START, 1000);
  let previous: ProbeResults | undefined;
  let total: Log2Histogram = { zeroCount: 0, buckets: [] };
  columns.forEach((counts, i) => {
    total = mergeHistograms(total, histogram(counts));
    const current: ProbeResults = { syscalls: { calls: histogramCount(total), errors: 0, latencyNs: summarizeLatency(total), topSyscalls: [] } };
    timeline = advanceTimeline(timeline, previous, current, START + i * 1000 + 500);
    previous = current;
  });
  return timeline;
}

const ESCAPE = /\x1b\[[0-9;]*m/g;

interface Cell {
  /** 0 for empty, else 1.. by the palette's order. */
  intensity: number;
  mark: string | undefined;
}

/** The rows of one drawn heat map: label and cells, top row first. */
function readRows(text: string, palette: HeatmapPalette): { label: string; cells: Cell[] }[] {
  return text.split('\n').flatMap((line) => {
    const m = /^ *(\S.*?) │(.*)│$/.exec(line);
    if (m === null) return [];
    const cells = [...m[2]!.replace(/(\x1b\[[0-9;]*m)+$/, '').matchAll(/((?:\x1b\[[0-9;]*m)*)([^\x1b]{2})/g)].map(([, escapes, chars]): Cell => {
      if (palette === 'shades') {
        const intensity = SHADES.indexOf(chars![0]!) + 1;
        return { intensity, mark: chars![1] === chars![0] ? undefined : chars![1] };
      }
      const background = /48;5;(\d+)m/.exec(escapes!);
      return { intensity: background ? COLOUR_RAMP.indexOf(Number(background[1])) + 1 : 0, mark: chars![1] === ' ' ? undefined : chars![1] };
    });
    return [{ label: m[1]!, cells }];
  });
}

/** Counts 1, 30, 1,000 and 30,000 in slots 8..11, the busiest fastest; a second column the other way round. */
const ORDERED = [
  { 8: 30_000, 9: 1000, 10: 30, 11: 1 },
  { 8: 1, 9: 30, 10: 1000, 11: 30_000 },
];

describe('heat map text', () => {
  for (const palette of ['colour', 'shades'] as const) {
    it(`draws a row per bucket, the slowest on top, and a column per timeline column (${palette})`, () => {
      const timeline = timelineOf([{ 9: 5 }, {}, { 9: 5, 22: 2 }, { 12: 1 }]);
      const rows = readRows(renderHeatmaps(timeline, { palette }), palette);
      assert.deepEqual(
        rows.map((r) => r.label),
        Array.from({ length: 14 }, (_, i) => bucketLabel(22 - i)),
      );
      for (const r of rows) assert.equal(r.cells.length, timeline.columns, r.label);
      const filled = (slot: number) => rows.find((r) => r.label === bucketLabel(slot))!.cells.map((c) => c.intensity > 0);
      assert.deepEqual(filled(22), [false, false, true, false]);
      assert.deepEqual(filled(9), [true, false, true, false]);
      assert.deepEqual(filled(12), [false, false, false, true]);
      assert.deepEqual(filled(15), [false, false, false, false]);
    });

    it(`orders cells' intensities by their counts (${palette})`, () => {
      const rows = readRows(renderHeatmaps(timelineOf(ORDERED), { palette }), palette);
      const column = (i: number) => rows.map((r) => r.cells[i]!.intensity);
      // rows run slowest first: slots 11, 10, 9, 8
      const first = column(0);
      const second = column(1);
      assert.ok(first.every((v, i) => i === 0 || v > first[i - 1]!), `rising toward the busy fast bucket: ${first}`);
      assert.ok(second.every((v, i) => i === 0 || v < second[i - 1]!), `falling toward the quiet fast bucket: ${second}`);
      assert.equal(Math.max(...first), palette === 'colour' ? COLOUR_RAMP.length : SHADES.length, 'the busiest cell is the most intense');
      assert.deepEqual(first, [...second].reverse(), 'same count, same intensity');
    });
  }

  it('uses 256-colour escapes only in colour, and shades without a single escape otherwise', () => {
    const timeline = timelineOf(ORDERED);
    const colour = renderHeatmaps(timeline, { palette: 'colour' });
    const shades = renderHeatmaps(timeline, { palette: 'shades' });
    const backgrounds = new Set([...colour.matchAll(/\x1b\[48;5;(\d+)m/g)].map((m) => Number(m[1])));
    assert.ok(backgrounds.size >= 4, `four counts, four colours: ${[...backgrounds]}`);
    for (const b of backgrounds) assert.ok(COLOUR_RAMP.includes(b), `${b} is on the ramp`);
    assert.doesNotMatch(shades, /\x1b/);
    assert.ok(SHADES.every((s) => shades.includes(s)), 'every shade used');
    assert.equal(colour.replace(ESCAPE, '').split('\n').length, shades.split('\n').length, 'the same layout');
  });

  it('marks each column\'s p50 and p99 buckets', () => {
    // 100 fast calls and 2 slow ones: p50 fast, p99 slow; then all in one bucket: both there
    const rows = readRows(renderHeatmaps(timelineOf([{ 9: 100, 20: 2 }, { 14: 7 }]), { palette: 'shades' }), 'shades');
    const at = (slot: number) => rows.find((r) => r.label === bucketLabel(slot))!.cells.map((c) => c.mark);
    assert.deepEqual(at(9), [MARKS.p50, undefined]);
    assert.deepEqual(at(20), [MARKS.p99, undefined]);
    assert.deepEqual(at(14), [undefined, MARKS.both]);
  });

  it('fits the terminal by showing the newest columns, and says so', () => {
    const columns = Array.from({ length: 60 }, (_, i): Record<number, number> => (i === 59 ? { 9: 1, 20: 1 } : { 9: 1 }));
    const timeline = timelineOf(columns);
    const text = renderHeatmaps(timeline, { palette: 'shades', width: 80 });
    for (const line of text.split('\n')) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    const rows = readRows(text, 'shades');
    const shown = rows[0]!.cells.length;
    assert.equal(shown, Math.floor((80 - bucketLabel(20).length - 3) / 2));
    assert.match(text, new RegExp(`^syscalls latency: last ${shown} of 60 columns of 1s, newest on the right$`, 'm'));
    assert.deepEqual(rows[0]!.cells.map((c) => c.intensity > 0), [...Array<boolean>(shown - 1).fill(false), true], 'the newest on the right');
    assert.match(text, new RegExp(`^ +${60 - shown}s +1m$`, 'm'), 'the time axis, from the first column shown to now');
    assert.equal(readRows(renderHeatmaps(timeline, { palette: 'shades' }), 'shades')[0]!.cells.length, 60, 'all without a width');
  });

  it('gives a legend of the counts each shade stands for', () => {
    const text = renderHeatmaps(timelineOf(ORDERED), { palette: 'shades' });
    const legend = /count: (.*?)   5 p50/.exec(text)?.[1];
    assert.ok(legend, text);
    const ranges = [...legend.matchAll(/(\S) ([\d,]+)(?:-([\d,]+))?/g)].map(([, shade, from, to]) => [
      shade,
      Number(from!.replaceAll(',', '')),
      Number((to ?? from)!.replaceAll(',', '')),
    ]);
    assert.deepEqual(ranges.map(([shade]) => shade), SHADES);
    assert.equal(ranges[0]![1], 1);
    assert.equal(ranges.at(-1)![2], 30_000);
    ranges.slice(1).forEach((r, i) => assert.equal(r[1], (ranges[i]![2] as number) + 1, 'contiguous'));
    assert.match(renderHeatmaps(timelineOf(ORDERED), { palette: 'colour' }), /count \(log scale\): 1 (\x1b\[48;5;\d+m {2}){12}\x1b\[0m 30,000/);
  });

  it('says when there is nothing to draw', () => {
    assert.equal(renderHeatmaps(emptyTimeline(START, 1000), { palette: 'shades' }), 'heat map: no latency measured yet');
    const quiet = timelineOf([{}]);
    assert.deepEqual(renderHeatmap(quiet, quiet.latency[0]!, { palette: 'shades' }), ['syscalls latency: nothing counted yet']);
  });

  it('draws in colour only on a terminal that claims 256 colours and has not asked for none', () => {
    assert.equal(heatmapPalette({ TERM: 'xterm-256color' }, true), 'colour');
    assert.equal(heatmapPalette({ TERM: 'xterm', COLORTERM: 'truecolor' }, true), 'colour');
    assert.equal(heatmapPalette({ TERM: 'tmux-256color' }, true), 'colour');
    assert.equal(heatmapPalette({ TERM: 'xterm-256color' }, false), 'shades', 'not a terminal');
    assert.equal(heatmapPalette({ TERM: 'xterm-256color', NO_COLOR: '1' }, true), 'shades');
    assert.equal(heatmapPalette({ TERM: 'dumb', COLORTERM: 'truecolor' }, true), 'shades');
    assert.equal(heatmapPalette({ TERM: 'xterm' }, true), 'shades', '8 colours');
    assert.equal(heatmapPalette({}, true), 'shades');
    assert.equal(heatmapPalette({ TERM: 'xterm-256color', NO_COLOR: '' }, true), 'colour', 'an empty NO_COLOR is unset');
  });
});

describe('the --heatmap flag', () => {
  it('is off unless given, and documented', () => {
    assert.equal(parseTraceOptions(['--pid', '1']).heatmap, undefined);
    assert.equal(parseTraceOptions(['--pid', '1', '--heatmap']).heatmap, true);
    assert.match(TRACE_USAGE, /^  --heatmap /m);
  });

  it('refuses JSON output, whose document has the timeline instead', () => {
    assert.throws(() => parseTraceOptions(['--pid', '1', '--heatmap', '--output', 'json']), /--heatmap draws on text output/);
  });
});
