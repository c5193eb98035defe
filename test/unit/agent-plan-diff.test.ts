import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeProfilePlan } from '../../api/nodetraceplan.js';
import type { ProbeSpec } from '../../api/probes.js';
import type { ProbeName } from '../../probes/registry.js';
import { diffPlan, managerSpec } from '../../agent/plan-diff.js';
import type { ProfileSpec } from '../../engine/probe-manager.js';

function plan(overrides: Partial<NodeProfilePlan> = {}): NodeProfilePlan {
  return {
    uid: 'p-1',
    namespace: 'shop',
    name: 'checkout',
    generation: 1,
    probes: [{ name: 'tcp' }, { name: 'exec' }],
    interval: '10s',
    topN: 10,
    active: true,
    targets: [],
    ...overrides,
  };
}

/** A spec whose probes are bare names (no options) or full probe specs. */
const spec = (probes: (ProbeName | ProbeSpec)[], targets: bigint[]): ProfileSpec => ({
  probes: probes.map((p) => (typeof p === 'string' ? { name: p } : p)),
  targets,
});

describe('managerSpec', () => {
  it('asks for the plan’s probes on the resolved cgroups', () => {
    assert.deepEqual(managerSpec(plan(), [7n, 9n]), spec(['exec', 'tcp'], [7n, 9n]));
  });

  it('passes each probe’s options on', () => {
    const probes: ProbeSpec[] = [{ name: 'syscalls', only: ['read'] }, { name: 'files', pathPrefixes: ['/etc'] }];
    assert.deepEqual(managerSpec(plan({ probes }), [7n]).probes, [probes[1], probes[0]]);
  });

  it('gives an inactive profile no targets: its probes detach, its results stay', () => {
    assert.deepEqual(managerSpec(plan({ active: false }), [7n, 9n]), spec(['exec', 'tcp'], []));
  });
});

describe('diffPlan', () => {
  it('registers new profiles, updates changed ones, unregisters dropped ones, and leaves the rest', () => {
    const current = new Map([
      ['same', spec(['exec'], [1n, 2n])],
      ['retargeted', spec(['exec'], [1n])],
      ['reprobed', spec(['exec'], [3n])],
      ['dropped', spec(['tcp'], [4n])],
    ]);
    const desired = new Map([
      ['same', spec(['exec'], [2n, 1n])], // order does not matter
      ['retargeted', spec(['exec'], [5n])],
      ['reprobed', spec(['exec', 'files'], [3n])],
      ['new', spec(['syscalls'], [6n])],
    ]);
    assert.deepEqual(diffPlan(current, desired), [
      { kind: 'unregister', uid: 'dropped' },
      { kind: 'update', uid: 'retargeted', spec: spec(['exec'], [5n]) },
      { kind: 'update', uid: 'reprobed', spec: spec(['exec', 'files'], [3n]) },
      { kind: 'register', uid: 'new', spec: spec(['syscalls'], [6n]) },
    ]);
  });

  it('frees slots before taking new ones: unregistrations come first', () => {
    const actions = diffPlan(new Map([['old', spec(['exec'], [1n])]]), new Map([['new', spec(['exec'], [1n])]]));
    assert.deepEqual(actions.map((a) => a.kind), ['unregister', 'register']);
  });

  it('stopping a profile is an update to no targets', () => {
    const current = new Map([['p-1', managerSpec(plan(), [7n])]]);
    const desired = new Map([['p-1', managerSpec(plan({ active: false }), [7n])]]);
    assert.deepEqual(diffPlan(current, desired), [{ kind: 'update', uid: 'p-1', spec: spec(['exec', 'tcp'], []) }]);
  });

  it('updates a profile whose probe options changed, whatever their key order', () => {
    const current = new Map([['p-1', spec([{ name: 'profile', frequency: 19 }, { name: 'syscalls', only: ['read'] }], [1n])]]);
    const reordered = new Map([['p-1', spec([{ only: ['read'], name: 'syscalls' } as ProbeSpec, { name: 'profile', frequency: 19 }], [1n])]]);
    assert.deepEqual(diffPlan(current, reordered), []);
    const faster = spec([{ name: 'profile', frequency: 99 }, { name: 'syscalls', only: ['read'] }], [1n]);
    assert.deepEqual(diffPlan(current, new Map([['p-1', faster]])), [{ kind: 'update', uid: 'p-1', spec: faster }]);
  });

  it('does nothing when nothing changed', () => {
    const both = new Map([['p-1', spec(['exec'], [1n])]]);
    assert.deepEqual(diffPlan(both, new Map(both)), []);
  });
});
