import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNodeTracePlan } from '../../api/nodetraceplan.js';

const target = { podUid: 'u-1', namespace: 'shop', pod: 'checkout-1', container: 'web', containerId: 'containerd://4f1c' };
const profile = {
  uid: 'p-1',
  namespace: 'shop',
  name: 'checkout',
  generation: 2,
  probes: [{ name: 'exec' }],
  interval: '10s',
  topN: 10,
  active: true,
  targets: [target],
};
function plan(name: string, spec: Record<string, unknown>, status?: Record<string, unknown>) {
  return { apiVersion: 'loupe.dev/v1alpha1', kind: 'NodeTracePlan', metadata: { name }, spec, ...(status ? { status } : {}) };
}

describe('NodeTracePlan parsing', () => {
  it('accepts a plan and the status its agent writes', () => {
    const parsed = parseNodeTracePlan(
      plan('node-a', { nodeName: 'node-a', profiles: [profile] }, {
        heartbeat: '2026-11-26T06:45:00Z',
        agentVersion: '0.1.0',
        profiles: [
          {
            uid: 'p-1',
            state: 'Running',
            probesLoaded: ['exec'],
            targets: { resolved: 1, unresolved: [] },
            results: { exec: { execs: 3, exits: 3, topCommands: [{ key: '/bin/true', count: 3 }] } },
            pods: [{ podUid: 'u-1', namespace: 'shop', pod: 'checkout-1', results: {} }],
            observedGeneration: 2,
          },
        ],
      }),
    );
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    assert.equal(parsed.value.status?.profiles?.[0]?.state, 'Running');
  });

  it('rejects a plan not named after its node, naming spec.nodeName', () => {
    const parsed = parseNodeTracePlan(plan('node-a', { nodeName: 'node-b', profiles: [] }));
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.match(parsed.error, /^spec\.nodeName: spec\.nodeName must equal metadata\.name/m);
  });

  it('rejects an unknown agent state and probe, naming the fields', () => {
    const parsed = parseNodeTracePlan(
      plan('node-a', { nodeName: 'node-a', profiles: [{ ...profile, probes: [{ name: 'gpu' }] }] }, {
        profiles: [{ uid: 'p-1', state: 'Sleeping', probesLoaded: [], targets: { resolved: 0 } }],
      }),
    );
    assert.equal(parsed.ok, false);
    if (!parsed.ok) {
      assert.match(parsed.error, /^spec\.profiles\[0\]\.probes\[0\]\.name: probe name must be one of/m);
      assert.match(parsed.error, /^status\.profiles\[0\]\.state: /m);
    }
  });
});
