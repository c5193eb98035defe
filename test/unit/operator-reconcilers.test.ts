// The reconcilers over in-memory caches and recording writers: what they
// write, and that a second pass over unchanged caches writes nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { NodeTracePlanSpec } from '../../api/nodetraceplan.js';
import type { TraceProfile, TraceProfileStatus } from '../../api/traceprofile.js';
import { nextSlotMs, slotPhase } from '../../api/write-slot.js';
import type { Pod } from '../../operator/pod-targets.js';
import { NodePlanReconciler } from '../../operator/reconcilers/node-plan-reconciler.js';
import { PlanStore, type PlanObject } from '../../operator/reconcilers/plan-store.js';
import { PodsByNode } from '../../operator/reconcilers/pods-by-node.js';
import { ProfileStatusReconciler, type ProfileObject } from '../../operator/reconcilers/profile-status-reconciler.js';
import { ProfileStore } from '../../operator/reconcilers/profile-store.js';
import { ManualClock } from '../../kube/clock.js';
import type { KubeObject } from '../../kube/kube-object.js';
import { ObjectCache } from '../../kube/object-cache.js';
import { execReport, pod, profile } from './operator-fixtures.js';

const logger = pino({ level: 'silent' });

/** Caches and reconcilers wired as the operator wires them, with writers that store into the caches. */
function harness(budget: { reportIntervalSeconds?: number; resultsWriteGapMs?: number } = {}) {
  const clock = new ManualClock(Date.parse('2026-11-26T07:00:00Z'));
  const profileCache = new ObjectCache<ProfileObject>();
  const podCache = new ObjectCache<Pod>();
  const planCache = new ObjectCache<PlanObject>();
  const podsByNode = new PodsByNode(podCache);
  const profiles = new ProfileStore(profileCache);
  const plans = new PlanStore(planCache);
  const writes: string[] = [];
  let version = 1;
  const nodePlans = new NodePlanReconciler({
    profiles,
    plans,
    pods: podsByNode,
    clock,
    logger,
    reportIntervalSeconds: async () => budget.reportIntervalSeconds,
    writer: {
      apply: async (spec: NodeTracePlanSpec) => {
        writes.push(`apply ${spec.nodeName}`);
        const previous = planCache.get(spec.nodeName);
        const object = { ...previous, metadata: { name: spec.nodeName, uid: `plan-${spec.nodeName}`, resourceVersion: String(++version) }, spec: JSON.parse(JSON.stringify(spec)) };
        planCache.put(object);
        plans.observe(previous === undefined ? { type: 'added', object } : { type: 'modified', object, previous });
      },
      delete: async (name: string) => {
        writes.push(`delete ${name}`);
        const previous = planCache.get(name);
        if (previous) {
          planCache.remove(previous);
          plans.observe({ type: 'deleted', object: previous, previous });
        }
      },
    },
  });
  const profileStatus = new ProfileStatusReconciler({
    profiles,
    pods: podCache,
    plans,
    clock,
    logger,
    resultsWriteGapMs: () => budget.resultsWriteGapMs ?? 0,
    writer: {
      applyStatus: async (raw: KubeObject, status: TraceProfileStatus) => {
        writes.push(`status ${raw.metadata?.name} ${status.phase}`);
        profileCache.put({ ...(raw as ProfileObject), metadata: { ...raw.metadata, resourceVersion: String(++version) }, status: JSON.parse(JSON.stringify(status)) });
      },
      recordEvent: async (_raw: KubeObject, type: string, reason: string) => void writes.push(`event ${type} ${reason}`),
    },
  });
  const putPod = (p: Pod) => {
    const previous = podCache.put(p);
    podsByNode.observe(previous === undefined ? { type: 'added', object: p } : { type: 'modified', object: p, previous });
  };
  const removePod = (p: Pod) => {
    const previous = podCache.remove(p);
    podsByNode.observe({ type: 'deleted', object: p, ...(previous ? { previous } : {}) });
  };
  const putProfile = (p: TraceProfile) => profileCache.put(JSON.parse(JSON.stringify(p)));
  const reportOn = (node: string, status: unknown) => {
    const plan = planCache.get(node);
    assert.ok(plan, `plan ${node} exists`);
    const object = { ...plan, metadata: { ...plan.metadata, resourceVersion: String(++version) }, status };
    planCache.put(object);
    plans.observe({ type: 'modified', object, previous: plan });
  };
  return { clock, writes, nodePlans, profileStatus, profileCache, planCache, putPod, removePod, putProfile, reportOn };
}

describe('NodePlanReconciler', () => {
  it('creates, updates only on change, and deletes the plan of a node', async () => {
    const h = harness();
    h.putProfile(profile('t'));
    h.putPod(pod('web-1', { node: 'node-a' }));
    assert.equal(await h.nodePlans.reconcile('node-a'), 'created');
    assert.equal(await h.nodePlans.reconcile('node-a'), 'unchanged');
    assert.equal(await h.nodePlans.reconcile('node-b'), 'unchanged', 'no plan for a node without targets');

    h.putPod(pod('web-2', { node: 'node-a' }));
    assert.equal(await h.nodePlans.reconcile('node-a'), 'updated');
    const targets = (h.planCache.get('node-a')?.spec as NodeTracePlanSpec).profiles[0]?.targets.map((t) => t.pod);
    assert.deepEqual(targets, ['web-1', 'web-2']);

    h.removePod(pod('web-1', { node: 'node-a' }));
    h.removePod(pod('web-2', { node: 'node-a' }));
    assert.equal(await h.nodePlans.reconcile('node-a'), 'deleted');
    assert.deepEqual(h.writes, ['apply node-a', 'apply node-a', 'delete node-a']);
  });

  it('follows a relabelled pod out of the plan', async () => {
    const h = harness();
    h.putProfile(profile('t'));
    h.putPod(pod('web-1'));
    h.putPod(pod('web-2'));
    await h.nodePlans.reconcile('node-a');
    h.putPod({ ...pod('web-2', { labels: { app: 'other' } }), metadata: { ...pod('web-2').metadata, labels: { app: 'other' }, resourceVersion: '2' } });
    await h.nodePlans.reconcile('node-a');
    assert.deepEqual((h.planCache.get('node-a')?.spec as NodeTracePlanSpec).profiles[0]?.targets.map((t) => t.pod), ['web-1']);
  });

  it('writes the report interval the cluster size calls for, and rewrites the plan when it changes', async () => {
    const budget: { reportIntervalSeconds?: number } = { reportIntervalSeconds: 10 };
    const h = harness(budget);
    h.putProfile(profile('t'));
    h.putPod(pod('web-1', { node: 'node-a' }));
    await h.nodePlans.reconcile('node-a');
    assert.equal((h.planCache.get('node-a')?.spec as NodeTracePlanSpec).reportIntervalSeconds, 10);
    assert.equal(await h.nodePlans.reconcile('node-a'), 'unchanged');
    budget.reportIntervalSeconds = 120;
    assert.equal(await h.nodePlans.reconcile('node-a'), 'updated');
    assert.equal((h.planCache.get('node-a')?.spec as NodeTracePlanSpec).reportIntervalSeconds, 120);
  });
});

describe('ProfileStatusReconciler', () => {
  it('writes status once, then nothing while nothing changes', async () => {
    const h = harness();
    h.putProfile(profile('t'));
    h.putPod(pod('web-1', { node: 'node-a' }));
    await h.nodePlans.reconcile('node-a');
    const raw = () => h.profileCache.get('t', 'shop') as ProfileObject;

    assert.equal((await h.profileStatus.reconcile(raw())).written, true);
    assert.equal(raw().status?.phase, 'Pending');
    await h.clock.advance(5_000);
    assert.equal((await h.profileStatus.reconcile(raw())).written, false);

    h.reportOn('node-a', { heartbeat: '2026-11-26T07:00:05Z', profiles: [execReport('uid-t', 7, [['/bin/true', 7]], [['web-1', 7]])] });
    const result = await h.profileStatus.reconcile(raw());
    assert.equal(result.written, true);
    assert.equal(raw().status?.phase, 'Running');
    assert.equal(raw().status?.results?.exec?.execs, 7);
    assert.deepEqual(raw().status?.pods?.map((p) => [p.name, p.containers]), [['web-1', ['app']]]);
    assert.equal(result.recheckAtMs, Date.parse('2026-11-26T07:00:35Z'));

    // A heartbeat alone changes nothing the status shows.
    h.reportOn('node-a', { heartbeat: '2026-11-26T07:00:15Z', profiles: [execReport('uid-t', 7, [['/bin/true', 7]], [['web-1', 7]])] });
    await h.clock.advance(10_000);
    assert.equal((await h.profileStatus.reconcile(raw())).written, false);

    // Silence: the node turns not ready after three missed reports.
    await h.clock.advance(60_000);
    await h.profileStatus.reconcile(raw());
    assert.equal(raw().status?.nodesReady, '0/1');
    assert.equal(raw().status?.conditions?.find((c) => c.type === 'Degraded')?.status, 'True');
    assert.deepEqual(h.writes, ['apply node-a', 'status t Pending', 'event Normal Pending', 'status t Running', 'event Normal Tracing', 'status t Pending', 'event Normal Pending', 'event Warning NodeErrors']);
  });

  it('holds back new results for the write gap but writes a phase change at once', async () => {
    const h = harness({ resultsWriteGapMs: 60_000, reportIntervalSeconds: 120 });
    h.putProfile(profile('t'));
    h.putPod(pod('web-1', { node: 'node-a' }));
    await h.nodePlans.reconcile('node-a');
    const raw = () => h.profileCache.get('t', 'shop') as ProfileObject;
    await h.profileStatus.reconcile(raw());
    // Pending → Running is news: written although the last write was just now.
    h.reportOn('node-a', { heartbeat: '2026-11-26T07:00:05Z', profiles: [execReport('uid-t', 7, [['/bin/true', 7]])] });
    await h.clock.advance(5_000);
    assert.equal((await h.profileStatus.reconcile(raw())).written, true);
    assert.equal(raw().status?.results?.exec?.execs, 7);

    // More execs only: they wait for the profile's slot in the gap after that write, and the reconciler asks to come back then.
    const lastWriteMs = h.clock.now();
    const slotMs = nextSlotMs(lastWriteMs + 1, 60_000, slotPhase('uid-t'));
    assert.ok(slotMs > lastWriteMs && slotMs <= lastWriteMs + 60_000);
    h.reportOn('node-a', { heartbeat: '2026-11-26T07:00:25Z', profiles: [execReport('uid-t', 9, [['/bin/true', 9]])] });
    await h.clock.advance(Math.min(1_000, slotMs - lastWriteMs - 1));
    const held = await h.profileStatus.reconcile(raw());
    assert.equal(held.written, false);
    assert.equal(held.recheckAtMs, slotMs);
    assert.equal(raw().status?.results?.exec?.execs, 7);
    await h.clock.advance(slotMs - h.clock.now());
    assert.equal((await h.profileStatus.reconcile(raw())).written, true);
    assert.equal(raw().status?.results?.exec?.execs, 9);

    // The plan's report interval, not the profile's 10 s, decides when the node is silent: 3 × 120 s.
    await h.clock.advance(200_000);
    await h.profileStatus.reconcile(raw());
    assert.equal(raw().status?.nodesReady, '1/1');
    await h.clock.advance(200_000);
    assert.equal((await h.profileStatus.reconcile(raw())).written, true, 'a node going silent is news');
    assert.equal(raw().status?.nodesReady, '0/1');
  });

  it('records a Warning when a node drops a probe for the budget, even if it was already Degraded', async () => {
    const h = harness();
    h.putProfile(profile('t', { probes: [{ name: 'exec' }, { name: 'tcp' }], budget: { maxEventsPerSecond: 10 } }));
    h.putPod(pod('web-1', { node: 'node-a' }));
    await h.nodePlans.reconcile('node-a');
    const raw = () => h.profileCache.get('t', 'shop') as ProfileObject;
    const entry = { ...execReport('uid-t', 7, [['/bin/true', 7]]), probesLoaded: ['exec' as const] };
    h.reportOn('node-a', { heartbeat: '2026-11-26T07:00:05Z', profiles: [{ ...entry, errors: [{ probe: 'tcp', message: 'tcp: not loaded' }] }] });
    await h.profileStatus.reconcile(raw());
    const dropped = { probe: 'tcp', reason: 'BudgetExceeded', message: 'over budget on this node for 3 intervals: dropped probe tcp' };
    h.reportOn('node-a', { heartbeat: '2026-11-26T07:00:06Z', profiles: [{ ...entry, errors: [dropped] }] });
    await h.profileStatus.reconcile(raw());
    assert.deepEqual(h.writes.filter((w) => w.startsWith('event Warning')), ['event Warning ProbesFailed', 'event Warning BudgetExceeded']);
    assert.equal(raw().status?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'BudgetExceeded');
  });

  it('marks a profile whose spec does not parse Failed', async () => {
    const h = harness();
    const bad = JSON.parse(JSON.stringify(profile('bad')));
    bad.spec.probes = [];
    h.profileCache.put(bad);
    await h.profileStatus.reconcile(h.profileCache.get('bad', 'shop') as ProfileObject);
    const status = (h.profileCache.get('bad', 'shop') as ProfileObject).status;
    assert.equal(status?.phase, 'Failed');
    assert.match(status?.conditions?.find((c) => c.type === 'Degraded')?.message ?? '', /spec\.probes/);
  });
});
