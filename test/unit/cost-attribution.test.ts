import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attributeCost, shares, type ProbeInterval } from '../../engine/cost/attribution.js';
import { eventsByProbe } from '../../engine/cost/probe-events.js';
import { probeActivity } from '../../api/activity.js';
import { histogramFromCounts, summarizeLatency } from '../../api/histogram.js';

const SECOND_NS = 1e9;

const syscallsProbe = (runTimeNs: number, events: [string, number][], users = events.map(([uid]) => uid)): ProbeInterval => ({
  probe: 'syscalls',
  runTimeNs,
  mapBytes: 3000,
  users,
  events: new Map(events),
});

describe('shares', () => {
  it('splits by events', () => {
    assert.deepEqual(shares({ users: ['a', 'b'], events: new Map([['a', 300], ['b', 100]]) }), new Map([['a', 0.75], ['b', 0.25]]));
  });

  it('gives nothing to a user without events when others have some', () => {
    assert.deepEqual(shares({ users: ['a', 'b'], events: new Map([['a', 5], ['b', 0]]) }), new Map([['a', 1]]));
  });

  it('splits equally between users when nobody got an event (the cost of being attached)', () => {
    assert.deepEqual(shares({ users: ['a', 'b', 'c', 'd'], events: new Map() }), new Map(['a', 'b', 'c', 'd'].map((u) => [u, 0.25])));
  });

  it('counts a profile that left during the interval by its events', () => {
    assert.deepEqual(shares({ users: ['a'], events: new Map([['a', 1], ['gone', 3]]) }), new Map([['a', 0.25], ['gone', 0.75]]));
  });
});

describe('attributeCost', () => {
  it('splits a shared program by events and sums a profile over its probes', () => {
    const { node, profiles } = attributeCost(
      [
        syscallsProbe(40_000_000, [['a', 3000], ['b', 1000]]), // 4% of a core over one second
        { probe: 'exec', runTimeNs: 2_000_000, mapBytes: 1000, users: ['a'], events: new Map([['a', 10]]) },
      ],
      SECOND_NS,
    );
    const a = profiles.get('a');
    const b = profiles.get('b');
    assert.ok(a && b);
    assert.ok(Math.abs(a.cpuCores - (0.03 + 0.002)) < 1e-12, `a: ${a.cpuCores}`);
    assert.ok(Math.abs(b.cpuCores - 0.01) < 1e-12, `b: ${b.cpuCores}`);
    assert.equal(a.eventsPerSecond, 3010);
    assert.equal(b.eventsPerSecond, 1000);
    assert.equal(a.kernelMemoryBytes, 1500 + 1000);
    assert.equal(b.kernelMemoryBytes, 1500);
    assert.deepEqual(a.byProbe.get('exec'), { cpuCores: 0.002, eventsPerSecond: 10 });
    assert.ok(Math.abs(node.cpuCores - 0.042) < 1e-12);
    assert.equal(node.kernelMemoryBytes, 4000);
    assert.equal(node.eventsPerSecond, 4010);
  });

  it('attributes everything a probe costs: the profiles add up to the node', () => {
    const probes = [syscallsProbe(12_345_678, [['a', 7], ['b', 13], ['c', 0]]), syscallsProbe(999, [], ['a', 'c'])];
    const { node, profiles } = attributeCost(probes, 3 * SECOND_NS);
    const sum = [...profiles.values()].reduce((s, p) => s + p.cpuCores, 0);
    assert.ok(Math.abs(sum - node.cpuCores) < 1e-15, `${sum} vs ${node.cpuCores}`);
  });

  it('turns counts into rates over the interval', () => {
    const { profiles } = attributeCost([syscallsProbe(50_000_000, [['a', 1000]])], 10 * SECOND_NS);
    assert.equal(profiles.get('a')?.eventsPerSecond, 100);
    assert.ok(Math.abs((profiles.get('a')?.cpuCores ?? 0) - 0.005) < 1e-12);
  });

  it('refuses an empty interval', () => {
    assert.throws(() => attributeCost([], 0), /elapsed time must be positive/);
  });
});

describe('probe events', () => {
  it('counts what each probe does work for', () => {
    assert.equal(probeActivity('exec', { execs: 3, exits: 4, topCommands: [] }), 7);
    assert.equal(probeActivity('runqlat', { latencyNs: summarizeLatency(histogramFromCounts(1, [2, 3])), topCommands: [] }), 6);
    assert.equal(probeActivity('netbytes', { bytesSent: 10, bytesReceived: 20, packetsSent: 1, packetsReceived: 2, topProtocols: [] }), 3);
  });

  it('sums a profile\'s results over its cgroups, per probe', () => {
    const events = eventsByProbe({
      exec: new Map([
        [1n, { execs: 1, exits: 1, topCommands: [] }],
        [2n, { execs: 5, exits: 0, topCommands: [] }],
      ]),
      oomkill: new Map([[1n, { kills: 2, topCommands: [] }]]),
    });
    assert.deepEqual(events, new Map([['exec', 7], ['oomkill', 2]]));
  });
});
