// The Argo CD health check (config/argocd/traceprofile-health.lua) run by a
// real Lua interpreter over TraceProfile statuses: a hand-written table of
// phases, then the conditions the operator's own profilePhase() produces, so
// the script and the operator cannot drift apart unnoticed. The harness is
// test/support/argocd-health.ts; test/cluster/e2e.test.ts runs it on the
// statuses of a live run.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { Condition } from '../../api/meta.js';
import { TraceProfileStatusSchema, type TraceProfileStatus } from '../../api/traceprofile.js';
import type { NodeReadiness } from '../../operator/node-readiness.js';
import { profilePhase, withTransitionTimes, type PhaseInput } from '../../operator/profile-conditions.js';
import { ARGOCD_DIR, argoHealth as health, HEALTH_SCRIPT as SCRIPT, luaSkip, runLua, toLuaLiteral } from '../support/argocd-health.js';

const run = promisify(execFile);

const NOW = '2026-01-01T00:00:00Z';

function condition(type: Condition['type'], status: Condition['status'], reason: string, message: string, generation = 1): Condition {
  return { type, status, reason, message, lastTransitionTime: NOW, observedGeneration: generation };
}

function profile(status: TraceProfileStatus | undefined, generation = 1): object {
  // Statuses must be ones the CRD would store, or the test proves nothing.
  if (status !== undefined) TraceProfileStatusSchema.parse(status);
  return {
    apiVersion: 'loupe.dev/v1alpha1',
    kind: 'TraceProfile',
    metadata: { name: 'checkout', namespace: 'shop', generation },
    spec: { selector: { matchLabels: { app: 'checkout' } }, probes: [{ name: 'exec' }] },
    ...(status === undefined ? {} : { status }),
  };
}

describe('toLuaLiteral', { skip: luaSkip() }, () => {
  it('carries awkward strings into Lua byte for byte', async () => {
    const awkward = 'say "hi"\\ ]] \n\r\u0001 … 3ms, 1 node(s) ☃ \u00e9' + '\u0000' + '7';
    const harness = `local v = ${toLuaLiteral({ list: [1, 2.5, -3, true, false], s: awkward })}\n` +
      'io.write(#v.list, " ", v.list[2], " ", tostring(v.list[4]), " ", tostring(v.list[5]), "\\n", v.s)';
    assert.equal(await runLua(harness), `5 2.5 true false\n${awkward}`);
  });

  it('turns null into nil, so a null field reads as absent', async () => {
    assert.equal(await runLua(`local v = ${toLuaLiteral({ a: null, b: 1 })}\nio.write(tostring(v.a), " ", v.b)`), 'nil 1');
  });
});

describe('Argo CD health of a TraceProfile', { skip: luaSkip() }, () => {
  const ready = condition('Ready', 'True', 'Tracing', 'tracing 3 containers in 2 pods on 1 node');
  const notProgressing = condition('Progressing', 'False', 'Tracing', 'tracing 3 containers in 2 pods on 1 node');
  const notDegraded = condition('Degraded', 'False', 'NoErrors', '');

  const cases: { name: string; obj: object; status: string; message: RegExp }[] = [
    { name: 'no status yet', obj: profile(undefined), status: 'Progressing', message: /operator to report status/ },
    {
      name: 'Running and Ready',
      obj: profile({ phase: 'Running', observedGeneration: 1, conditions: [ready, notProgressing, notDegraded] }),
      status: 'Healthy',
      message: /tracing 3 containers/,
    },
    {
      name: 'Pending: waiting for nodes',
      obj: profile({
        phase: 'Pending',
        observedGeneration: 1,
        conditions: [
          condition('Ready', 'False', 'WaitingForNodes', '0/2 nodes tracing; waiting for node-a, node-b'),
          condition('Progressing', 'True', 'WaitingForNodes', '0/2 nodes tracing; waiting for node-a, node-b'),
          notDegraded,
        ],
      }),
      status: 'Progressing',
      message: /waiting for node-a, node-b/,
    },
    {
      name: 'Suspended',
      obj: profile({
        phase: 'Suspended',
        observedGeneration: 1,
        conditions: [condition('Ready', 'False', 'Suspended', 'spec.suspend is true: probes detached, results so far kept')],
      }),
      status: 'Suspended',
      message: /spec.suspend is true/,
    },
    {
      name: 'Failed',
      obj: profile({
        phase: 'Failed',
        observedGeneration: 1,
        conditions: [
          condition('Ready', 'False', 'NodesFailed', 'every node failed to trace: node-a'),
          condition('Degraded', 'True', 'NodeErrors', 'node-a: exec: permission denied'),
        ],
      }),
      status: 'Degraded',
      message: /node-a: exec: permission denied/,
    },
    {
      name: 'Running but Degraded',
      obj: profile({
        phase: 'Running',
        observedGeneration: 1,
        conditions: [ready, notProgressing, condition('Degraded', 'True', 'NodeErrors', 'node-b: 1 container(s) not found')],
      }),
      status: 'Degraded',
      message: /node-b: 1 container/,
    },
    {
      name: 'stale observedGeneration: a spec change not yet seen',
      obj: profile({ phase: 'Running', observedGeneration: 2, conditions: [ready, notProgressing, notDegraded] }, 3),
      status: 'Progressing',
      message: /observe generation 3/,
    },
    {
      name: 'no observedGeneration at all',
      obj: profile({ phase: 'Running', conditions: [ready, notProgressing, notDegraded] }, 1),
      status: 'Progressing',
      message: /observe generation 1/,
    },
    {
      name: 'Completed',
      obj: profile({
        phase: 'Completed',
        observedGeneration: 1,
        conditions: [condition('Ready', 'True', 'Completed', 'traced for 10m; probes detached, results are final')],
      }),
      status: 'Healthy',
      message: /traced for 10m/,
    },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status}`, async () => {
      const got = await health(c.obj);
      assert.equal(got.status, c.status, `message: ${got.message}`);
      assert.match(got.message, c.message);
    });
  }

  it('passes a condition message through unchanged, non-ASCII included', async () => {
    const message = 'node-a: exec: "bpf_link_create" failed… (errno 1)';
    const got = await health(profile({
      phase: 'Failed',
      observedGeneration: 1,
      conditions: [condition('Degraded', 'True', 'NodeErrors', message)],
    }));
    assert.deepEqual(got, { status: 'Degraded', message });
  });
});

describe('Argo CD health of what the operator writes', { skip: luaSkip() }, () => {
  const node = (name: string, state: Partial<NodeReadiness> = {}): NodeReadiness => ({ node: name, ready: false, failed: false, ...state });
  const base: PhaseInput = { namespace: 'shop', suspended: false, expired: false, duration: '10m', pods: 2, containers: 3, nodes: [] };

  // The operator's phase logic, each case a situation it meets in a cluster.
  const situations: { name: string; input: PhaseInput; status: string }[] = [
    { name: 'every node tracing', input: { ...base, nodes: [node('a', { ready: true }), node('b', { ready: true })] }, status: 'Healthy' },
    { name: 'one node still attaching', input: { ...base, nodes: [node('a', { ready: true }), node('b')] }, status: 'Progressing' },
    { name: 'no node ready yet', input: { ...base, nodes: [node('a'), node('b')] }, status: 'Progressing' },
    { name: 'no pod matches', input: { ...base, pods: 0, containers: 0 }, status: 'Progressing' },
    {
      name: 'a node reports an error while others trace',
      input: { ...base, nodes: [node('a', { ready: true }), node('b', { ready: true, error: 'tcp: tracepoint missing' })] },
      status: 'Degraded',
    },
    { name: 'every node failed', input: { ...base, nodes: [node('a', { failed: true, error: 'permission denied' })] }, status: 'Degraded' },
    { name: 'suspended', input: { ...base, suspended: true }, status: 'Suspended' },
    { name: 'duration over', input: { ...base, expired: true }, status: 'Healthy' },
  ];

  for (const s of situations) {
    it(`${s.name} → ${s.status}`, async () => {
      const outcome = profilePhase(s.input);
      const generation = 4;
      const status: TraceProfileStatus = {
        phase: outcome.phase,
        observedGeneration: generation,
        conditions: withTransitionTimes(outcome.conditions, undefined, NOW, generation),
      };
      const got = await health(profile(status, generation));
      assert.equal(got.status, s.status, `phase ${outcome.phase}: ${got.message}`);
      // The UI shows why: some condition's message, never an empty string.
      assert.ok(got.message.length > 0);
    });
  }
});

describe('config/argocd as a kustomize component', () => {
  it("merges the script into an Argo CD installation's argocd-cm, under the key Argo reads", async (t) => {
    try {
      execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    } catch {
      if (process.env.CI === 'true') throw new Error('cannot run in CI: kubectl is not installed');
      t.skip('kubectl is not installed');
      return;
    }
    // An Argo CD installation of one ConfigMap, and the component beside it
    // (kustomize accepts components only by relative path).
    const dir = await mkdtemp(join(tmpdir(), 'loupe-argocd-'));
    try {
      await symlink(ARGOCD_DIR, join(dir, 'loupe-argocd'));
      await writeFile(join(dir, 'argocd-cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cm, namespace: argocd}\ndata: {url: https://argocd.example}\n');
      await writeFile(join(dir, 'kustomization.yaml'), 'resources: [argocd-cm.yaml]\ncomponents: [loupe-argocd]\n');
      const { stdout } = await run('kubectl', ['kustomize', dir], { encoding: 'utf8' });
      const cm = parse(stdout);
      assert.equal(cm.metadata.name, 'argocd-cm');
      assert.equal(cm.data.url, 'https://argocd.example');
      assert.equal(cm.data['resource.customizations.health.loupe.dev_TraceProfile'], await readFile(SCRIPT, 'utf8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
