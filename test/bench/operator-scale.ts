// `npm run bench:operator`: the operator (a child process, as in a cluster)
// against a real kube-apiserver with 200 nodes, 6,000 running pods and 50
// TraceProfiles. Prints: time from the last apply until every node's plan is
// complete, pod-change → plan latency (p50/p99), time until node reports show
// in every profile's status, and the operator's API writes per minute at steady
// state while agents keep reporting. Goals: plans within 10 s, zero writes.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { NodeProfileStatus, NodeTracePlanSpec } from '../../api/nodetraceplan.js';
import type { TraceProfileStatus } from '../../api/traceprofile.js';
import { nodeTracePlanResource, traceProfileResource } from '../../operator/loupe-operator.js';
import { Informer } from '../../kube/informer.js';
import { KubeHttp } from '../../kube/kube-http.js';
import type { KubeObject } from '../../kube/kube-object.js';
import { kubeListWatch } from '../../kube/list-watch.js';
import { ResourceClient } from '../../kube/resource-client.js';
import { controlPlaneBlocker } from '../support/control-plane-blocker.js';
import { startControlPlane } from '../../hack/local-cluster/control-plane.js';
import { restartContainer, runPod } from '../../hack/local-cluster/pod-lifecycle.js';

const NODES = Number(process.env.BENCH_NODES ?? 200);
const PODS = Number(process.env.BENCH_PODS ?? 6000);
const PROFILES = Number(process.env.BENCH_PROFILES ?? 50);
const CHURN_SAMPLES = Number(process.env.BENCH_CHURN ?? 200);
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 60);
const NS = 'bench';
const repoRoot = join(import.meta.dirname, '..', '..');

type Plan = KubeObject & { spec?: NodeTracePlanSpec; status?: unknown };
type Profile = KubeObject & { status?: TraceProfileStatus };

const nodeOf = (i: number) => `node-${String(i % NODES).padStart(3, '0')}`;
const appOf = (i: number) => `svc-${i % PROFILES}`;
const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await work(items[next++] as T);
  }));
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

async function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
  return performance.now();
}

const blocker = await controlPlaneBlocker();
if (blocker !== undefined) {
  console.error(`cannot run: ${blocker}`);
  process.exit(1);
}

const controlPlane = await startControlPlane();
let operatorProcess: ReturnType<typeof spawn> | undefined;
try {
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', controlPlane.kubeconfigPath, ...args], { stdio: 'pipe' });
  kubectl('apply', '-f', join(repoRoot, 'crds', 'loupe.dev_traceprofiles.yaml'), '-f', join(repoRoot, 'crds', 'loupe.dev_nodetraceplans.yaml'));
  kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd/traceprofiles.loupe.dev', 'crd/nodetraceplans.loupe.dev');
  kubectl('create', 'namespace', NS);
  kubectl('create', 'namespace', 'loupe-system');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
  const client = new ResourceClient(new KubeHttp(kubeConfig));

  // What we watch: every plan and profile, with the time of each change the operator makes.
  const plans = new Informer<Plan>(kubeListWatch(client, nodeTracePlanResource), { resyncPeriodMs: 0 });
  const profiles = new Informer<Profile>(kubeListWatch(client, traceProfileResource, { namespace: NS }), { resyncPeriodMs: 0 });
  const operatorWrites: number[] = [];
  plans.on((e) => {
    // Plan status belongs to the agents (here: this script); spec changes and deletions are the operator's.
    if (e.type === 'added' || e.type === 'deleted' || e.object.metadata?.generation !== e.previous?.metadata?.generation) operatorWrites.push(performance.now());
  });
  profiles.on((e) => {
    if (e.type === 'modified') operatorWrites.push(performance.now());
  });
  plans.start();
  profiles.start();
  await Promise.all([plans.waitForSync(), profiles.waitForSync()]);

  const logFile = join(controlPlane.workDir, 'operator.log');
  // BENCH_OPERATOR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the operator.
  const nodeArgs = (process.env.BENCH_OPERATOR_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  operatorProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(repoRoot, 'cli', 'loupe.ts'), 'operator', '--no-leader-election', '--health-port', '0'], {
    env: { ...process.env, KUBECONFIG: controlPlane.kubeconfigPath, LOUPE_LOG_LEVEL: process.env.LOUPE_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  operatorProcess.stdout?.pipe(log);
  operatorProcess.stderr?.pipe(log);

  // The kubelet's part: 6,000 pods bound to 200 nodes, reported Running with container ids.
  const containerIds = new Map<string, string>();
  let serial = 0;
  const newId = (pod: string) => `containerd://${pod}-${(++serial).toString(16).padStart(8, '0')}`;
  const podNames = Array.from({ length: PODS }, (_, i) => `pod-${String(i).padStart(5, '0')}`);
  let t0 = performance.now();
  await pool(podNames.map((name, i) => ({ name, i })), 64, async ({ name, i }) => {
    const id = newId(name);
    containerIds.set(name, id);
    await runPod(client, { namespace: NS, name, node: nodeOf(i), labels: { app: appOf(i) }, containers: { app: id } });
  });
  console.log(`setup: ${PODS} running pods on ${NODES} nodes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Every plan complete: each node carries each profile with exactly the container ids of its pods.
  const expected = new Map<string, Map<string, Set<string>>>();
  const expect = () => {
    expected.clear();
    podNames.forEach((name, i) => {
      const byProfile = expected.get(nodeOf(i)) ?? new Map<string, Set<string>>();
      expected.set(nodeOf(i), byProfile);
      const ids = byProfile.get(appOf(i)) ?? new Set<string>();
      byProfile.set(appOf(i), ids);
      ids.add(containerIds.get(name) as string);
    });
  };
  const plansComplete = () => {
    for (const [node, byProfile] of expected) {
      const spec = plans.get(node)?.spec;
      if (spec === undefined || spec.profiles.length !== byProfile.size) return false;
      for (const entry of spec.profiles) {
        const ids = byProfile.get(entry.name);
        if (ids === undefined || entry.targets.length !== ids.size || entry.targets.some((t) => !ids.has(t.containerId))) return false;
      }
    }
    return plans.list().length === expected.size;
  };

  t0 = performance.now();
  await pool(Array.from({ length: PROFILES }, (_, k) => k), 16, async (k) => {
    await client.create(traceProfileResource, {
      apiVersion: 'loupe.dev/v1alpha1',
      kind: 'TraceProfile',
      metadata: { name: `svc-${k}`, namespace: NS },
      spec: { selector: { matchLabels: { app: `svc-${k}` } }, probes: [{ name: 'exec' }] },
    });
  });
  const lastApply = performance.now();
  expect();
  const planned = await waitUntil('every plan', plansComplete, 300_000);
  console.log(`plans: ${expected.size} plans complete ${((planned - lastApply) / 1000).toFixed(2)} s after the last of ${PROFILES} profiles was applied (goal ≤ 10 s)`);

  // Churn: restart one container at a time; latency = patch sent → new id in the node's plan.
  const latencies: number[] = [];
  for (let s = 0; s < CHURN_SAMPLES; s++) {
    const i = (s * 7919) % PODS;
    const name = podNames[i] as string;
    const id = newId(name);
    containerIds.set(name, id);
    const sent = performance.now();
    await restartContainer(client, NS, name, 'app', id);
    const seen = await waitUntil(`${name} restart in plan`, () =>
      plans.get(nodeOf(i))?.spec?.profiles.find((p) => p.name === appOf(i))?.targets.some((t) => t.containerId === id) === true, 60_000);
    latencies.push(seen - sent);
  }
  latencies.sort((a, b) => a - b);
  console.log(`churn: pod change → plan, ${CHURN_SAMPLES} samples: p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p99 ${percentile(latencies, 0.99).toFixed(0)} ms, max ${(latencies.at(-1) ?? NaN).toFixed(0)} ms`);

  // The agents' part: every node reports every profile it carries, Running, with fixed results.
  const uids = new Map(profiles.list().map((p) => [p.metadata?.name as string, p.metadata?.uid as string]));
  const reportAll = () =>
    pool([...expected.keys()], 32, async (node) => {
      const entries: NodeProfileStatus[] = [...(expected.get(node)?.entries() ?? [])].map(([profile, ids]) => ({
        uid: uids.get(profile) as string,
        state: 'Running',
        probesLoaded: ['exec'],
        targets: { resolved: ids.size },
        results: { exec: { execs: ids.size * 10, exits: ids.size * 10, topCommands: [{ key: '/bin/true', count: ids.size * 10 }] } },
      }));
      await client.patchStatus(nodeTracePlanResource, { name: node }, { heartbeat: stamp(), profiles: entries });
    });
  t0 = performance.now();
  await reportAll();
  const reported = await waitUntil('every profile Running with every node ready', () => {
    const all = profiles.list();
    return all.length === PROFILES && all.every((p) => p.status?.phase === 'Running' && p.status.nodes?.ready === p.status.nodes?.total && p.status.results?.exec?.execs === (p.status.targets?.pods ?? -1) * 10);
  }, 120_000);
  console.log(`status: ${PROFILES} profiles Running with merged results ${((reported - t0) / 1000).toFixed(2)} s after ${expected.size} node reports`);

  // Steady state: agents keep reporting the same results every 10 s; the operator should write nothing.
  await sleep(3_000);
  const windowStart = performance.now();
  const writesBefore = operatorWrites.length;
  let rounds = 0;
  while (performance.now() - windowStart < STEADY_SECONDS * 1000) {
    await reportAll();
    rounds++;
    await sleep(Math.max(0, 10_000 - ((performance.now() - windowStart) % 10_000)));
  }
  const minutes = (performance.now() - windowStart) / 60_000;
  const writes = operatorWrites.length - writesBefore;
  console.log(`steady state: ${writes} operator writes in ${(minutes * 60).toFixed(0)} s (${(writes / minutes).toFixed(1)}/min; goal 0) while ${expected.size} agents reported ${rounds} times`);

  await Promise.all([plans.stop(), profiles.stop()]);
} finally {
  operatorProcess?.kill('SIGTERM');
  await controlPlane.stop();
}
