// `npm run bench:scale -- PODS...` (e.g. 1000 10000 50000): Loupe's control
// plane at cluster scale, on the real kube-apiserver and etcd. For each size:
// PODS/30 Nodes; PODS Pods (kubelet-shaped Deployment replicas, Running, with
// container ids), 30 replicas per app, an app's replicas on 30 consecutive
// nodes; PODS/300 TraceProfiles, each tracing one app (so 10% of the pods are
// traced and every node runs about 3 of them) in PODS/3000 namespaces; two
// operator replicas (child processes running the compiled JavaScript as the
// image does, V8 heap capped as in the Deployment, leader election on); and
// one simulated agent per node that writes its plan's status through the
// agent's own reporting code (test/support/simulated-agents.ts). Prints, per size:
//   apply → plans   the last profile applied → every node's plan complete
//   writes/s        every write the API server served (its own metrics:
//                   POST/PUT/PATCH/DELETE/APPLY) over a steady-state window
//                   while every profile runs and every agent reports
//   node age        the oldest NodeTracePlan status heartbeat seen in the window
//   results lag     how far each profile's status results trail what its
//                   nodes had counted (worst profile, worst sample)
//   operator RSS    the leader's resident memory after the window (and peak)
//   label → plan    a pod relabelled from one profile to another → its node's
//                   plan updated (p50/p99 of 30)
//   failover        the leader SIGKILLed, 20 pods relabelled at once → every
//                   plan current again; plans lost, recreated or duplicated
// then fits each measure against the pod count and extrapolates to 150,000.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { nodeTracePlanResource, type NodeTracePlanSpec } from '../../api/nodetraceplan.js';
import { traceProfileResource, type TraceProfileStatus } from '../../api/traceprofile.js';
import { Informer } from '../../kube/informer.js';
import { KubeHttp } from '../../kube/kube-http.js';
import type { KubeObject } from '../../kube/kube-object.js';
import { kubeListWatch } from '../../kube/list-watch.js';
import { leaseResource } from '../../kube/lease-store.js';
import { ResourceClient } from '../../kube/resource-client.js';
import { nodeResource, podResource } from '../../kube/resource-type.js';
import { startControlPlane, type ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { SimulatedAgents, type PlanObject } from '../support/simulated-agents.js';
import { controlPlaneBlocker } from '../support/control-plane-blocker.js';
import { cpuSeconds, pool } from './bench-support.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
if (sizes.length === 0) sizes.push(1000, 10_000);
const PODS_PER_NODE = 30;
const REPLICAS = 30;
/** One profile per this many pods: 500 at 150,000. */
const PODS_PER_PROFILE = 300;
const PROFILES_PER_NAMESPACE = 10;
const LOUPE_NS = 'loupe-system';
const repoRoot = join(import.meta.dirname, '..', '..');

type Profile = KubeObject & { status?: TraceProfileStatus };
type Plan = PlanObject & { status?: { heartbeat?: string } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

async function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${seconds(timeoutMs)} waiting for ${what}`);
    await sleep(50);
  }
  return performance.now();
}

/** A pod as a kubelet-run Deployment replica looks: labels, owner, a container with env, mounts, probes and resources. */
function podManifest(namespace: string, name: string, node: string, app: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { app, 'pod-template-hash': '7d9f8c6b5', 'app.kubernetes.io/part-of': 'shop' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-01T10:00:00Z', 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-7d9f8c6b5`, uid: '6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      nodeName: node,
      serviceAccountName: 'default',
      containers: [{
        name: 'app',
        image: `registry.example.com/shop/${app}:1.42.0`,
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }],
        env: [
          { name: 'LOG_LEVEL', value: 'info' },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: `${app}-db`, key: 'url' } } },
          { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector.observability:4317' },
        ],
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
        readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
        livenessProbe: { httpGet: { path: '/livez', port: 'http' }, periodSeconds: 20, failureThreshold: 3 },
        volumeMounts: [{ name: 'config', mountPath: '/etc/app' }, { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
      }],
      volumes: [
        { name: 'config', configMap: { name: `${app}-config` } },
        { name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] } },
      ],
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    },
  };
}

function podStatus(containerId: string, index: number) {
  const at = '2026-12-07T08:00:00Z';
  return {
    phase: 'Running',
    hostIP: `10.1.${(index >> 8) & 255}.${index & 255}`,
    podIP: `10.2.${(index >> 8) & 255}.${index & 255}`,
    qosClass: 'Burstable',
    startTime: at,
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: at })),
    containerStatuses: [{
      name: 'app',
      ready: true,
      started: true,
      restartCount: 0,
      image: 'registry.example.com/shop/app:1.42.0',
      imageID: 'registry.example.com/shop/app@sha256:4f1c9a0e2b7d6c5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a',
      containerID: containerId,
      state: { running: { startedAt: at } },
    }],
  };
}

/** Writes the API server has served so far, from its own metrics, by resource (status writes as resource/status). */
function apiWrites(kubeconfig: string): Map<string, number> {
  const metrics = execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'get', '--raw', '/metrics'], { maxBuffer: 256 << 20 }).toString();
  const byResource = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    if (!/verb="(POST|PUT|PATCH|DELETE|APPLY)"/.test(line)) continue;
    const label = (name: string) => new RegExp(`[{,]${name}="([^"]*)"`).exec(line)?.[1] ?? '';
    const key = label('subresource') === '' ? label('resource') : `${label('resource')}/${label('subresource')}`;
    byResource.set(key, (byResource.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return byResource;
}

function writesSince(before: Map<string, number>, after: Map<string, number>): { total: number; byResource: Map<string, number> } {
  const byResource = new Map<string, number>();
  for (const [key, n] of after) if (n - (before.get(key) ?? 0) > 0) byResource.set(key, n - (before.get(key) ?? 0));
  return { total: [...byResource.values()].reduce((a, b) => a + b, 0), byResource };
}

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(/\s(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(field)) ?? '')?.[1] ?? NaN);
  return { rss: kb('VmRSS:') / 1024, peak: kb('VmHWM:') / 1024 };
}

interface Row {
  pods: number;
  nodes: number;
  profiles: number;
  setupS: number;
  planMs: number;
  writesPerS: number;
  agentPeriodS: number;
  nodeAgeS: number;
  resultsLagS: number;
  rssMiB: number;
  peakMiB: number;
  labelP50Ms: number;
  labelP99Ms: number;
  failoverMs: number;
  /** Of failoverMs, until the new leader held the Lease. */
  newLeaderMs: number;
  plansLost: number;
}

async function runSize(pods: number): Promise<Row> {
  const nodes = Math.max(1, Math.round(pods / PODS_PER_NODE));
  const profiles = Math.max(1, Math.round(pods / PODS_PER_PROFILE));
  const namespaces = Math.max(1, Math.ceil(profiles / PROFILES_PER_NAMESPACE));
  console.log(`\n== ${pods} pods, ${nodes} nodes, ${profiles} profiles in ${namespaces} namespaces`);
  const controlPlane: ControlPlane = await startControlPlane({ readyTimeoutMs: 180_000 });
  const operators = new Map<string, ChildProcess>();
  let agents: SimulatedAgents | undefined;
  const informers: Informer<KubeObject>[] = [];
  try {
    const kubeconfig = controlPlane.kubeconfigPath;
    const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { stdio: 'pipe' });
    kubectl('apply', '-f', join(repoRoot, 'crds', 'loupe.dev_traceprofiles.yaml'), '-f', join(repoRoot, 'crds', 'loupe.dev_nodetraceplans.yaml'));
    kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd/traceprofiles.loupe.dev', 'crd/nodetraceplans.loupe.dev');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfig);
    const client = new ResourceClient(new KubeHttp(kubeConfig));
    // App k (and profile svc-k, when k < profiles) lives in namespace k % namespaces.
    const nsOf = (app: number) => `team-${app % namespaces}`;
    for (const ns of [LOUPE_NS, ...Array.from({ length: namespaces }, (_, i) => `team-${i}`)]) kubectl('create', 'namespace', ns);

    // Where each pod is and which profile selects it: pod i runs on node i % nodes.
    const nodeName = (n: number) => `node-${String(n).padStart(5, '0')}`;
    const podName = (i: number) => `pod-${String(i).padStart(6, '0')}`;
    const appOf = new Map<number, number>();
    const containerId = (i: number) => `containerd://${i.toString(16).padStart(64, '0')}`;
    let t0 = performance.now();
    await pool(Array.from({ length: nodes }, (_, n) => n), 32, async (n) => {
      await client.create(nodeResource, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName(n), labels: { 'kubernetes.io/hostname': nodeName(n) } } });
    });
    await pool(Array.from({ length: pods }, (_, i) => i), 48, async (i) => {
      const app = Math.floor(i / REPLICAS);
      appOf.set(i, app);
      const ns = nsOf(app);
      await client.create(podResource, podManifest(ns, podName(i), nodeName(i % nodes), `svc-${app}`));
      await client.patchStatus(podResource, { namespace: ns, name: podName(i) }, podStatus(containerId(i), i));
    });
    const setupS = (performance.now() - t0) / 1000;
    console.log(`setup: ${nodes} nodes and ${pods} running pods in ${setupS.toFixed(0)} s`);

    const plans = new Informer<Plan>(kubeListWatch(client, nodeTracePlanResource), { resyncPeriodMs: 0 });
    const profileInformer = new Informer<Profile>(kubeListWatch(client, traceProfileResource), { resyncPeriodMs: 0 });
    informers.push(plans as Informer<KubeObject>, profileInformer as Informer<KubeObject>);
    plans.start();
    profileInformer.start();
    await Promise.all([plans.waitForSync(), profileInformer.waitForSync()]);

    const startOperator = (identity: string) => {
      const child = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'loupe.js'), 'operator', '--health-port', '0', '--namespace', LOUPE_NS], {
        // The heap limit of config/operator/deployment.yaml.
        env: { ...process.env, KUBECONFIG: kubeconfig, POD_NAME: identity, LOUPE_LOG_LEVEL: process.env.LOUPE_LOG_LEVEL ?? 'warn', NODE_OPTIONS: '--max-old-space-size=768' },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      operators.set(identity, child);
    };
    startOperator('operator-a');
    startOperator('operator-b');
    const leader = async () => (await client.get<KubeObject & { spec?: { holderIdentity?: string } }>(leaseResource, { namespace: LOUPE_NS, name: 'loupe-operator' }))?.spec?.holderIdentity;
    let leaderName: string | undefined;
    for (const start = Date.now(); leaderName === undefined || !operators.has(leaderName); await sleep(500)) {
      if (Date.now() - start > 600_000) throw new Error('no operator took the lease within 10 minutes');
      leaderName = await leader();
    }
    console.log(`operators: ${leaderName} leads`);

    // Every plan complete: each node carries each of its profiles with exactly its pods' container ids.
    const expected = new Map<string, Map<string, Set<string>>>();
    const expect = () => {
      expected.clear();
      for (const [i, app] of appOf) {
        if (app >= profiles) continue; // an app no profile traces
        const node = nodeName(i % nodes);
        const byProfile = expected.get(node) ?? new Map<string, Set<string>>();
        expected.set(node, byProfile);
        const ids = byProfile.get(`svc-${app}`) ?? new Set<string>();
        byProfile.set(`svc-${app}`, ids);
        ids.add(containerId(i));
      }
    };
    const allNodes = Array.from({ length: nodes }, (_, n) => nodeName(n));
    const planCurrent = (node: string) => {
      const byProfile = expected.get(node);
      const spec = plans.get(node)?.spec as NodeTracePlanSpec | undefined;
      if (byProfile === undefined) return spec === undefined || spec.profiles.every((p) => p.targets.length === 0);
      if (spec === undefined || spec.profiles.filter((p) => p.targets.length > 0).length !== byProfile.size) return false;
      for (const entry of spec.profiles) {
        if (entry.targets.length === 0) continue;
        const ids = byProfile.get(entry.name);
        if (ids === undefined || entry.targets.length !== ids.size || entry.targets.some((t) => !ids.has(t.containerId))) return false;
      }
      return true;
    };
    const allPlansCurrent = () => allNodes.every(planCurrent);

    const leaderPid = operators.get(leaderName as string)?.pid as number;
    const applyWritesBefore = apiWrites(kubeconfig);
    const cpuBefore = { apiserver: cpuSeconds(controlPlane.pids.apiserver), etcd: cpuSeconds(controlPlane.pids.etcd), operator: cpuSeconds(leaderPid) };
    t0 = performance.now();
    await pool(Array.from({ length: profiles }, (_, k) => k), 16, async (k) => {
      await client.create(traceProfileResource, {
        apiVersion: 'loupe.dev/v1alpha1',
        kind: 'TraceProfile',
        metadata: { name: `svc-${k}`, namespace: nsOf(k) },
        spec: { selector: { matchLabels: { app: `svc-${k}` } }, probes: [{ name: 'exec' }] },
      });
    });
    const lastApply = performance.now();
    expect();
    const planMs = (await waitUntil('every plan', allPlansCurrent, 900_000)) - lastApply;
    // Where the time went: on 2 cores the API server's CPU per plan write bounds this.
    const cpu = (name: keyof typeof cpuBefore, pid: number) => (cpuSeconds(pid) - cpuBefore[name]).toFixed(1);
    console.log(`apply → plans: ${expected.size} plans complete ${seconds(planMs)} after the last of ${profiles} profiles was applied (${seconds(lastApply - t0)} to apply them); CPU s meanwhile: kube-apiserver ${cpu('apiserver', controlPlane.pids.apiserver)}, etcd ${cpu('etcd', controlPlane.pids.etcd)}, leading operator ${cpu('operator', leaderPid)}`);
    const applyWrites = writesSince(applyWritesBefore, apiWrites(kubeconfig));
    console.log(`  writes meanwhile: ${[...applyWrites.byResource].sort((a, b) => b[1] - a[1]).map(([resource, n]) => `${resource} ${n}`).join(', ')}`);

    agents = new SimulatedAgents({ client, plans, execsPerPodPerSecond: 1 });
    agents.start();
    await waitUntil('every profile Running on every node', () => {
      const all = profileInformer.list();
      return all.length === profiles && all.every((p) => p.status?.phase === 'Running' && p.status.nodes?.ready === p.status.nodes?.total && (p.status.nodes?.total ?? 0) > 0);
    }, 900_000);
    const periodS = Math.max(...plans.list().map((p) => p.spec?.reportIntervalSeconds ?? 0), 10);
    console.log(`reporting: every profile Running; agents report every ${periodS} s`);

    // Steady state: one agent period to settle, then two periods (at least a minute) measured.
    await sleep(periodS * 1000);
    const windowMs = Math.max(60_000, 2 * periodS * 1000);
    const writesBefore = apiWrites(kubeconfig);
    const windowCpu = [controlPlane.pids.apiserver, controlPlane.pids.etcd, leaderPid].map(cpuSeconds);
    const windowStart = performance.now();
    let nodeAgeMs = 0;
    let resultsLagMs = 0;
    agents.maxWakeLateMs = 0;
    agents.maxWriteMs = 0;
    const uids = () => new Map(profileInformer.list().map((p) => [p.metadata?.uid ?? '', p]));
    while (performance.now() - windowStart < windowMs) {
      const now = Date.now();
      for (const plan of plans.list()) {
        const heartbeat = plan.status?.heartbeat;
        if (heartbeat !== undefined) nodeAgeMs = Math.max(nodeAgeMs, now - Date.parse(heartbeat));
      }
      // A status holding V execs is as fresh as the moment the nodes had counted V: find it by bisection.
      for (const [uid, profile] of uids()) {
        const shown = profile.status?.results?.exec?.execs ?? 0;
        let [lo, hi] = [now - 900_000, now];
        for (let step = 0; step < 30; step++) {
          const mid = (lo + hi) / 2;
          if (agents.countedBy(uid, mid) <= shown) lo = mid;
          else hi = mid;
        }
        resultsLagMs = Math.max(resultsLagMs, now - lo);
        // The agents share this process: let their timers run between profiles.
        await new Promise(setImmediate);
      }
      await sleep(2_000);
    }
    const windowS = (performance.now() - windowStart) / 1000;
    const windowWrites = writesSince(writesBefore, apiWrites(kubeconfig));
    const writesPerS = windowWrites.total / windowS;
    const [apiserverCpu, etcdCpu, operatorCpu] = [controlPlane.pids.apiserver, controlPlane.pids.etcd, leaderPid].map((pid, i) => `${((100 * (cpuSeconds(pid) - (windowCpu[i] as number))) / windowS).toFixed(0)}%`);
    const memory = rssMiB(leaderPid);
    console.log(`steady state: ${writesPerS.toFixed(1)} writes/s over ${windowS.toFixed(0)} s (agents ${agents.writes} writes so far, ${agents.failures} failed); oldest node status ${seconds(nodeAgeMs)} (agents woke ≤ ${seconds(agents.maxWakeLateMs)} late, writes took ≤ ${seconds(agents.maxWriteMs)}); results lag ≤ ${seconds(resultsLagMs)}; leader RSS ${memory.rss.toFixed(0)} MiB (peak ${memory.peak.toFixed(0)} MiB); CPU (one core = 100%): kube-apiserver ${apiserverCpu}, etcd ${etcdCpu}, leading operator ${operatorCpu}`);
    console.log(`  writes/s by resource: ${[...windowWrites.byResource].sort((a, b) => b[1] - a[1]).map(([resource, n]) => `${resource} ${(n / windowS).toFixed(2)}`).join(', ')}`);

    // A pod moves from one profile to another by a label change.
    const relabel = async (i: number): Promise<number> => {
      const from = appOf.get(i) as number;
      // The next traced app of the pod's namespace.
      const to = from + namespaces < profiles ? from + namespaces : from % namespaces;
      appOf.set(i, to);
      await client.mergePatch(podResource, { namespace: nsOf(from), name: podName(i) }, { metadata: { labels: { app: `svc-${to}` } } });
      return to;
    };
    const labelLatencies: number[] = [];
    for (let s = 0; s < 30; s++) {
      const i = (s * 7919 + 13) % (profiles * REPLICAS);
      const sent = performance.now();
      await relabel(i);
      expect();
      labelLatencies.push((await waitUntil(`relabelled ${podName(i)} in its plan`, () => planCurrent(nodeName(i % nodes)), 60_000)) - sent);
    }
    console.log(`label → plan: p50 ${labelLatencies.length ? percentile(labelLatencies, 0.5).toFixed(0) : '-'} ms, p99 ${percentile(labelLatencies, 0.99).toFixed(0)} ms`);

    // Failover: the leader dies without releasing its Lease, and pods change while no one leads.
    const planUids = new Map(plans.list().map((p) => [p.metadata?.name ?? '', p.metadata?.uid ?? '']));
    const killedAt = performance.now();
    operators.get(leaderName as string)?.kill('SIGKILL');
    await pool(Array.from({ length: 20 }, (_, s) => (s * 104_729 + 7) % (profiles * REPLICAS)), 20, async (i) => void (await relabel(i)));
    expect();
    let newLeader = await leader();
    while (newLeader === leaderName) {
      await sleep(200);
      newLeader = await leader();
    }
    const leaderMs = performance.now() - killedAt;
    const failoverMs = (await waitUntil('plans current after failover', allPlansCurrent, 300_000)) - killedAt;
    const after = plans.list();
    const lost = [...planUids].filter(([name, uid]) => expected.has(name) && after.find((p) => p.metadata?.name === name)?.metadata?.uid !== uid).length;
    console.log(`failover: ${leaderName} killed; ${newLeader} leads ${seconds(leaderMs)} later; every plan current ${seconds(failoverMs)} after the kill; ${lost} plan(s) lost or recreated, ${after.length} plans for ${expected.size} nodes`);

    return {
      pods, nodes, profiles, setupS,
      planMs, writesPerS, agentPeriodS: periodS, nodeAgeS: nodeAgeMs / 1000, resultsLagS: resultsLagMs / 1000,
      rssMiB: memory.rss, peakMiB: memory.peak,
      labelP50Ms: percentile(labelLatencies, 0.5), labelP99Ms: percentile(labelLatencies, 0.99),
      failoverMs, newLeaderMs: leaderMs, plansLost: lost + Math.abs(after.length - expected.size),
    };
  } finally {
    await agents?.stop();
    for (const child of operators.values()) child.kill('SIGKILL');
    await Promise.all(informers.map((informer) => informer.stop()));
    // BENCH_LOG_DIR=DIR keeps the API server's and etcd's logs of each size.
    if (process.env.BENCH_LOG_DIR) await cp(controlPlane.workDir, join(process.env.BENCH_LOG_DIR, `scale-${pods}`), { recursive: true, filter: (path) => !path.includes('/etcd/') && !path.includes('/certs') });
    await controlPlane.stop();
  }
}

/** Least squares of y = a + b·x; used to extrapolate each measure to 150,000 pods. */
function fitLine(xs: number[], ys: number[]): (x: number) => number {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const b = sxx === 0 ? 0 : xs.reduce((s, x, i) => s + (x - mx) * ((ys[i] as number) - my), 0) / sxx;
  return (x) => my + b * (x - mx);
}

const blocker = await controlPlaneBlocker();
if (blocker !== undefined) {
  console.error(`cannot run: ${blocker}`);
  process.exit(1);
}
// The operator runs as its image runs it: compiled JavaScript (as Dockerfile.operator and hack/build.sh compile it), not through tsx.
execFileSync('npx', ['tsc', '-p', join(repoRoot, 'tsconfig.json')], { cwd: repoRoot, stdio: 'inherit' });
const rows: Row[] = [];
for (const pods of sizes) rows.push(await runSize(pods));

const columns: Array<[string, (r: Row) => string]> = [
  ['pods', (r) => String(r.pods)],
  ['nodes', (r) => String(r.nodes)],
  ['profiles', (r) => String(r.profiles)],
  ['apply→plans s', (r) => (r.planMs / 1000).toFixed(2)],
  ['writes/s', (r) => r.writesPerS.toFixed(1)],
  ['report every s', (r) => String(r.agentPeriodS)],
  ['node status age s', (r) => r.nodeAgeS.toFixed(0)],
  ['results lag s', (r) => r.resultsLagS.toFixed(0)],
  ['operator RSS MiB (peak)', (r) => `${r.rssMiB.toFixed(0)} (${r.peakMiB.toFixed(0)})`],
  ['label→plan p50/p99 ms', (r) => `${r.labelP50Ms.toFixed(0)}/${r.labelP99Ms.toFixed(0)}`],
  ['failover s', (r) => (r.failoverMs / 1000).toFixed(1)],
  ['plans lost', (r) => String(r.plansLost)],
];
console.log(`\n${columns.map(([name]) => name).join(' | ')}`);
for (const row of rows) console.log(columns.map(([, cell]) => cell(row)).join(' | '));
if (rows.length >= 2) {
  const xs = rows.map((r) => r.pods);
  const at = 150_000;
  const fit = (pick: (r: Row) => number) => fitLine(xs, rows.map(pick))(at);
  console.log(`\nlinear fit over ${xs.join(', ')} pods, at ${at} pods / 5,000 nodes / 500 profiles:`);
  console.log(`  apply → plans ${(fit((r) => r.planMs) / 1000).toFixed(1)} s; operator RSS ${fit((r) => r.rssMiB).toFixed(0)} MiB (peak ${fit((r) => r.peakMiB).toFixed(0)} MiB); label → plan p99 ${fit((r) => r.labelP99Ms).toFixed(0)} ms`);
  // Taking the Lease over depends on where in the renewal cycle the leader died, not on the cluster's size:
  // the worst one measured, plus the catch-up after it, which does grow with the cluster, fitted.
  const worstTakeOverMs = Math.max(...rows.map((r) => r.newLeaderMs));
  console.log(`  failover ${((worstTakeOverMs + fit((r) => r.failoverMs - r.newLeaderMs)) / 1000).toFixed(1)} s (the slowest take-over measured, ${(worstTakeOverMs / 1000).toFixed(1)} s, plus the catch-up fitted)`);
}
