// The ProbeManager on the real kernel: one program set per probe shared by
// profiles with different targets, exact per-profile counts from real execs
// in kubelet-shaped cgroups, and nothing left in the kernel afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BpfObject } from '../../native/index.js';
import { ProbeManager, type ProfileResults } from '../../engine/probe-manager.js';
import { probeObjectOpener } from '../../engine/probe-objects.js';
import { exec } from '../../probes/exec/exec.js';
import { probeCatalog } from '../../engine/probes/catalog.js';
import { files } from '../../probes/files/files.js';
import { kernelTestBlocker, requireKernel } from '../support/privileged.js';
import { bpfHandlesOf, kernelPrograms, remainingAfterRelease } from '../support/bpf-handles.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';

const openObject = probeObjectOpener((file) => BpfObject.open(file));
const catalog = { exec: exec.kernel, files: files.kernel };

function execsByCgroup(results: ProfileResults): Map<bigint, number> {
  return new Map([...(results.exec ?? new Map())].map(([id, r]) => [id, r.execs]));
}

describe('ProbeManager on the kernel', () => {
  const pods: Record<'A' | 'B' | 'C' | 'D', LocalPod> = {} as never;
  before(() => {
    if (kernelTestBlocker() !== undefined) return;
    for (const name of ['A', 'B', 'C', 'D'] as const) pods[name] = new LocalPod(name === 'C' ? 'guaranteed' : 'burstable');
  });
  after(() => Object.values(pods).forEach((p) => p.remove()));

  it('shares one exec program set between two profiles, each seeing only its pods', async (t) => {
    if (!requireKernel(t)) return;
    const { A, B, C, D } = pods;
    assert.deepEqual(bpfHandlesOf(process.pid), { progIds: [], linkIds: [] }, 'the test starts with nothing loaded');
    const manager = new ProbeManager({ catalog, openObject });
    try {
      assert.deepEqual((await manager.register('p1', { probes: [{ name: 'exec' }], targets: [A.cgroupId] })).active, ['exec']);
      assert.deepEqual((await manager.register('p2', { probes: [{ name: 'exec' }], targets: [B.cgroupId, C.cgroupId] })).active, ['exec']);

      const held = bpfHandlesOf(process.pid);
      const names = kernelPrograms().filter((p) => held.progIds.includes(p.id)).map((p) => p.name).sort();
      assert.deepEqual(names, ['loupe_exec', 'loupe_exit'], 'each program of the probe is loaded once');
      assert.equal(held.linkIds.length, 2, 'and attached once');

      await A.execTimes(3);
      await B.execTimes(5);
      await C.execTimes(2);
      await D.execTimes(4); // no profile targets D
      manager.collect();

      assert.deepEqual(execsByCgroup(manager.results('p1')), new Map([[A.cgroupId, 3]]));
      assert.deepEqual(execsByCgroup(manager.results('p2')), new Map([[B.cgroupId, 5], [C.cgroupId, 2]]));
      const a = manager.results('p1').exec?.get(A.cgroupId);
      assert.deepEqual(a?.topCommands, [{ key: '/bin/true', count: 3 }]);
      assert.equal(a?.exits, 3 + 1, 'each /bin/true and the shell that ran them');

      await manager.unregister('p1');
      assert.deepEqual(bpfHandlesOf(process.pid), held, 'p2 keeps the same programs and links');
      await A.execTimes(2); // A is no longer targeted
      await B.execTimes(1);
      manager.collect();
      assert.deepEqual(execsByCgroup(manager.results('p2')), new Map([[B.cgroupId, 6], [C.cgroupId, 2]]));

      await manager.unregister('p2');
      assert.deepEqual(bpfHandlesOf(process.pid), { progIds: [], linkIds: [] }, 'the last profile to leave detaches');
      assert.deepEqual(await remainingAfterRelease(held), { progIds: [], linkIds: [] }, 'and the kernel has freed them');
    } finally {
      manager.close();
    }
  });

  it('shares every probe of the catalog: each loupe_ program is loaded once for two profiles', async (t) => {
    if (!requireKernel(t)) return;
    const { A, B, C } = pods;
    const manager = new ProbeManager({ catalog: probeCatalog, openObject });
    try {
      const all = (['exec', 'syscalls', 'files', 'tcp'] as const).map((name) => ({ name }));
      assert.deepEqual((await manager.register('p1', { probes: all, targets: [A.cgroupId] })).failed, []);
      assert.deepEqual((await manager.register('p2', { probes: all, targets: [B.cgroupId, C.cgroupId] })).failed, []);
      const held = bpfHandlesOf(process.pid);
      const names = kernelPrograms().filter((p) => held.progIds.includes(p.id)).map((p) => p.name);
      assert.ok(names.length >= 4 && names.every((n) => n.startsWith('loupe_')), names.join(', '));
      assert.deepEqual([...new Set(names)].sort(), [...names].sort(), 'no program is loaded twice');
      await A.execTimes(2);
      await B.execTimes(1);
      manager.collect();
      assert.deepEqual(execsByCgroup(manager.results('p1')), new Map([[A.cgroupId, 2]]));
      assert.deepEqual(execsByCgroup(manager.results('p2')), new Map([[B.cgroupId, 1]]));
      assert.ok((manager.results('p1').syscalls?.get(A.cgroupId)?.calls ?? 0) > 0);
      manager.close();
      assert.deepEqual(await remainingAfterRelease(held), { progIds: [], linkIds: [] });
    } finally {
      manager.close();
    }
  });

  it('does not count for a profile what happened before it joined', async (t) => {
    if (!requireKernel(t)) return;
    const { A } = pods;
    const manager = new ProbeManager({ catalog, openObject });
    try {
      await manager.register('early', { probes: [{ name: 'exec' }], targets: [A.cgroupId] });
      await A.execTimes(4);
      await manager.register('late', { probes: [{ name: 'exec' }], targets: [A.cgroupId] });
      await A.execTimes(1);
      manager.collect();
      assert.equal(manager.results('early').exec?.get(A.cgroupId)?.execs, 5);
      assert.equal(manager.results('late').exec?.get(A.cgroupId)?.execs, 1);
    } finally {
      manager.close();
    }
  });

  it('keeps the other probes when one fails to load, and close() leaves nothing', async (t) => {
    if (!requireKernel(t)) return;
    const { A } = pods;
    const manager = new ProbeManager({
      catalog,
      openObject: (definition, name) =>
        name === 'files' ? BpfObject.open(Buffer.from('not an ELF object'), 'broken') : openObject(definition),
    });
    try {
      const state = await manager.register('p', { probes: [{ name: 'exec' }, { name: 'files' }], targets: [A.cgroupId] });
      assert.deepEqual(state.active, ['exec']);
      assert.equal(state.failed.length, 1);
      assert.equal(state.failed[0]?.probe, 'files');
      assert.ok(state.failed[0]!.message.length > 0);
      await A.execTimes(2);
      manager.collect();
      assert.equal(manager.results('p').exec?.get(A.cgroupId)?.execs, 2);
      await manager.update('p', { probes: [{ name: 'exec' }, { name: 'files' }], targets: [A.cgroupId] }); // retries files, still broken
    } finally {
      const held = bpfHandlesOf(process.pid);
      manager.close();
      assert.deepEqual(bpfHandlesOf(process.pid), { progIds: [], linkIds: [] });
      assert.deepEqual(await remainingAfterRelease(held), { progIds: [], linkIds: [] });
    }
  });

  it('loads two probes for one profile and close() detaches both', async (t) => {
    if (!requireKernel(t)) return;
    const { A } = pods;
    const manager = new ProbeManager({ catalog, openObject });
    const state = await manager.register('p', { probes: [{ name: 'exec' }, { name: 'files' }], targets: [A.cgroupId] });
    assert.deepEqual(state.failed, []);
    assert.deepEqual(state.active.sort(), ['exec', 'files']);
    const held = bpfHandlesOf(process.pid);
    assert.ok(held.linkIds.length > 2);
    await A.run('cat /etc/hostname > /dev/null; cat /loupe-no-such-file 2> /dev/null');
    manager.collect();
    assert.equal(manager.results('p').exec?.get(A.cgroupId)?.execs, 2);
    const paths = manager.results('p').files?.get(A.cgroupId)?.topPaths ?? [];
    assert.deepEqual(paths.find((e) => e.key === '/etc/hostname'), { key: '/etc/hostname', count: 1, errors: 0 });
    assert.deepEqual(paths.find((e) => e.key === '/loupe-no-such-file'), { key: '/loupe-no-such-file', count: 1, errors: 1 });
    manager.close();
    assert.deepEqual(bpfHandlesOf(process.pid), { progIds: [], linkIds: [] });
    assert.deepEqual(await remainingAfterRelease(held), { progIds: [], linkIds: [] });
  });
});
