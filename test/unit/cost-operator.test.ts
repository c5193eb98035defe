import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeProfileStatus } from '../../api/nodetraceplan.js';
import type { ProfileCost } from '../../api/cost.js';
import { nodeProfilePlan } from '../../operator/node-plan.js';
import { nodeReadiness, type NodeReport } from '../../operator/node-readiness.js';
import { profileTargets } from '../../operator/pod-targets.js';
import { profilePhase } from '../../operator/profile-conditions.js';
import { costSummary, profileCostTotal } from '../../operator/profile-cost.js';
import { computeProfileStatus } from '../../operator/profile-status.js';
import { pod, profile } from './operator-fixtures.js';

function report(cost?: ProfileCost): NodeReport {
  const entry: NodeProfileStatus = { uid: 'p', state: 'Running', probesLoaded: ['syscalls'], targets: { resolved: 1 } };
  if (cost !== undefined) entry.cost = cost;
  return { heartbeat: '2026-01-01T00:00:00Z', entry };
}

describe('profile cost over nodes', () => {
  it('sums what the nodes measured and keeps the largest node', () => {
    const total = profileCostTotal(
      new Map([
        ['n1', report({ cpuCores: 0.002, eventsPerSecond: 1000, kernelMemoryBytes: 4096 })],
        ['n2', report({ cpuCores: 0.0012, eventsPerSecond: 500, kernelMemoryBytes: 4096 })],
        ['n3', report({ cpuCores: 0, eventsPerSecond: 7, kernelMemoryBytes: 100, unmeasured: 'BPF run-time statistics are off' })],
        ['n4', report()],
        ['n5', {}],
      ]),
    );
    assert.deepEqual(total, { cpuCores: 0.0032, maxNodeCpuCores: 0.002, eventsPerSecond: 1500, kernelMemoryBytes: 8192, nodes: 2 });
    assert.equal(total && costSummary(total), '0.32%');
  });

  it('sums ring-buffer drops where nodes report them', () => {
    const total = profileCostTotal(
      new Map([
        ['n1', report({ cpuCores: 0.001, eventsPerSecond: 10, kernelMemoryBytes: 1, ringBufferDrops: 3 })],
        ['n2', report({ cpuCores: 0.001, eventsPerSecond: 10, kernelMemoryBytes: 1 })],
        ['n3', report({ cpuCores: 0.001, eventsPerSecond: 10, kernelMemoryBytes: 1, ringBufferDrops: 4 })],
      ]),
    );
    assert.equal(total?.ringBufferDrops, 7);
  });

  it('says nothing when no node measured', () => {
    assert.equal(profileCostTotal(new Map([['n1', report()]])), undefined);
  });

  it('formats small and large figures readably', () => {
    const summary = (cpuCores: number) => costSummary({ cpuCores, maxNodeCpuCores: cpuCores, eventsPerSecond: 0, kernelMemoryBytes: 0, nodes: 1 });
    assert.equal(summary(0), '0%');
    assert.equal(summary(0.0000001), '<0.001%');
    assert.equal(summary(0.04123), '4.1%');
    assert.equal(summary(1.5), '150%');
  });
});

describe('budgets in the operator', () => {
  const now = Date.parse('2026-11-26T07:00:00Z');
  const fresh = '2026-11-26T06:59:55Z';
  const message = 'over budget on this node for 3 intervals (CPU 7.00% of a CPU > 2.00% of a CPU allowed): dropped probe syscalls';
  const degradedEntry: NodeProfileStatus = {
    uid: 'uid-t',
    state: 'Running',
    probesLoaded: ['exec'],
    targets: { resolved: 1 },
    errors: [{ probe: 'syscalls', reason: 'BudgetExceeded', message }],
    cost: { cpuCores: 0.019, eventsPerSecond: 100, kernelMemoryBytes: 1000 },
  };

  it('plans the budget for the agents', () => {
    const p = profile('t', { budget: { maxCpuPerNode: '20m' } });
    assert.deepEqual(nodeProfilePlan(p, true, []).budget, { maxCpuPerNode: '20m' });
    assert.equal(nodeProfilePlan(profile('t'), true, []).budget, undefined);
  });

  it('counts a node that dropped a probe for the budget as tracing, and over budget', () => {
    const readiness = nodeReadiness('node-a', { heartbeat: fresh, entry: degradedEntry }, ['exec', 'syscalls'], '10s', now);
    assert.equal(readiness.ready, true);
    assert.equal(readiness.budgetExceeded, true);
    assert.equal(readiness.error, `syscalls: ${message}`);
  });

  it('turns Degraded with reason BudgetExceeded', () => {
    const readiness = nodeReadiness('node-a', { heartbeat: fresh, entry: degradedEntry }, ['exec', 'syscalls'], '10s', now);
    const { conditions } = profilePhase({ namespace: 'shop', suspended: false, expired: false, pods: 1, containers: 1, nodes: [readiness] });
    const degraded = conditions.find((c) => c.type === 'Degraded');
    assert.deepEqual(degraded, { type: 'Degraded', status: 'True', reason: 'BudgetExceeded', message: `node-a: syscalls: ${message}` });
  });

  it('puts the summed cost and the CPU column in the profile status', () => {
    const p = profile('t', { probes: [{ name: 'exec' }, { name: 'syscalls' }], budget: { maxCpuPerNode: '20m' } });
    const { status } = computeProfileStatus({
      profile: p,
      targets: profileTargets(p, [pod('web-1')]),
      nodes: ['node-a'],
      reports: new Map([['node-a', { heartbeat: fresh, entry: degradedEntry }]]),
      containersOf: () => ['app'],
      nowMs: now,
    });
    assert.deepEqual(status.cost, { cpuCores: 0.019, maxNodeCpuCores: 0.019, eventsPerSecond: 100, kernelMemoryBytes: 1000, nodes: 1 });
    assert.equal(status.costSummary, '1.9%');
    assert.equal(status.conditions?.find((c) => c.type === 'Degraded')?.reason, 'BudgetExceeded');
  });
});
