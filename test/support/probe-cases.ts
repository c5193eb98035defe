// The per-probe kernel test table, in the style of Inspektor Gadget's probe
// tests: load the probe once, then run each named case in a fresh
// kubelet-shaped pod with a workload of known ground truth, targeted or not.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { mergeProbeResults } from '../../api/merge.js';
import type { OptionsOf, ProbeName, ResultOf } from '../../probes/registry.js';
import { probeObjectDirectory } from '../../engine/probe-objects.js';
import type { KernelOf } from '../../engine/probes/catalog.js';
import { TARGETS_MAP, type ProbeEvent } from '../../engine/probes/probe.js';
import { BpfObject } from '../../native/index.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';

export interface ProbeCase<N extends ProbeName> {
  name: string;
  /** false: the pod is not in the targets map and must report nothing. */
  targeted: boolean;
  workload(pod: LocalPod): Promise<void>;
  /** Collect again until this holds (completions may land after the workload exits); default: once. */
  settled?(result: ResultOf<N>): boolean;
  check(result: ResultOf<N> | undefined, events: ProbeEvent[], pod: LocalPod): void;
}

const SETTLE_TIMEOUT_MS = 3000;
const UNTARGETED_GRACE_MS = 250;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function targetEntry(cgroupId: bigint, slot: number): [Buffer, Buffer] {
  const key = Buffer.alloc(8);
  key.writeBigUInt64LE(cgroupId);
  const value = Buffer.alloc(16);
  value.writeBigUInt64LE(1n << BigInt(slot % 64), 0);
  value.writeUInt32LE(slot, 8);
  return [key, value];
}

/**
 * Loads the probe (its descriptor's kernel side, or another) once, then runs
 * each case in a fresh pod as a subtest. `options`: the profiles' options its
 * kernel-side settings are applied for, as the probe manager applies them
 * (none: defaults).
 */
export async function runProbeCases<N extends ProbeName>(
  t: TestContext,
  descriptor: { name: N; kernel: KernelOf<N> },
  cases: ProbeCase<N>[],
  options: readonly OptionsOf<N>[] = [],
) {
  const probe = descriptor.kernel;
  const obj = BpfObject.open(path.join(probeObjectDirectory(), probe.objectFile));
  const events: ProbeEvent[] = [];
  try {
    probe.configure?.(obj);
    await obj.loadAsync();
    const targets = obj.map(TARGETS_MAP);
    probe.applyOptions?.(obj, options);
    const links = probe.attach(obj, options);
    const reader = probe.reader(obj, (e) => events.push(e));
    try {
      const loaded = obj.programs().map((p) => p.name);
      assert.ok(loaded.length > 0 && loaded.every((name) => name.startsWith('loupe_')), `program names: ${loaded}`);
      let slot = 0;
      for (const c of cases) {
        await t.test(c.name, async () => {
          const pod = new LocalPod();
          const [key, value] = targetEntry(pod.cgroupId, slot++);
          try {
            if (c.targeted) {
              targets.update(key, value);
              probe.syncTarget?.(obj, pod.cgroupId, value);
            }
            reader.collect(); // start from zero
            events.length = 0;
            await c.workload(pod);
            if (!c.targeted) await sleep(UNTARGETED_GRACE_MS);
            const deadline = Date.now() + SETTLE_TIMEOUT_MS;
            const seen: ResultOf<N>[] = [];
            for (;;) {
              const r = reader.collect().get(pod.cgroupId);
              if (r) seen.push(r);
              const merged = seen.length > 0 ? (mergeProbeResults(descriptor.name, seen) as ResultOf<N>) : undefined;
              if (c.settled === undefined || (merged !== undefined && c.settled(merged)) || Date.now() > deadline) {
                c.check(merged, events.filter((e) => e.cgroupId === pod.cgroupId), pod);
                break;
              }
              await sleep(50);
            }
          } finally {
            if (c.targeted) {
              targets.delete(key);
              probe.syncTarget?.(obj, pod.cgroupId, undefined);
            }
            pod.remove();
          }
        });
      }
    } finally {
      reader.close();
      for (const link of links) link.destroy();
    }
  } finally {
    obj.close();
  }
}

