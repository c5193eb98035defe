import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CostRates } from '../../engine/cost/attribution.js';
import {
  budgetLimits,
  budgetStateFor,
  costliestProbe,
  stepBudget,
  SUSTAINED_INTERVALS,
  type BudgetInput,
  type BudgetState,
} from '../../agent/budget.js';
import { BudgetSchema, parseCpuCores } from '../../api/cost.js';
import type { ProbeName } from '../../probes/registry.js';

const byProbe = (entries: [ProbeName, number, number][]) =>
  new Map<ProbeName, CostRates>(entries.map(([p, cpuCores, eventsPerSecond]) => [p, { cpuCores, eventsPerSecond }]));

/** syscalls costs most CPU, exec most events. */
const costly = byProbe([
  ['syscalls', 0.06, 500],
  ['exec', 0.01, 900],
]);
const total = { cpuCores: 0.07, eventsPerSecond: 1400, byProbe: costly };

const input = (over: Partial<BudgetInput> = {}): BudgetInput => ({
  limits: { maxCpuCores: 0.05 },
  cost: total,
  cpuMeasured: true,
  active: ['exec', 'syscalls'],
  ...over,
});

function run(state: BudgetState, inputs: BudgetInput[]): BudgetState {
  return inputs.reduce(stepBudget, state);
}

describe('budget limits', () => {
  it('reads CPU as Kubernetes writes it', () => {
    assert.equal(parseCpuCores('50m'), 0.05);
    assert.equal(parseCpuCores('0.05'), 0.05);
    assert.equal(parseCpuCores('2'), 2);
    assert.equal(parseCpuCores('5%'), undefined);
    assert.deepEqual(budgetLimits({ maxCpuPerNode: '20m', maxEventsPerSecond: 1000 }), { maxCpuCores: 0.02, maxEventsPerSecond: 1000 });
    assert.equal(budgetLimits(undefined), undefined);
  });

  it('rejects an empty budget, a zero CPU limit and a percentage, with messages', () => {
    const messages = (value: unknown) => BudgetSchema.safeParse(value).error?.issues.map((i) => i.message) ?? [];
    assert.deepEqual(messages({}), ['budget must set maxCpuPerNode (e.g. 50m) or maxEventsPerSecond, or be omitted']);
    assert.deepEqual(messages({ maxCpuPerNode: '0m' }), ['budget.maxCpuPerNode must be above zero, e.g. 50m']);
    assert.match(messages({ maxCpuPerNode: '5%' })[0] ?? '', /millicores such as 50m/);
    assert.deepEqual(messages({ maxCpuPerNode: '50m', maxEventsPerSecond: 10 }), []);
  });
});

describe('budget state machine', () => {
  const fresh = budgetStateFor(undefined, 1);

  it(`acts only after ${SUSTAINED_INTERVALS} intervals in a row over budget`, () => {
    const almost = run(fresh, Array.from({ length: SUSTAINED_INTERVALS - 1 }, () => input()));
    assert.equal(almost.overIntervals, SUSTAINED_INTERVALS - 1);
    assert.deepEqual(almost.dropped, []);
    const acted = stepBudget(almost, input());
    assert.deepEqual(acted.dropped.map((d) => d.probe), ['syscalls'], 'the costliest by CPU');
    assert.equal(acted.overIntervals, 0, 'the next step needs another sustained excess');
    assert.match(acted.dropped[0]?.message ?? '', /CPU 7\.00% of a CPU > 5\.00% of a CPU allowed.*dropped probe syscalls/);
  });

  it('starts counting again after an interval within budget', () => {
    const within = input({ cost: { cpuCores: 0.01, eventsPerSecond: 10, byProbe: costly } });
    const state = run(fresh, [input(), input(), within, input(), input()]);
    assert.deepEqual(state.dropped, []);
    assert.equal(state.overIntervals, 2);
  });

  it('drops the costliest by events when the events limit is what is exceeded', () => {
    const events = input({ limits: { maxEventsPerSecond: 1000 } });
    const state = run(fresh, [events, events, events]);
    assert.deepEqual(state.dropped.map((d) => d.probe), ['exec']);
    assert.match(state.dropped[0]?.message ?? '', /1400 events\/s > 1000 allowed/);
  });

  it('then drops the next one, and stops when nothing is left', () => {
    const s1 = run(fresh, [input(), input(), input()]);
    const s2 = run(s1, [input({ active: ['exec'] }), input({ active: ['exec'] }), input({ active: ['exec'] })]);
    assert.deepEqual(s2.dropped.map((d) => d.probe), ['syscalls', 'exec']);
    const s3 = run(s2, [input({ active: [] }), input({ active: [] }), input({ active: [] }), input({ active: [] })]);
    assert.deepEqual(s3.dropped, s2.dropped);
  });

  it('widens the profile probe’s sampling first, down to the floor, then drops probes', () => {
    const sampled = input({ active: ['exec', 'profile', 'syscalls'], sampling: { probe: 'profile', hz: 99 } });
    const thrice = (state: BudgetState) => run(state, [sampled, sampled, sampled]);
    const w1 = thrice(fresh);
    assert.equal(w1.widened?.hz, 24, '99 Hz / 4');
    assert.deepEqual(w1.dropped, []);
    assert.match(w1.widened?.message ?? '', /widened the profile probe's sampling from 99 Hz to 24 Hz/);
    const w2 = thrice(w1);
    const w3 = thrice(w2);
    const w4 = thrice(w3);
    assert.deepEqual([w2.widened?.hz, w3.widened?.hz, w4.widened?.hz], [6, 1, 1]);
    assert.deepEqual(w4.dropped.map((d) => d.probe), ['syscalls'], 'at 1 Hz the next step drops the costliest probe');
    assert.equal(run(fresh, [input(), input(), input()]).widened, undefined, 'no profile probe: nothing to widen');
  });

  it('does not judge CPU it could not measure', () => {
    const unmeasured = input({ cpuMeasured: false });
    assert.deepEqual(run(fresh, [unmeasured, unmeasured, unmeasured, unmeasured]).dropped, []);
  });

  it('forgets drops when the profile spec changes', () => {
    const dropped = run(fresh, [input(), input(), input()]);
    assert.equal(budgetStateFor(dropped, 1), dropped);
    assert.deepEqual(budgetStateFor(dropped, 2), { generation: 2, overIntervals: 0, dropped: [] });
  });

  it('breaks ties by the other measure, then by name', () => {
    assert.equal(costliestProbe(['exec', 'files'], byProbe([['exec', 0.01, 5], ['files', 0.01, 9]]), 'cpu'), 'files');
    assert.equal(costliestProbe(['files', 'exec'], new Map(), 'events'), 'exec');
    assert.equal(costliestProbe([], costly, 'cpu'), undefined);
  });
});
