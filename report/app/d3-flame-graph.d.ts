// The part of d3-flame-graph's API the report uses (the package ships no types).
declare module 'd3-flame-graph' {
  export interface FlameFrame {
    data: { name: string; value: number };
    value: number;
    depth: number;
  }
  export interface FlameGraph {
    (selection: unknown): void;
    width(w: number): FlameGraph;
    cellHeight(h: number): FlameGraph;
    minFrameSize(px: number): FlameGraph;
    transitionDuration(ms: number): FlameGraph;
    sort(enabled: boolean): FlameGraph;
    label(f: (d: FlameFrame) => string): FlameGraph;
    setColorMapper(f: (d: FlameFrame, originalColor: string) => string): FlameGraph;
    setDetailsElement(element: HTMLElement | null): FlameGraph;
    search(term: string): void;
    clear(): void;
    resetZoom(): void;
  }
  export default function flamegraph(): FlameGraph;
}

// Stylesheets are bundled by esbuild beside the script.
declare module '*.css';
