// Go-style durations ("30s", "5m", "1h30m", "1.5h", "250ms"), the notation
// kubectl and Kubernetes users already type.
const MS_PER_UNIT: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds in a Go duration string; throws with the accepted form on anything else. */
export function parseDuration(text: string): number {
  const input = text.trim();
  if (input === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let consumed = 0;
  for (let match = part.exec(input); match !== null; match = part.exec(input)) {
    ms += Number(match[1]) * MS_PER_UNIT[match[2]!]!;
    consumed = part.lastIndex;
  }
  if (input.length === 0 || consumed !== input.length) {
    throw new Error(
      `invalid duration ${JSON.stringify(text)}: use a number and a unit (h, m, s, ms), e.g. 30s, 5m, 1h30m`,
    );
  }
  return ms;
}
