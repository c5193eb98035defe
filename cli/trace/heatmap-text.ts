// Latency heat maps of a timeline for a terminal, after Brendan Gregg's: per
// latency series, a row per log2 bucket (the slowest on top), a column per
// timeline column (the newest on the right), each cell's intensity the
// count it holds, on a log scale so a rare slow mode shows beside a busy
// fast one. Cells are two characters wide: the second marks the column's
// p50 (5) and p99 (9) bucket without hiding the cell's intensity. Colour is
// the xterm 256-colour background ramp; without it, shades (░▒▓█).
import { columnHistogram, type LatencySeries, type Timeline } from '../../api/timeline.js';
import { formatCount } from '../../api/probe-format.js';
import { bucketLabel, memberWords, slotCounts } from './histogram-text.js';

export type HeatmapPalette = 'colour' | 'shades';

export interface HeatmapOptions {
  palette: HeatmapPalette;
  /** Characters per line; only the newest columns that fit are drawn. All columns when undefined. */
  width?: number;
}

/** Dark to light (purple, red, orange, yellow, white): brightness grows with the count on dark and light terminals alike. */
export const COLOUR_RAMP = [53, 89, 125, 161, 197, 203, 209, 215, 221, 227, 229, 231];
/** Ramp entries from here on are light: their marks are drawn in black, the darker ones' in white. */
const FIRST_LIGHT = 5;
export const SHADES = ['░', '▒', '▓', '█'];
const RESET = '\x1b[0m';
const CELL_WIDTH = 2;
export const MARKS = { p50: '5', p99: '9', both: '*' };

/**
 * Colour on a terminal that shows 256 colours; shades when stdout is not a
 * terminal, NO_COLOR is set (no-color.org), TERM is dumb or unset, or
 * neither TERM (…-256color) nor COLORTERM (truecolor) claims 256 colours.
 */
export function heatmapPalette(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): HeatmapPalette {
  const term = env.TERM ?? '';
  if (!isTTY || (env.NO_COLOR ?? '') !== '' || term === '' || term === 'dumb') return 'shades';
  return /^(truecolor|24bit)$/i.test(env.COLORTERM ?? '') || /256color|direct/.test(term) ? 'colour' : 'shades';
}

/** Intensity 1..levels of a count (0 for none): equal steps of log(count + 1) up to max. */
function level(count: number, max: number, levels: number): number {
  if (count <= 0) return 0;
  return Math.min(levels, Math.max(1, Math.ceil((levels * Math.log(count + 1)) / Math.log(max + 1))));
}

/** The counts each intensity stands for, [from, to], for the legend; levels no count reaches are left out. */
function levelRanges(max: number, levels: number): { level: number; from: number; to: number }[] {
  const lowest = (l: number): number => {
    let lo = 1;
    let hi = max + 1; // the smallest count at level l or above is in [lo, hi]
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (level(mid, max, levels) >= l) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  return Array.from({ length: levels }, (_, i) => ({ level: i + 1, from: lowest(i + 1), to: lowest(i + 2) - 1 })).filter(
    (r) => r.from <= r.to,
  );
}

/** The slot holding the q-quantile of counts by slot. */
function quantileSlot(counts: Map<number, number>, q: number): number | undefined {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  let seen = 0;
  for (const [slot, c] of counts) {
    seen += c;
    if (c > 0 && seen >= q * total) return slot;
  }
  return undefined;
}

/** A cell at intensity 1..levels of its palette (0: empty), with its mark if any. */
function cell(intensity: number, mark: string | undefined, palette: HeatmapPalette): string {
  if (palette === 'shades') {
    const shade = intensity === 0 ? ' ' : SHADES[intensity - 1]!;
    return `${shade}${mark ?? shade}`;
  }
  if (intensity === 0) return `${RESET}  `;
  const ramp = COLOUR_RAMP[intensity - 1]!;
  const markColour = intensity - 1 >= FIRST_LIGHT ? 16 : 231;
  return mark === undefined ? `\x1b[48;5;${ramp}m  ` : `\x1b[48;5;${ramp}m\x1b[38;5;${markColour}m ${mark}`;
}

function elapsed(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return m === 0 ? `${seconds}s` : `${m}m${seconds % 60 === 0 ? '' : `${seconds % 60}s`}`;
}

/** One series' heat map as lines: a title, the rows, a time axis and a legend. */
export function renderHeatmap(timeline: Timeline, series: LatencySeries, options: HeatmapOptions): string[] {
  const title = `${series.probe} ${memberWords(series.member)}`;
  const levels = options.palette === 'colour' ? COLOUR_RAMP.length : SHADES.length;
  const columnCounts = Array.from({ length: timeline.columns }, (_, i) => slotCounts(columnHistogram(series, i)));
  const slotsOf = (columns: Map<number, number>[]) => columns.flatMap((c) => [...c].filter(([, n]) => n > 0).map(([slot]) => slot));
  const everySlot = slotsOf(columnCounts);
  if (everySlot.length === 0) return [`${title}: nothing counted yet`];

  // Labels of every slot the series has, so the map does not shift sideways as old columns scroll out.
  const labelWidth = Math.max(...everySlot.map((s) => bucketLabel(s).length));
  const room = options.width === undefined ? timeline.columns : Math.floor((options.width - labelWidth - 3) / CELL_WIDTH);
  const shown = columnCounts.slice(-Math.max(1, room));
  const firstShown = timeline.columns - shown.length;
  const slots = slotsOf(shown);
  const span = shown.length === timeline.columns ? `${shown.length} columns` : `last ${shown.length} of ${timeline.columns} columns`;
  const heading = `${title}: ${span} of ${elapsed(timeline.columnSeconds)}, newest on the right`;
  if (slots.length === 0) return [heading, `${' '.repeat(labelWidth)}  nothing counted in these columns`];

  const max = Math.max(...shown.flatMap((c) => [...c.values()]));
  const marks = shown.map((c) => ({ p50: quantileSlot(c, 0.5), p99: quantileSlot(c, 0.99) }));
  const markAt = (i: number, slot: number): string | undefined => {
    const { p50, p99 } = marks[i]!;
    return p50 === slot && p99 === slot ? MARKS.both : p50 === slot ? MARKS.p50 : p99 === slot ? MARKS.p99 : undefined;
  };
  const highest = Math.max(...slots);
  const rows = Array.from({ length: highest - Math.min(...slots) + 1 }, (_, i) => highest - i).map((slot) => {
    const cells = shown.map((c, i) => cell(level(c.get(slot) ?? 0, max, levels), markAt(i, slot), options.palette));
    const end = options.palette === 'colour' ? RESET : '';
    return `${bucketLabel(slot).padStart(labelWidth)} │${cells.join('')}${end}│`;
  });

  const indent = ' '.repeat(labelWidth + 2);
  const from = elapsed(firstShown * timeline.columnSeconds);
  const to = elapsed(timeline.columns * timeline.columnSeconds);
  const axisWidth = shown.length * CELL_WIDTH;
  const axis = axisWidth > from.length + to.length ? `${from}${to.padStart(axisWidth - from.length)}` : to.padStart(axisWidth);

  const ranges = levelRanges(max, levels);
  const marksLegend = `${MARKS.p50} p50  ${MARKS.p99} p99  ${MARKS.both} both`;
  const legend =
    options.palette === 'colour'
      ? `count (log scale): ${formatCount(1)} ${ranges.map((r) => cell(r.level, undefined, 'colour')).join('')}${RESET} ${formatCount(max)}   ${marksLegend}`
      : `count: ${ranges.map((r) => `${SHADES[r.level - 1]} ${r.from === r.to ? formatCount(r.from) : `${formatCount(r.from)}-${formatCount(r.to)}`}`).join('  ')}   ${marksLegend}`;
  return [heading, ...rows, `${indent}${axis}`, `${indent}${legend}`];
}

/** Every latency series of the timeline as a heat map, one after another. */
export function renderHeatmaps(timeline: Timeline, options: HeatmapOptions): string {
  if (timeline.latency.length === 0) return 'heat map: no latency measured yet';
  return timeline.latency.map((s) => renderHeatmap(timeline, s, options).join('\n')).join('\n\n');
}
