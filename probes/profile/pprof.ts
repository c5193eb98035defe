// Folded stacks → a gzipped pprof Profile (github.com/google/pprof's
// profile.proto), the format `go tool pprof`, Pyroscope, Parca and most
// profilers read. Two sample types, as `perf`-based profilers report them:
// samples/count and cpu/nanoseconds. The time is each stack's own, summed
// sample by sample with the period in force when it was taken: the node's rate
// changes mid-run, so samples × today's period would misstate earlier time.
import { gzipSync } from 'node:zlib';
import { Function as PprofFunction, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { samplingPeriodNs, type FoldedStacks } from './stacks.js';

export interface PprofOptions {
  /** When the samples were taken, for the profile's time_nanos and duration_nanos. */
  startMs?: number;
  durationMs?: number;
}

/** Builds the pprof Profile: one Function and Location per distinct frame text, leaf first in each sample. */
export function foldedToPprof(folded: FoldedStacks, options: PprofOptions = {}): Profile {
  const strings = new StringTable();
  const functions: PprofFunction[] = [];
  const locations: Location[] = [];
  const locationIds = new Map<string, number>();
  const locationOf = (frame: string): number => {
    let id = locationIds.get(frame);
    if (id === undefined) {
      id = locations.length + 1;
      const name = strings.dedup(frame);
      functions.push(new PprofFunction({ id, name, systemName: name }));
      locations.push(new Location({ id, line: [new Line({ functionId: id })] }));
      locationIds.set(frame, id);
    }
    return id;
  };
  const samples = [...folded.stacks].map(
    ([stack, total]) =>
      new Sample({ locationId: stack.split(';').reverse().map(locationOf), value: [total.samples, total.cpuNs] }),
  );
  return new Profile({
    sampleType: [
      new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }),
      new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    ],
    sample: samples,
    location: locations,
    function: functions,
    stringTable: strings,
    periodType: new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    // The period now, for tools that show one; the cpu values do not derive from it.
    period: samplingPeriodNs(folded.frequencyHz),
    timeNanos: BigInt(Math.round(options.startMs ?? 0)) * 1_000_000n,
    durationNanos: BigInt(Math.round(options.durationMs ?? 0)) * 1_000_000n,
  });
}

/** The .pb.gz file: the encoded profile, gzipped as pprof tools expect. */
export function encodePprof(folded: FoldedStacks, options: PprofOptions = {}): Buffer {
  return gzipSync(foldedToPprof(folded, options).encode());
}
