import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildNodeStatus, buildProfileStatus, type ProfileStatusInput } from '../../agent/node-status.js';
import type { NodeCost, ProfileCost } from '../../api/cost.js';
import { NodeTracePlanStatusSchema, type NodeProfilePlan } from '../../api/nodetraceplan.js';

const plan: NodeProfilePlan = {
  uid: 'p-1',
  namespace: 'shop',
  name: 'web',
  generation: 3,
  probes: [{ name: 'exec' }, { name: 'syscalls' }],
  interval: '10s',
  topN: 5,
  budget: { maxCpuPerNode: '20m' },
  active: true,
  targets: [],
};

const target = { podUid: 'uid-a', namespace: 'shop', pod: 'web-a', container: 'app', containerId: 'containerd://aa' };
const cost: ProfileCost = { cpuCores: 0.0032, eventsPerSecond: 1200, kernelMemoryBytes: 65536 };
const nodeCost: NodeCost = { ...cost, agentCpuCores: 0.004, agentMemoryBytes: 80_000_000 };

function input(overrides: Partial<ProfileStatusInput> = {}): ProfileStatusInput {
  return {
    plan,
    state: { profileId: 'p-1', slot: 0, active: ['exec'], failed: [] },
    targets: { resolved: [{ target, cgroupId: 11n }], unresolved: [] },
    errors: [],
    shuttingDown: false,
    cost,
    budgetSteps: [{ probe: 'syscalls', message: 'over budget on this node for 3 intervals: dropped probe syscalls' }],
    ...overrides,
  };
}

describe('cost and budget in the node status', () => {
  it('reports the cost and a BudgetExceeded error per dropped probe, within the schema', () => {
    const profile = buildProfileStatus(input());
    assert.deepEqual(profile.cost, cost);
    assert.deepEqual(profile.errors, [
      { probe: 'syscalls', reason: 'BudgetExceeded', message: 'over budget on this node for 3 intervals: dropped probe syscalls' },
    ]);
    assert.deepEqual(profile.probesLoaded, ['exec']);
    const status = buildNodeStatus({ heartbeat: new Date(0), agentVersion: 'v1', profiles: [profile], cost: nodeCost });
    assert.deepEqual(status.cost, nodeCost);
    assert.deepEqual(NodeTracePlanStatusSchema.parse(status), status);
  });

  it('reports no cost for a profile that is not tracing', () => {
    assert.equal(buildProfileStatus(input({ shuttingDown: true })).cost, undefined);
    assert.equal(buildProfileStatus(input({ plan: { ...plan, active: false } })).cost, undefined);
    assert.equal(buildNodeStatus({ heartbeat: new Date(0), agentVersion: 'v1', profiles: [] }).cost, undefined);
  });
});
