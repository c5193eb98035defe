// The profile probe: on-CPU stack sampling of traced cgroups. A software
// cpu-clock perf event per CPU runs profile.bpf.c, which counts samples
// per (cgroup, process, user stack, kernel stack) in the kernel; collect()
// drains the counts, symbolizes the stacks on the node and returns, per
// cgroup, the samples, their CPU time, the hottest leaf functions and the
// folded stacks.
//
// The sampling frequency is per node (one set of perf events serves every
// profile): the highest `frequency` of the profiles using the probe, each
// counting as this definition's frequencyHz (DEFAULT_PROFILE_FREQUENCY_HZ)
// when it gives none. A change re-attaches the perf events; the maps, and so
// the samples so far, stay. The kernel adds up each sample's own period, so
// CPU time is right across changes of rate; a sample count is not time. Stacks are symbolized at collect time,
// so a process that exited in between shows its frames as [unknown].
//
// OTLP: the OpenTelemetry JS SDK at the version we use has no profiles
// signal, so profiles are not exported through OTLP; they are downloadable as
// pprof or folded text (download.ts).
import { readFileSync } from 'node:fs';
import { BpfError, PerfSoftwareEvent, possibleCpus, type BpfLink, type BpfMap } from '../../native/index.js';
import { Symbolizer, type Frame, type ProcessSymbolizer } from '../../engine/symbolize/symbolizer.js';
import { decodeProfileCount, decodeProfileKey, decodeStack, encodeStackId, stackIdLost, type ProfileKey } from './decode.js';
import { ProfileAggregator, foldStack } from './stacks.js';
import type { ProbeDefinition } from '../../engine/probes/probe.js';
import type { ProfileOptions, ProfileResult } from './profile.js';

export const DEFAULT_PROFILE_FREQUENCY_HZ = 19;
export const MAX_PROFILE_FREQUENCY_HZ = 999;

export interface ProfileProbeDefinition extends ProbeDefinition<ProfileResult, ProfileOptions> {
  /** Samples per second per CPU for a profile that gives no frequency. */
  readonly frequencyHz: number;
}

/** The one rate that serves every profile sharing the perf events: the highest any asks for. */
export function samplingFrequencyHz(specs: readonly ProfileOptions[], defaultHz: number): number {
  return specs.reduce((hz, spec) => Math.max(hz, spec.frequency ?? defaultHz), specs.length === 0 ? defaultHz : 1);
}

/** CPUs in a list like "0-3,6" (/sys/devices/system/cpu/online). */
export function parseCpuList(text: string): number[] {
  return text
    .trim()
    .split(',')
    .filter((part) => part !== '')
    .flatMap((part) => {
      const [from, to] = part.split('-').map(Number);
      return Array.from({ length: (to ?? from!) - from! + 1 }, (_, i) => from! + i);
    });
}

function onlineCpus(): Set<number> {
  try {
    return new Set(parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8')));
  } catch {
    return new Set(Array.from({ length: possibleCpus() }, (_, i) => i));
  }
}

const LOST_FRAME: Frame = { name: '[lost]', module: '[lost]', kernel: false };

/**
 * Reads the stacks a batch of keys refers to, then frees them in the kernel
 * so the map does not fill. A sample taken between the drain and the free
 * finds its stack gone at the next collect: it shows as [lost].
 */
function takeStacks(stacksMap: BpfMap, keys: readonly ProfileKey[]): Map<number, bigint[] | undefined> {
  const stacks = new Map<number, bigint[] | undefined>();
  for (const k of keys) {
    for (const id of [k.userStackId, k.kernelStackId]) {
      if (id < 0 || stacks.has(id)) continue;
      const value = stacksMap.lookup(encodeStackId(id));
      stacks.set(id, value === undefined ? undefined : decodeStack(value));
    }
  }
  for (const [id, stack] of stacks) if (stack !== undefined) stacksMap.delete(encodeStackId(id));
  return stacks;
}

/** The addresses of a stack id: none for -EFAULT, undefined when the stack was lost. */
function stackOf(stacks: ReadonlyMap<number, bigint[] | undefined>, id: number): bigint[] | undefined {
  if (id < 0) return stackIdLost(id) ? undefined : [];
  return stacks.get(id);
}

export function createProfileProbe(frequencyHz = DEFAULT_PROFILE_FREQUENCY_HZ): ProfileProbeDefinition {
  if (!Number.isInteger(frequencyHz) || frequencyHz < 1 || frequencyHz > MAX_PROFILE_FREQUENCY_HZ) {
    throw new RangeError(`profile frequency must be an integer from 1 to ${MAX_PROFILE_FREQUENCY_HZ} Hz, got ${frequencyHz}`);
  }
  return {
    objectFile: 'profile.bpf.o',
    frequencyHz,

    attachSetting: (specs) => samplingFrequencyHz(specs, frequencyHz),

    attach(obj, specs = []) {
      const frequency = samplingFrequencyHz(specs, frequencyHz);
      const program = obj.program('loupe_profile');
      const online = onlineCpus();
      const links: BpfLink[] = [];
      try {
        for (let cpu = 0; cpu < possibleCpus(); cpu++) {
          if (!online.has(cpu)) continue;
          try {
            links.push(program.attachPerfEvent({ cpu, type: 'software', config: PerfSoftwareEvent.cpuClock, frequency }));
          } catch (err) {
            // A CPU that went offline since we looked has nothing to sample.
            if (!(err instanceof BpfError && err.code === 'ENODEV')) throw err;
          }
        }
        if (links.length === 0) throw new Error('profile: no online CPU to sample');
      } catch (err) {
        for (const link of links) link.destroy();
        throw err;
      }
      return links;
    },

    reader(obj) {
      const counts = obj.map('counts');
      const stacksMap = obj.map('stacks');
      const symbolizer = new Symbolizer();
      return {
        collect() {
          const drained = counts.lookupAndDeleteBatch().map(([k, v]) => ({ key: decodeProfileKey(k), count: decodeProfileCount(v) }));
          const stacks = takeStacks(stacksMap, drained.map((d) => d.key));
          const processes = new Map<number, ProcessSymbolizer>();
          const aggregator = new ProfileAggregator();
          for (const { key, count } of drained) {
            let proc = processes.get(key.tgid);
            if (proc === undefined) processes.set(key.tgid, (proc = symbolizer.process(key.tgid)));
            const userStack = stackOf(stacks, key.userStackId);
            const kernelStack = stackOf(stacks, key.kernelStackId);
            const user = userStack === undefined ? [LOST_FRAME] : proc.frames(userStack);
            const kernel = kernelStack === undefined ? [{ ...LOST_FRAME, kernel: true }] : symbolizer.kernelFrames(kernelStack);
            const leaf = kernel[0] ?? user[0] ?? LOST_FRAME;
            aggregator.add({ cgroupId: key.cgroupId, leaf, folded: foldStack(key.comm, user, kernel), count: count.samples, cpuNs: count.cpuNs });
          }
          return aggregator.drain();
        },
        close() {}, // no ring buffer: the maps go with the object
      };
    },
  };
}
