import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { turnOnBpfStats, type BpfStats } from '../../engine/cost/bpf-stats.js';
import { CostMeter, type MeteredObject } from '../../engine/cost/cost-meter.js';
import { mapMemoryBytes, memlockOf } from '../../engine/cost/map-memory.js';
import { ringBufferDrops, RINGBUF_DROPS_MAP } from '../../engine/cost/ringbuf-drops.js';
import { renderCost } from '../../cli/trace/report-text.js';
import { NodeTracePlanStatusSchema } from '../../api/nodetraceplan.js';
import type { ProbeName } from '../../probes/registry.js';

const on: BpfStats = { measured: true, via: 'enableStats', close: () => {} };

const plainMap = (fd: number) => ({ fd, name: `map${fd}`, lookup: () => undefined, perCpuValues: () => [] });

/** A per-CPU ringbuf_drops map holding these counts, one per CPU, as the kernel returns them (8-byte slots). */
function dropCounter(perCpu: readonly bigint[], fd = 0) {
  return {
    fd,
    name: RINGBUF_DROPS_MAP,
    lookup: (key: Buffer) => {
      assert.equal(key.readUInt32LE(0), 0, 'slot 0 is the only one');
      const value = Buffer.alloc(8 * perCpu.length);
      perCpu.forEach((n, cpu) => value.writeBigUInt64LE(n, 8 * cpu));
      return value;
    },
    perCpuValues: (value: Buffer) => Array.from({ length: value.length / 8 }, (_, cpu) => value.subarray(8 * cpu, 8 * cpu + 8)),
  };
}

/** A probe object whose programs' run time (and, if given, ring-buffer drops per CPU) the test sets. */
function fakeObject(runTimeNs: Map<number, bigint>, mapFds: number[], drops?: bigint[]): MeteredObject {
  return {
    loadedPrograms: () => [...runTimeNs.keys()].map((id) => ({ id, stats: () => ({ runTimeNs: runTimeNs.get(id) ?? 0n, runCount: 0n }) })),
    maps: () => [...mapFds.map(plainMap), ...(drops === undefined ? [] : [dropCounter(drops)])],
  };
}

function clock() {
  const state = { ns: 0n, cpuUs: 0 };
  return {
    state,
    sources: {
      nowNs: () => state.ns,
      cpuUsage: () => ({ user: state.cpuUs, system: 0 }),
      rssBytes: () => 50_000_000,
      mapBytes: (fd: number) => fd * 1000,
    },
  };
}

const events = (entries: [string, [ProbeName, number][]][]) => new Map(entries.map(([uid, e]) => [uid, new Map(e)]));

describe('CostMeter', () => {
  it('measures deltas between calls and splits them by events', () => {
    const { state, sources } = clock();
    const meter = new CostMeter(on, sources);
    const runTime = new Map([[7, 1_000_000n], [8, 0n]]);
    const probes = [{ name: 'syscalls' as const, object: fakeObject(runTime, [1, 2]), users: ['a', 'b'] }];

    assert.equal(meter.measure(probes, events([['a', [['syscalls', 100]]], ['b', [['syscalls', 0]]]])), undefined, 'the first call sets the baseline');
    state.ns += 2_000_000_000n;
    state.cpuUs += 20_000;
    runTime.set(7, 31_000_000n); // +30 ms
    runTime.set(8, 10_000_000n); // +10 ms
    const report = meter.measure(probes, events([['a', [['syscalls', 100 + 3000]]], ['b', [['syscalls', 1000]]]]));
    assert.ok(report);
    assert.deepEqual(report.node, {
      cpuCores: 0.02,
      eventsPerSecond: 2000,
      kernelMemoryBytes: 3000,
      agentCpuCores: 0.01,
      agentMemoryBytes: 50_000_000,
    });
    assert.deepEqual(report.profiles.get('a')?.cost, { cpuCores: 0.015, eventsPerSecond: 1500, kernelMemoryBytes: 1500 });
    assert.deepEqual(report.profiles.get('b')?.cost, { cpuCores: 0.005, eventsPerSecond: 500, kernelMemoryBytes: 1500 });
    assert.deepEqual(NodeTracePlanStatusSchema.parse({ cost: report.node }).cost, report.node, 'fits the status schema');
  });

  it('counts a program loaded during the interval from zero', () => {
    const { state, sources } = clock();
    const meter = new CostMeter(on, sources);
    meter.measure([], new Map());
    state.ns += 1_000_000_000n;
    const report = meter.measure([{ name: 'exec', object: fakeObject(new Map([[9, 5_000_000n]]), []), users: ['a'] }], new Map());
    assert.equal(report?.profiles.get('a')?.cost.cpuCores, 0.005);
  });

  it('reports CPU as unmeasured, with the reason, when statistics are off', () => {
    const { state, sources } = clock();
    const meter = new CostMeter({ measured: false, reason: 'BPF run-time statistics are off: …', close: () => {} }, sources);
    const probes = [{ name: 'exec' as const, object: fakeObject(new Map([[1, 0n]]), []), users: ['a'] }];
    meter.measure(probes, new Map());
    state.ns += 1_000_000_000n;
    const cost = meter.measure(probes, events([['a', [['exec', 4]]]]))?.profiles.get('a')?.cost;
    assert.deepEqual(cost, { cpuCores: 0, eventsPerSecond: 4, kernelMemoryBytes: 0, unmeasured: 'BPF run-time statistics are off: …' });
  });
});

describe('ring-buffer drops', () => {
  it('sums the per-CPU counter, and is undefined for a probe without one', () => {
    assert.equal(ringBufferDrops([plainMap(1), dropCounter([3n, 0n, 4n, 2n ** 40n])]), 7n + 2n ** 40n);
    assert.equal(ringBufferDrops([plainMap(1)]), undefined);
  });

  it('reports the drops of each interval, per node and per profile using the probe', () => {
    const { state, sources } = clock();
    const meter = new CostMeter(on, sources);
    const execDrops = [5n, 1n];
    const tcpDrops = [0n, 0n];
    const probes = [
      { name: 'exec' as const, object: fakeObject(new Map(), [], execDrops), users: ['a', 'b'] },
      { name: 'tcp' as const, object: fakeObject(new Map(), [], tcpDrops), users: ['b'] },
      { name: 'syscalls' as const, object: fakeObject(new Map(), []), users: ['c'] },
    ];
    meter.measure(probes, new Map());
    state.ns += 1_000_000_000n;
    execDrops[1] = 11n; // +10
    tcpDrops[0] = 2n; // +2
    let report = meter.measure(probes, new Map());
    assert.equal(report?.node.ringBufferDrops, 12);
    assert.equal(report?.profiles.get('a')?.cost.ringBufferDrops, 10);
    assert.equal(report?.profiles.get('b')?.cost.ringBufferDrops, 12);
    assert.equal(report?.profiles.get('c')?.cost.ringBufferDrops, undefined, 'its probe has no ring buffer');
    assert.deepEqual(NodeTracePlanStatusSchema.parse({ cost: report?.node }).cost, report?.node, 'fits the status schema');

    state.ns += 1_000_000_000n;
    report = meter.measure(probes, new Map());
    assert.equal(report?.node.ringBufferDrops, 0, 'nothing dropped since the last interval');
    assert.equal(report?.profiles.get('b')?.cost.ringBufferDrops, 0);
  });

  it('counts a probe object loaded during the interval from zero', () => {
    const { state, sources } = clock();
    const meter = new CostMeter(on, sources);
    meter.measure([{ name: 'exec', object: fakeObject(new Map(), [], [100n]), users: ['a'] }], new Map());
    state.ns += 1_000_000_000n;
    const reloaded = { name: 'exec' as const, object: fakeObject(new Map(), [], [3n]), users: ['a'] };
    assert.equal(meter.measure([reloaded], new Map())?.node.ringBufferDrops, 3);
  });

  it('shows in the trace cost line only when something was dropped', () => {
    const cost = { cpuCores: 0.001, eventsPerSecond: 40, kernelMemoryBytes: 4096 };
    assert.doesNotMatch(renderCost({ ...cost, ringBufferDrops: 0 }), /dropped/);
    assert.match(renderCost({ ...cost, ringBufferDrops: 1234 }), /, 1,234 events dropped \(ring buffer full\)$/);
  });
});

describe('turnOnBpfStats', () => {
  it('prefers its own enableStats fd', () => {
    let closed = false;
    const stats = turnOnBpfStats({ enable: () => ({ close: () => (closed = true) }), readSysctl: () => '0' });
    assert.equal(stats.measured && stats.via, 'enableStats');
    stats.close();
    assert.ok(closed);
  });

  it("falls back on the host's sysctl, else says why it cannot measure", () => {
    const denied = () => {
      throw new Error('EPERM');
    };
    assert.equal(turnOnBpfStats({ enable: denied, readSysctl: () => '1\n' }).measured, true);
    const off = turnOnBpfStats({ enable: denied, readSysctl: () => '0\n' });
    assert.equal(off.measured, false);
    assert.match(off.measured ? '' : off.reason, /BPF_ENABLE_STATS failed \(EPERM\) and kernel.bpf_stats_enabled is 0/);
  });
});

describe('map memory', () => {
  it('reads memlock from fdinfo', () => {
    const fdinfo = 'pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nmap_type:\t1\nkey_size:\t8\nvalue_size:\t16\nmax_entries:\t1024\nmap_flags:\t0x0\nmap_extra:\t0x0\nmemlock:\t86528\nmap_id:\t42\n';
    assert.equal(memlockOf(fdinfo), 86528);
    assert.equal(memlockOf('pos:\t0\n'), undefined);
    assert.equal(mapMemoryBytes(3, () => fdinfo), 86528);
    assert.equal(mapMemoryBytes(3, () => { throw new Error('ENOENT'); }), 0);
  });
});
