// What the report page draws, computed before the page is written
// (report/report-view.ts) so the browser code only draws: no histogram math,
// no probe knowledge. Shared by the Node side and the browser bundle, so it
// imports nothing.

/** A sortable table: a top list, or the per-pod breakdown. */
export interface TableView {
  title: string;
  columns: { label: string; numeric: boolean }[];
  /** Cells as shown; numeric columns sort by `sortKeys` when given. */
  rows: { cells: string[]; sortKeys: (number | null)[] }[];
  /** Why the table is empty or short, when it is. */
  note?: string;
}

/** One log2 latency histogram over the session, and in total. */
export interface HeatmapView {
  /** e.g. "syscalls latencyNs". */
  id: string;
  title: string;
  description: string;
  startMs: number;
  columnSeconds: number;
  columns: number;
  /** Non-empty cells: column index, histogram slot k ((2^(k-1), 2^k] ns; -1 is zero), count. */
  cells: { column: number; slot: number; count: number }[];
  /** Per column, the p50 and p99 in ns and as read (null where the column is empty). */
  p50: (Percentile | null)[];
  p99: (Percentile | null)[];
  /** The whole session's histogram: every non-empty slot, its range as read, its count. */
  histogram: { slot: number; range: string; count: number }[];
  /** Labels of the slots from the one below the lowest drawn to the highest: upper bound ("1.02µs", "0" for the zero slot) and range. */
  slots: { slot: number; upper: string; range: string }[];
  /** Observations in the whole session, from the result (not the timeline). */
  total: number;
  /** Observations the timeline's columns hold (equal to total unless an agent restarted mid-session). */
  timelineTotal: number;
  /** "612,107 measured, p50 384ns, p99 510ns". */
  summary: string;
}

export interface Percentile {
  ns: number;
  label: string;
}

/** Counts of one probe per timeline column (execs, OOM kills, …). */
export interface CountTimelineView {
  id: string;
  title: string;
  startMs: number;
  columnSeconds: number;
  columns: number;
  series: { member: string; counts: number[]; total: number }[];
}

/** A flame graph node: frame name, samples under it, children. */
export interface FlameNode {
  name: string;
  value: number;
  children: FlameNode[];
}

export interface FlameView {
  title: string;
  /** Root: every sample; its children are what the folded stacks start with (the command). */
  root: FlameNode;
  /** The suffix that marks a kernel frame in the folded stacks. */
  kernelMarker: string;
  /** The name of the root's child holding the samples of stacks the top list left out (drawn grey). */
  leftOutFrame: string;
  note?: string;
}

export interface ProbeView {
  name: string;
  /** The probe's own summary lines (as `loupe trace` prints them). */
  summary: string[];
  heatmaps: HeatmapView[];
  counts?: CountTimelineView;
  flame?: FlameView;
  tables: TableView[];
}

export interface ReportView {
  title: string;
  headline?: string;
  generatedAt: string;
  facts: { label: string; value: string }[];
  /** What is missing or cut, said in words: the page is never blank. */
  notices: string[];
  probes: ProbeView[];
  pods?: TableView;
}
