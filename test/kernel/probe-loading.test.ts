// Loading a probe happens off the event loop (BpfObject.loadAsync on a worker
// thread), and a verifier rejection travels as a structured error: the
// rejected program's name and its own verifier log, trimmed to its last
// useful lines by the time it reaches a NodeTracePlan status entry.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { BpfError, BpfObject } from '../../native/index.js';
import { ProbeManager } from '../../engine/probe-manager.js';
import { probeFailureMessage } from '../../agent/node-status.js';
import { probeObjectDirectory, probeObjectOpener } from '../../engine/probe-objects.js';
import type { ProbeDefinition } from '../../engine/probes/probe.js';
import { probeCatalog } from '../../engine/probes/catalog.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { requireKernel } from '../support/privileged.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/build/native-fixture.bpf.o', import.meta.url));
const REASON = "R0 invalid mem access 'map_value_or_null'";

test('the event loop keeps running while the largest probe object loads', async (t) => {
  if (!requireKernel(t)) return;
  const [largest] = Object.entries(probeCatalog)
    .map(([name, definition]) => ({ name, definition: definition as ProbeDefinition, bytes: statSync(join(probeObjectDirectory(), definition.objectFile)).size }))
    .sort((a, b) => b.bytes - a.bytes);
  assert.ok(largest !== undefined);
  const object = probeObjectOpener((file) => BpfObject.open(file))(largest.definition);
  t.after(() => object.close());
  largest.definition.configure?.(object);

  const delay = monitorEventLoopDelay({ resolution: 1 });
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  // The first timers of a process run late while it warms up; measure the load only.
  await new Promise((resolve) => setTimeout(resolve, 50));
  ticks = 0;
  delay.enable();
  const started = performance.now();
  await object.loadAsync();
  const loadMs = performance.now() - started;
  delay.disable();
  clearInterval(ticker);

  const maxDelayMs = delay.max / 1e6;
  console.log(
    `${largest.name} (${largest.bytes} bytes) loaded in ${loadMs.toFixed(1)} ms; ` +
      `${ticks} timer ticks meanwhile; event-loop delay max ${maxDelayMs.toFixed(2)} ms`,
  );
  assert.equal(object.loaded, true);
  assert.ok(ticks > 0, 'timers ran during the load');
  // A synchronous load would hold the loop for the whole load.
  assert.ok(maxDelayMs < loadMs / 2, `the loop stalled ${maxDelayMs} ms of a ${loadMs} ms load`);
});

test('two objects loading at once: only the rejected one fails, with its own program and log', async (t) => {
  if (!requireKernel(t)) return;
  const rejected = BpfObject.open(FIXTURE);
  const accepted = BpfObject.open(FIXTURE);
  t.after(() => {
    rejected.close();
    accepted.close();
  });
  accepted.setAutoload('fixture_rejected', false);
  const [bad, good] = await Promise.allSettled([rejected.loadAsync(), accepted.loadAsync()]);
  assert.equal(good?.status, 'fulfilled');
  assert.equal(accepted.loaded, true);
  assert.ok(bad?.status === 'rejected' && bad.reason instanceof BpfError);
  assert.equal(bad.reason.program, 'fixture_rejected');
  assert.match(bad.reason.verifierLog ?? '', new RegExp(`${REASON}\n`));
});

test('close() during a load frees the object when the load ends', async (t) => {
  if (!requireKernel(t)) return;
  const object = BpfObject.open(FIXTURE);
  object.setAutoload('fixture_rejected', false);
  const loading = object.loadAsync();
  assert.throws(() => object.map('counts'), /is loading; await loadAsync\(\) first/);
  object.close();
  assert.equal(object.closed, true);
  await assert.rejects(loading, /was closed while it loaded/);
});

test('a verifier rejection reaches the status entry as the program and the last lines before the statistics', async (t) => {
  if (!requireKernel(t)) return;
  const pod = new LocalPod();
  const open = probeObjectOpener((file) => BpfObject.open(file));
  // exec's object replaced by one with a program the verifier rejects
  const manager = new ProbeManager({
    catalog: probeCatalog,
    openObject: (definition, name) => (name === 'exec' ? BpfObject.open(FIXTURE) : open(definition)),
  });
  t.after(() => {
    manager.close();
    pod.remove();
  });
  const state = await manager.register('p', { probes: [{ name: 'exec' }, { name: 'oomkill' }], targets: [pod.cgroupId] });
  assert.deepEqual(state.active, ['oomkill'], 'the other probe loads');
  const [failure] = state.failed;
  assert.ok(failure !== undefined);
  assert.equal(failure.program, 'fixture_rejected');
  assert.match(failure.message, /^the kernel's verifier rejected a program of this probe/);
  assert.match(failure.message, /the verifier rejected program 'fixture_rejected'/);
  const excerpt = failure.verifierLog ?? '';
  assert.equal(excerpt.split('\n').at(-1), REASON, 'the excerpt ends with the reason, not the statistics');
  assert.doesNotMatch(excerpt, /processed \d+ insns|verification time|stack depth/);

  const entry = probeFailureMessage(failure);
  console.log(`status entry (${entry.length} chars): ${entry}`);
  assert.ok(entry.endsWith(REASON), 'the status entry ends with the reason');
});
