// ProbeManager against fake BPF objects that behave like the kernel side: a
// simulated exec is counted only when its cgroup is in the object's targets map.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BpfError, type BpfObject } from '../../native/index.js';
import type { ProbeName } from '../../probes/registry.js';
import { emptyProbeResult } from '../../api/merge.js';
import type { ExecResult } from '../../probes/exec/exec.js';
import { histogramFromCounts, summarizeLatency } from '../../api/histogram.js';
import type { ProbeSpec } from '../../api/probes.js';
import type { ProbeDefinition, ProbeEvent } from '../../engine/probes/probe.js';
import type { OptionsOf } from '../../probes/registry.js';
import { samplingFrequencyHz } from '../../probes/profile/kernel.js';
import { TARGET_OWN_LATENCY, type SyscallsDelta } from '../../probes/syscalls/kernel.js';
import { syscalls } from '../../probes/syscalls/syscalls.js';
import {
  encodeTargetKey,
  encodeTargetValue,
  ProbeManager,
  TooManyProfilesError,
  TooManyTargetsError,
} from '../../engine/probe-manager.js';

interface KernelTarget {
  mask: bigint;
  slot: number;
  flags: number;
}

class FakeTargetsMap {
  constructor(readonly maxEntries: number) {}
  readonly entries = new Map<bigint, KernelTarget>();
  update(key: Buffer, value: Buffer): void {
    this.entries.set(key.readBigUInt64LE(), {
      mask: value.readBigUInt64LE(0),
      slot: value.readUInt32LE(8),
      flags: value.readUInt32LE(12),
    });
  }
  delete(key: Buffer): void {
    this.entries.delete(key.readBigUInt64LE());
  }
}

/** One fake probe type: counts execs per targeted cgroup, like exec.bpf.o. */
class FakeProbe {
  opened = 0;
  loads = 0;
  liveLinks = 0;
  liveObjects = 0;
  failLoad: Error | undefined;
  maxTargets = 1024;
  targets = new FakeTargetsMap(this.maxTargets);
  private pending = new Map<bigint, ExecResult>();
  private sink: ((e: ProbeEvent) => void) | undefined;

  constructor(readonly name: ProbeName) {}

  /** A process in cgroupId execs `command` n times. */
  exec(cgroupId: bigint, n: number, command = '/bin/true'): void {
    const target = this.targets.entries.get(cgroupId);
    if (target === undefined) return;
    const r = this.pending.get(cgroupId) ?? emptyProbeResult('exec');
    r.execs += n;
    r.topCommands = [{ key: command, count: n + (r.topCommands.find((e) => e.key === command)?.count ?? 0) }, ...r.topCommands.filter((e) => e.key !== command)];
    this.pending.set(cgroupId, r);
    this.sink?.({ probe: 'exec', cgroupId, profileMask: target.mask, timeMs: 0, attributes: {} });
  }

  definition(): ProbeDefinition {
    return {
      objectFile: `${this.name}.bpf.o`,
      attach: () => {
        this.liveLinks += 2;
        return [1, 2].map((id) => ({ id, destroy: () => void this.liveLinks-- })) as never;
      },
      reader: (_obj, onEvent) => {
        this.sink = onEvent;
        return {
          collect: () => {
            const out = this.pending;
            this.pending = new Map();
            return out as never;
          },
          close: () => void (this.sink = undefined),
        };
      },
    };
  }

  open(): BpfObject {
    this.opened++;
    this.liveObjects++;
    this.targets = new FakeTargetsMap(this.maxTargets);
    const object = {
      loadAsync: async () => {
        if (this.failLoad) throw this.failLoad;
        this.loads++;
      },
      map: (name: string) => {
        assert.equal(name, 'targets');
        return this.targets;
      },
      close: () => void this.liveObjects--,
    };
    return object as unknown as BpfObject;
  }
}

function setup(opts: { maxTopKeys?: number; events?: [ProbeEvent, string[]][] } = {}) {
  const fakes = { exec: new FakeProbe('exec'), syscalls: new FakeProbe('syscalls'), files: new FakeProbe('files'), tcp: new FakeProbe('tcp') };
  const catalog = Object.fromEntries(Object.entries(fakes).map(([n, f]) => [n, f.definition()]));
  const manager = new ProbeManager({
    catalog: catalog as never,
    openObject: (_def, name) => fakes[name as keyof typeof fakes].open(),
    onEvent: (event, ids) => opts.events?.push([event, ids]),
    maxTopKeys: opts.maxTopKeys,
  });
  return { manager, fakes, exec: fakes.exec };
}

const A = 1001n;
const B = 1002n;
const C = 1003n;
const D = 1004n;

function execs(manager: ProbeManager, profileId: string): Record<string, number> {
  const byCgroup = manager.results(profileId).exec ?? new Map();
  return Object.fromEntries([...byCgroup].map(([id, r]) => [String(id), r.execs]));
}

describe('ProbeManager', () => {
  it('loads a probe once and shares it between profiles through the targets map', async () => {
    const { manager, exec } = setup();
    const p1 = await manager.register('p1', { probes: [{ name: 'exec' }], targets: [A] });
    const p2 = await manager.register('p2', { probes: [{ name: 'exec' }], targets: [B, C] });
    assert.equal(exec.opened, 1);
    assert.equal(exec.loads, 1);
    assert.equal(exec.liveLinks, 2);
    assert.deepEqual([p1.slot, p2.slot], [0, 1]);
    assert.deepEqual(p1.active, ['exec']);
    assert.deepEqual(
      [...exec.targets.entries].sort(([x], [y]) => Number(x - y)),
      [
        [A, { mask: 0b01n, slot: 0, flags: 0 }],
        [B, { mask: 0b10n, slot: 1, flags: 0 }],
        [C, { mask: 0b10n, slot: 2, flags: 0 }],
      ],
    );
  });

  it('routes each cgroup’s counts to exactly the profiles that target it', async () => {
    const { manager, exec } = setup();
    await manager.register('p1', { probes: [{ name: 'exec' }], targets: [A, C] });
    await manager.register('p2', { probes: [{ name: 'exec' }], targets: [B, C] });
    exec.exec(A, 3);
    exec.exec(B, 5);
    exec.exec(C, 2);
    exec.exec(D, 7); // untargeted: the kernel never counts it
    manager.collect();
    exec.exec(A, 1);
    manager.collect();
    assert.deepEqual(execs(manager, 'p1'), { [String(A)]: 4, [String(C)]: 2 });
    assert.deepEqual(execs(manager, 'p2'), { [String(B)]: 5, [String(C)]: 2 });
    assert.equal(exec.targets.entries.get(C)?.mask, 0b11n);
  });

  it('does not give a profile counts from before it joined, nor after it left a cgroup', async () => {
    const { manager, exec } = setup();
    await manager.register('p1', { probes: [{ name: 'exec' }], targets: [A] });
    exec.exec(A, 3); // not collected yet when p2 joins
    await manager.register('p2', { probes: [{ name: 'exec' }], targets: [A] });
    exec.exec(A, 2);
    await manager.update('p2', { probes: [{ name: 'exec' }], targets: [B] });
    exec.exec(A, 10);
    manager.collect();
    assert.deepEqual(execs(manager, 'p1'), { [String(A)]: 15 });
    assert.deepEqual(execs(manager, 'p2'), { [String(A)]: 2 });
  });

  it('reuses profile bits and target slots, and detaches when the last profile leaves', async () => {
    const { manager, exec } = setup();
    await manager.register('p1', { probes: [{ name: 'exec' }], targets: [A, B] });
    await manager.register('p2', { probes: [{ name: 'exec' }], targets: [C] });
    assert.equal(exec.targets.entries.get(C)?.slot, 2);
    await manager.unregister('p1');
    assert.deepEqual([...exec.targets.entries.keys()], [C]);
    assert.equal(exec.liveLinks, 2, 'p2 still uses the probe');
    const p3 = await manager.register('p3', { probes: [{ name: 'exec' }], targets: [D] });
    assert.equal(p3.slot, 0, 'p1’s bit is reused');
    assert.equal(exec.targets.entries.get(D)?.slot, 0, 'the lowest free target slot is reused');
    assert.equal(exec.opened, 1);
    await manager.unregister('p2');
    await manager.unregister('p3');
    assert.equal(exec.liveLinks, 0);
    assert.equal(exec.liveObjects, 0);
    assert.deepEqual(manager.loadedProbes(), []);
    await manager.register('p4', { probes: [{ name: 'exec' }], targets: [A] });
    assert.equal(exec.opened, 2, 'a new profile loads the probe again');
    manager.close();
    assert.equal(exec.liveLinks, 0);
    assert.equal(exec.liveObjects, 0);
  });

  it('keeps other probes running when one fails to load, and says why per profile', async () => {
    const { manager, fakes } = setup();
    const verifierLog = 'R1 invalid mem access \'scalar\'\nprocessed 12 insns';
    fakes.files.failLoad = new BpfError('load files.bpf.o: EACCES (Permission denied)', 13, 'EACCES', verifierLog, undefined, 'loupe_open');
    const p1 = await manager.register('p1', { probes: [{ name: 'exec' }, { name: 'files' }], targets: [A] });
    const p2 = await manager.register('p2', { probes: [{ name: 'files' }], targets: [B] });
    assert.deepEqual(p1.active, ['exec']);
    assert.equal(p1.failed.length, 1);
    assert.equal(p1.failed[0]?.probe, 'files');
    assert.match(p1.failed[0]?.message ?? '', /^the kernel's verifier rejected a program of this probe.*\(load files\.bpf\.o: EACCES/);
    assert.equal(p1.failed[0]?.program, 'loupe_open');
    assert.equal(p1.failed[0]?.verifierLog, 'R1 invalid mem access \'scalar\'', 'the reason, without the statistics');
    assert.deepEqual(p2.active, []);
    assert.equal(p2.failed[0]?.probe, 'files');
    assert.equal(fakes.files.liveObjects, 0, 'the failed object is closed');
    fakes.exec.exec(A, 4);
    manager.collect();
    assert.deepEqual(execs(manager, 'p1'), { [String(A)]: 4 });
    fakes.files.failLoad = undefined;
    assert.deepEqual((await manager.update('p2', { probes: [{ name: 'files' }], targets: [B] })).active, ['files'], 'update retries');
    assert.deepEqual(manager.state('p1').failed, [], 'a probe that loads clears the failure for every profile');
    manager.close();
  });

  it('loads only the probes some profile asks for, and close() releases them all', async () => {
    const { manager, fakes } = setup();
    await manager.register('p1', { probes: [{ name: 'exec' }, { name: 'tcp' }], targets: [A] });
    assert.deepEqual(manager.loadedProbes().sort(), ['exec', 'tcp']);
    assert.equal(fakes.syscalls.opened + fakes.files.opened, 0);
    await manager.update('p1', { probes: [{ name: 'tcp' }], targets: [A] });
    assert.equal(fakes.exec.liveObjects, 0);
    manager.close();
    for (const f of Object.values(fakes)) assert.equal(f.liveLinks + f.liveObjects, 0, f.name);
  });

  it('hands rare events to the profiles whose bit was set when they happened', async () => {
    const events: [ProbeEvent, string[]][] = [];
    const { manager, exec } = setup({ events });
    await manager.register('p1', { probes: [{ name: 'exec' }], targets: [A, B] });
    await manager.register('p2', { probes: [{ name: 'exec' }], targets: [B] });
    exec.exec(A, 1);
    exec.exec(B, 1);
    assert.deepEqual(events.map(([e, ids]) => [e.cgroupId, ids]), [[A, ['p1']], [B, ['p1', 'p2']]]);
    manager.close();
  });

  it('bounds accumulated top lists, folding the rest so totals stay exact', async () => {
    const { manager, exec } = setup({ maxTopKeys: 3 });
    await manager.register('p1', { probes: [{ name: 'exec' }], targets: [A] });
    for (let i = 1; i <= 5; i++) exec.exec(A, i, `/bin/cmd${i}`);
    manager.collect();
    exec.exec(A, 1, '/bin/cmd1');
    manager.collect();
    const r = manager.results('p1').exec?.get(A);
    assert.deepEqual(r?.topCommands, [
      { key: '/bin/cmd5', count: 5 },
      { key: '/bin/cmd4', count: 4 },
      { key: '(other)', count: 7 },
    ]);
    assert.equal(r?.execs, 16);
    manager.close();
  });

  it('loads nothing for a profile with no targets on this node', async () => {
    const { manager, exec } = setup();
    assert.deepEqual((await manager.register('p1', { probes: [{ name: 'exec' }], targets: [] })).active, []);
    assert.equal(exec.opened, 0);
    assert.deepEqual((await manager.update('p1', { probes: [{ name: 'exec' }], targets: [A] })).active, ['exec']);
    assert.deepEqual((await manager.update('p1', { probes: [{ name: 'exec' }], targets: [] })).active, []);
    assert.equal(exec.liveObjects, 0);
    manager.close();
  });

  it('allows 64 profiles and says what to do about the 65th', async () => {
    const { manager } = setup();
    for (let i = 0; i < 64; i++) await manager.register(`p${i}`, { probes: [{ name: 'exec' }], targets: [A] });
    await assert.rejects(() => manager.register('p64', { probes: [{ name: 'exec' }], targets: [A] }), TooManyProfilesError);
    manager.close();
  });

  it('refuses, changing nothing, a profile whose targets would not fit the targets map', async () => {
    const { manager, exec } = setup();
    exec.maxTargets = 3;
    await manager.register('p1', { probes: [{ name: 'exec' }], targets: [A, B] });
    await assert.rejects(() => manager.register('p2', { probes: [{ name: 'exec' }], targets: [C, D] }), (err: Error) => {
      assert.ok(err instanceof TooManyTargetsError);
      assert.equal(err.message, 'cannot trace profile p2: probe exec would need 4 target cgroups on this node, its targets map holds 3; narrow the profiles\' pod selectors');
      return true;
    });
    assert.throws(() => manager.state('p2'), /not registered/);
    assert.deepEqual([...exec.targets.entries.keys()], [A, B]);
    await manager.register('p2', { probes: [{ name: 'exec' }], targets: [A, C] });
    assert.equal(exec.targets.entries.size, 3);
    manager.close();
  });

  it('asks a probe’s target linker for links after each change of targets and each collect, and destroys them on unload', async () => {
    const exec = new FakeProbe('exec');
    const asked: bigint[][] = [];
    let live = 0;
    const definition = exec.definition();
    const catalog = {
      exec: {
        ...definition,
        targetLinker: () => ({
          link: (cgroupIds: readonly bigint[]) => {
            asked.push([...cgroupIds]);
            live++; // one new link per call, as if a new process came each time
            return { links: [{ id: 100 + asked.length, destroy: () => void live-- }] as never, problems: [] };
          },
        }),
      },
    };
    const linked = new ProbeManager({ catalog: catalog as never, openObject: () => exec.open() });
    await linked.register('p1', { probes: [{ name: 'exec' }], targets: [A] });
    await linked.register('p2', { probes: [{ name: 'exec' }], targets: [B] });
    linked.collect();
    assert.deepEqual(asked, [[A], [A, B], [A, B]]);
    assert.equal(live, 3);
    assert.equal(exec.liveLinks, 2, 'the probe’s own links are apart');
    await linked.unregister('p1');
    await linked.unregister('p2');
    assert.equal(live, 0, 'the last profile to leave destroys them with the probe');
    assert.equal(exec.liveLinks, 0);
  });

  it('encodes targets map entries as bpf/loupe.h lays them out', () => {
    assert.equal(encodeTargetKey(0x0102030405060708n).toString('hex'), '0807060504030201');
    assert.equal(encodeTargetValue({ mask: (1n << 63n) | 1n, slot: 5, flags: 0 }).toString('hex'), '0100000000000080' + '05000000' + '00000000');
    assert.equal(encodeTargetValue({ mask: 2n, slot: 1, flags: 1 }).toString('hex'), '0200000000000000' + '01000000' + '01000000');
  });
});

/** A probe whose reader returns what the test queues, recording what the manager asks of its kernel side. */
class OptionsProbe {
  opened = 0;
  liveLinks = 0;
  targets = new FakeTargetsMap(1024);
  /** Each applyOptions call: the specs, and how many cgroups the targets map held then. */
  readonly applied: { specs: ProbeSpec[]; targets: number }[] = [];
  /** The specs of each attach call. */
  readonly attached: ProbeSpec[][] = [];
  failAttachAbove = Infinity;
  private queued = new Map<bigint, unknown>();

  constructor(readonly name: ProbeName) {}

  queue(cgroupId: bigint, result: unknown): void {
    this.queued.set(cgroupId, result);
  }

  definition(): ProbeDefinition<unknown, ProbeSpec> {
    const frequency = (specs: readonly ProbeSpec[]) => samplingFrequencyHz(specs as OptionsOf<'profile'>[], 19);
    return {
      objectFile: `${this.name}.bpf.o`,
      ...(this.name === 'profile' && { attachSetting: frequency }),
      ...(this.name === 'syscalls' && {
        targetFlags: syscalls.kernel.targetFlags,
        optionsError: syscalls.kernel.optionsError,
        forProfile: syscalls.kernel.forProfile,
      }),
      applyOptions: (_obj, specs) => void this.applied.push({ specs: [...specs], targets: this.targets.entries.size }),
      attach: (_obj, specs = []) => {
        if (frequency(specs) > this.failAttachAbove) throw new Error(`perf_event_open: ${frequency(specs)} Hz: Invalid argument`);
        this.attached.push([...specs]);
        this.liveLinks++;
        return [{ destroy: () => void this.liveLinks-- }] as never;
      },
      reader: () => ({
        collect: () => {
          const out = this.queued;
          this.queued = new Map();
          return out as never;
        },
        close: () => {},
      }),
    };
  }

  open(): BpfObject {
    this.opened++;
    this.targets = new FakeTargetsMap(1024);
    return { loadAsync: async () => {}, map: () => this.targets, close: () => {} } as unknown as BpfObject;
  }
}

function optionsSetup(name: ProbeName) {
  const probe = new OptionsProbe(name);
  const manager = new ProbeManager({ catalog: { [name]: probe.definition() }, openObject: () => probe.open() });
  return { manager, probe };
}

/** A syscalls delta as the reader makes it: 5 getppid (latency slot 10) and 2 failed close (slot 12). */
function syscallsDelta(): SyscallsDelta {
  return {
    calls: 7,
    errors: 2,
    latencyNs: summarizeLatency(histogramFromCounts(0, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 2])),
    topSyscalls: [
      { key: 'getppid', count: 5, errors: 0 },
      { key: 'close', count: 2, errors: 2 },
    ],
    latencyBySyscall: new Map([['getppid', histogramFromCounts(0, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5])]]),
  };
}

describe('ProbeManager probe options', () => {
  it('gives each profile sharing a probe its own filtered share, and sets the kernel side before targeting', async () => {
    const { manager, probe } = optionsSetup('syscalls');
    await manager.register('all', { probes: [{ name: 'syscalls' }], targets: [A, B] });
    assert.equal(probe.targets.entries.get(A)?.flags, 0);
    await manager.register('only', { probes: [{ name: 'syscalls', only: ['getppid'] }], targets: [A] });
    assert.equal(probe.opened, 1);
    assert.deepEqual(probe.applied, [
      { specs: [{ name: 'syscalls' }], targets: 0 },
      { specs: [{ name: 'syscalls' }, { name: 'syscalls', only: ['getppid'] }], targets: 2 },
    ]);
    assert.deepEqual(probe.targets.entries.get(A), { mask: 0b11n, slot: 0, flags: TARGET_OWN_LATENCY }, 'a filtering profile targets A');
    assert.deepEqual(probe.targets.entries.get(B), { mask: 0b01n, slot: 1, flags: 0 }, 'none targets B: no histograms of its own there');
    probe.queue(A, syscallsDelta());
    manager.collect();
    const all = manager.results('all').syscalls?.get(A);
    const only = manager.results('only').syscalls?.get(A);
    assert.ok(all && only);
    assert.equal(all.calls, 7);
    assert.equal(all.latencyNs.count, 7);
    assert.deepEqual(only.topSyscalls, [{ key: 'getppid', count: 5, errors: 0 }]);
    assert.equal(only.calls, 5);
    assert.equal(only.errors, 0);
    assert.deepEqual(only.latencyNs.histogram, histogramFromCounts(0, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]));
    assert.equal('latencyBySyscall' in all || 'latencyBySyscall' in only, false, 'internal fields stay in the manager');
    manager.close();
  });

  it('reports an unknown syscall as that profile’s failure, and keeps serving the others', async () => {
    const { manager, probe } = optionsSetup('syscalls');
    const bad = await manager.register('bad', { probes: [{ name: 'syscalls', only: ['getppid', 'nosuchcall'] }], targets: [A] });
    const good = await manager.register('good', { probes: [{ name: 'syscalls' }], targets: [A] });
    assert.deepEqual(bad.active, []);
    assert.deepEqual(bad.failed, [{ probe: 'syscalls', message: 'syscalls.only: unknown syscall "nosuchcall" on this node (x86_64)' }]);
    assert.deepEqual(good.active, ['syscalls']);
    assert.equal(probe.targets.entries.get(A)?.mask, 0b10n, 'only the good profile’s bit');
    probe.queue(A, syscallsDelta());
    manager.collect();
    assert.equal(manager.results('bad').syscalls, undefined);
    assert.equal(manager.results('good').syscalls?.get(A)?.calls, 7);
    const fixed = await manager.update('bad', { probes: [{ name: 'syscalls', only: ['getppid'] }], targets: [A] });
    assert.deepEqual([fixed.active, fixed.failed], [['syscalls'], []]);
    manager.close();
  });

  it('re-attaches the profile probe at the highest frequency asked, keeping its object and the results so far', async () => {
    const { manager, probe } = optionsSetup('profile');
    const sample = { samples: 3, topFrames: [{ key: 'spin (app)', count: 3 }], topStacks: [{ key: 'app;main;spin', count: 3 }] };
    await manager.register('slow', { probes: [{ name: 'profile' }], targets: [A] });
    probe.queue(A, sample);
    manager.collect();
    await manager.register('fast', { probes: [{ name: 'profile', frequency: 99 }], targets: [B] });
    await manager.register('slower', { probes: [{ name: 'profile', frequency: 5 }], targets: [B] });
    const rates = () => probe.attached.map((specs) => samplingFrequencyHz(specs as OptionsOf<'profile'>[], 19));
    assert.deepEqual(rates(), [19, 99], 'a profile asking for less changes nothing');
    assert.equal(probe.opened, 1, 'the object stays loaded');
    assert.equal(probe.liveLinks, 1, 'the old links are gone');
    await manager.unregister('fast');
    assert.deepEqual(rates(), [19, 99, 19]);
    assert.equal(manager.results('slow').profile?.get(A)?.samples, 3);
    manager.close();
    assert.equal(probe.liveLinks, 0);
  });

  it('detaches the probe and fails its profiles when re-attaching fails, until update() retries', async () => {
    const { manager, probe } = optionsSetup('profile');
    probe.failAttachAbove = 500;
    await manager.register('p1', { probes: [{ name: 'profile' }], targets: [A] });
    const p2 = await manager.register('p2', { probes: [{ name: 'profile', frequency: 999 }], targets: [B] });
    assert.deepEqual(p2.active, []);
    assert.deepEqual(manager.state('p1').failed, [{ probe: 'profile', message: 'perf_event_open: 999 Hz: Invalid argument' }]);
    assert.equal(probe.liveLinks, 0);
    const retried = await manager.update('p2', { probes: [{ name: 'profile', frequency: 499 }], targets: [B] });
    assert.deepEqual(retried.active, ['profile']);
    assert.deepEqual(manager.state('p1').active, ['profile']);
    manager.close();
  });
});
