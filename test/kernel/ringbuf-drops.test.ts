// Ring-buffer drops against the live kernel: the exec probe with a one-page
// ring nobody reads loses events, and every event of a pod's exec loop is
// either delivered or counted in ringbuf_drops; read promptly through the
// agent's ProbeManager, a normal-size ring loses none and the meter says so.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { turnOnBpfStats } from '../../engine/cost/bpf-stats.js';
import { CostMeter } from '../../engine/cost/cost-meter.js';
import { eventsByProbe } from '../../engine/cost/probe-events.js';
import { ringBufferDrops } from '../../engine/cost/ringbuf-drops.js';
import { encodeTargetKey, encodeTargetValue, ProbeManager } from '../../engine/probe-manager.js';
import { probeObjectDirectory, probeObjectOpener } from '../../engine/probe-objects.js';
import { exec } from '../../probes/exec/exec.js';
import { BpfObject, RingBuffer } from '../../native/index.js';
import { kernelTestBlocker, requireKernel } from '../support/privileged.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';

const RUNS = 2000;
// LocalPod.execTimes: a shell moves itself into the pod (its exec is outside),
// then runs the command RUNS times, then exits there.
const EXECS = RUNS;
const EXITS = RUNS + 1;
/** A ringbuf is a power-of-2 multiple of the page size: one page is the least. */
const ONE_PAGE = 4096;

describe('ring-buffer drops on the kernel', () => {
  const pods: LocalPod[] = [];
  before(() => {
    if (kernelTestBlocker() === undefined) pods.push(new LocalPod());
  });
  after(() => pods.forEach((p) => p.remove()));

  it('a one-page ring nobody reads: every exec and exit is delivered or counted as dropped', async (t) => {
    if (!requireKernel(t)) return;
    const [pod] = pods as [LocalPod];
    const object = BpfObject.open(path.join(probeObjectDirectory(), 'exec.bpf.o'));
    try {
      object.setMaxEntries('events', ONE_PAGE);
      await object.loadAsync();
      object.map('targets').update(encodeTargetKey(pod.cgroupId), encodeTargetValue({ mask: 1n, slot: 0, flags: 0 }));
      object.program('loupe_exec').attach();
      object.program('loupe_exit').attach();
      // Nothing reads the ring while the loop runs (a RingBuffer would, on the event loop): it only fills.
      await pod.execTimes(RUNS);
      const kinds = new Map<number, number>();
      const ring = new RingBuffer(object.map('events'), (record) => {
        const kind = record.readUInt32LE(24); // struct exec_event: after three u64s
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      });
      ring.consume();
      ring.close();
      const delivered = [...kinds.values()].reduce((sum, n) => sum + n, 0);
      const drops = ringBufferDrops(object.maps());
      t.diagnostic(`${delivered} delivered (${kinds.get(1) ?? 0} exec, ${kinds.get(2) ?? 0} exit), ${drops} dropped`);
      assert.ok(drops !== undefined, 'the exec probe counts its drops');
      assert.ok(drops > 0n, 'a one-page ring cannot hold the loop');
      assert.ok(delivered > 0, 'the ring held what fit before it filled');
      assert.equal(BigInt(delivered) + drops, BigInt(EXECS + EXITS));
    } finally {
      object.close();
    }
  });

  it('a normal ring read promptly through the agent: no drops, and the meter reports 0', async (t) => {
    if (!requireKernel(t)) return;
    const [pod] = pods as [LocalPod];
    const manager = new ProbeManager({ catalog: { exec: exec.kernel }, openObject: probeObjectOpener((file) => BpfObject.open(file)) });
    const meter = new CostMeter(turnOnBpfStats());
    try {
      await manager.register('p', { probes: [{ name: 'exec' }], targets: [pod.cgroupId] });
      const measure = () => meter.measure(manager.loadedObjects(), new Map([['p', eventsByProbe(manager.results('p'))]]));
      measure();
      await pod.execTimes(RUNS);
      manager.collect();
      const report = measure();
      assert.ok(report);
      const result = manager.results('p').exec?.get(pod.cgroupId);
      assert.equal(result?.execs, EXECS, 'every exec delivered');
      assert.equal(result?.exits, EXITS, 'every exit delivered');
      assert.equal(report.node.ringBufferDrops, 0);
      assert.equal(report.profiles.get('p')?.cost.ringBufferDrops, 0);
    } finally {
      meter.close();
      manager.close();
    }
  });
});
