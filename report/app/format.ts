// Labels the charts share: latency slot bounds and times, as people read them.

/** Nanoseconds in the largest unit that keeps the number at least 1: 3.1ms, 250ns. */
export function formatNs(ns: number): string {
  const units: [number, string][] = [
    [1e9, 's'],
    [1e6, 'ms'],
    [1e3, 'µs'],
  ];
  for (const [size, unit] of units) if (ns >= size) return `${Number((ns / size).toPrecision(3))}${unit}`;
  return `${Math.round(ns)}ns`;
}

/** The latency range a histogram slot holds: (2^(k-1), 2^k] ns; slot -1 is exactly zero. */
export function slotRange(slot: number): string {
  if (slot === -1) return '0';
  if (slot === 0) return '1ns';
  return `(${formatNs(2 ** (slot - 1))}, ${formatNs(2 ** slot)}]`;
}

export function formatClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

export const formatCount = (n: number): string => n.toLocaleString('en-US');
