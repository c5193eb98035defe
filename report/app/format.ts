// What the charts format themselves: times on their axes and counts in their
// tooltips. Latency labels come with the view (report/report-view.ts).

export function formatClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

export const formatCount = (n: number): string => n.toLocaleString('en-US');
