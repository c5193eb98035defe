// The Grafana dashboards against real data: `kubectl apply` of TraceProfiles
// with every probe on the app=shop pods of a real kube-apiserver, `loupe
// operator` and a `loupe agent`, the real OpenTelemetry Collector forwarding
// Loupe's OTLP to a real Prometheus's OTLP receiver (resource attributes
// promoted to labels). The pods are kubelet-shaped cgroups running real
// programs (Python's HTTP(S) server, curl, dd, a DNS client, a shell burning
// CPU, an allocation OOM-killed in a memory cgroup).
// Every query of every panel of every dashboard, its variables substituted
// as Grafana substitutes them, must return series; one that returns none
// fails the test by dashboard, panel and query. Also: the metric names
// Prometheus got are the ones the unit test derives from the descriptors,
// the variables list the test's namespace, profile and pods, and the
// kustomization provisions the dashboards as labelled ConfigMaps.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryCgroup } from '../support/memory-cgroup.js';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { z } from 'zod';
import { traceProfileResource, type TraceProfileStatus } from '../../api/traceprofile.js';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { createPod, reportRunning } from '../../hack/local-cluster/pod-lifecycle.js';
import type { KubeObject } from '../../kube/kube-object.js';
import type { ResourceClient } from '../../kube/resource-client.js';
import { PROBE_NAMES } from '../../probes/registry.js';
import { curl, selfSignedCertificate, startHttpServer } from '../support/app-workloads.js';
import { startCollector, type Collector } from '../support/collector.js';
import { controlPlaneSuiteSkip } from '../support/control-plane-blocker.js';
import { A, dnsClient, Responder, V4 } from '../support/dns-workloads.js';
import {
  ALL,
  DASHBOARD_DIR,
  declaredPrometheusNames,
  loadDashboards,
  panelQueries,
  parseLabelValues,
  substitute,
  variableQuery,
  type BuiltIns,
  type DashboardFile,
  type VariableValues,
} from '../support/grafana-dashboards.js';
import { startLoupeControlPlane, type LoupeControlPlane } from '../support/loupe-control-plane.js';
import { LoupeProcess } from '../support/loupe-process.js';
import { kernelTestBlocker, suiteSkip } from '../support/privileged.js';
import { prometheusBlocker, startPrometheus, type Prometheus } from '../support/prometheus.js';
import { waitFor as waitUntil } from '../support/wait-for.js';

const NS = 'shop';
// Two profiles share the probes: one with all twelve cannot write its status
// (status.probes, "exec,syscalls,…", is longer than its 64-byte maxLength).
const PROFILES: Record<string, string[]> = {
  system: PROBE_NAMES.slice(0, 6),
  app: PROBE_NAMES.slice(6),
};
const LOUPE_PROFILES = Object.keys(PROFILES).map((name) => `${NS}/${name}`).sort();

type Profile = KubeObject & { status?: TraceProfileStatus };

// Grafana's $__rate_interval is at least four scrape intervals (15 s by
// default): 1m. The range is the last 5 minutes, which holds the whole run.
const BUILT_INS: BuiltIns = { __rate_interval: '1m', __interval: '15s', __range: '5m' };
const STEP_S = 15;
const RANGE_S = 300;

let controlPlane: ControlPlane | undefined;
let prometheus: Prometheus | undefined;
let collector: Collector | undefined;
let workDir: string | undefined;
let client: ResourceClient;
let kubectl: LoupeControlPlane['kubectl'];
let operator: LoupeProcess | undefined;
let agent: LoupeProcess | undefined;
let responder: Responder | undefined;
const pods = new Map<string, LocalPod>();

const diagnostics = () =>
  [operator, agent].map((p) => `--- ${p?.name}:\n${p?.log.split('\n').slice(-12).join('\n')}`).join('\n') +
  `\n--- prometheus:\n${prometheus?.logTail() ?? ''}`;

function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 45_000): Promise<T> {
  return waitUntil(what, probe, { timeoutMs, intervalMs: 250, diagnostics });
}

/** A Pod object on node-a whose container is a LocalPod cgroup, reported Running. */
async function startPod(name: string): Promise<LocalPod> {
  const uid = await createPod(client, { namespace: NS, name, node: 'node-a', labels: { app: 'shop' }, containers: ['app'] });
  const pod = new LocalPod('burstable', undefined, uid);
  pods.set(name, pod);
  await reportRunning(client, NS, name, { app: pod.containerRef });
  return pod;
}

/** An allocation in web, 8 times over a 32 MiB memory limit: one OOM kill the oomkill probe sees. */
async function oomKill(): Promise<void> {
  const memory = new MemoryCgroup(32 << 20);
  try {
    const status = await (pods.get('web') as LocalPod).run(`echo $$ > '${memory.dir}/cgroup.procs' && python3 -c 'b = bytearray(${256 << 20})'`);
    assert.notEqual(status, 0, 'the allocation was OOM-killed');
  } finally {
    memory.remove();
  }
}

/**
 * One round of what the pods do, so every probe has something to count:
 * web opens files (one missing: failed opens and syscalls), writes with
 * O_DIRECT (block I/O), burns CPU (profile samples, run-queue waits), calls
 * itself over HTTP (client and server, TCP connects and accepts, execs) and
 * looks names up (one NXDOMAIN); shopper calls web over HTTP and HTTPS.
 */
async function workloadRound(ports: { plain: number; https: number }): Promise<void> {
  const web = pods.get('web') as LocalPod;
  const shopper = pods.get('shopper') as LocalPod;
  const dir = workDir as string;
  const status = await web.run(
    `cat /etc/hostname >/dev/null; cat /nonexistent 2>/dev/null; ` +
      `dd if=/dev/zero of='${dir}/direct-io' bs=64k count=16 oflag=direct conv=fsync 2>/dev/null; ` +
      `i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; ` +
      `curl -s -o /dev/null http://127.0.0.1:${ports.plain}/ok/1`,
  );
  assert.equal(status, 0, 'the workload script in web');
  await dnsClient(web, [
    { name: 'web#.ok.test', type: A, count: 2 },
    { name: 'gone.nx.test', type: A, count: 1 },
  ]);
  await curl(shopper, `http://127.0.0.1:${ports.plain}`, ['/ok/2', '/missing']);
  await curl(shopper, `https://127.0.0.1:${ports.https}`, ['/ok/3']);
  await dnsClient(shopper, [{ name: 'shopper#.ok.test', type: A, count: 1 }]);
}

/** What a dashboard's variables are set to, as a user picks them: All, then one of each. */
function assignments({ dashboard }: DashboardFile): VariableValues[] {
  // Both profiles: each has half the probes, and a multi-value pick is a regex.
  const specific: Record<string, string | string[]> = { namespace: NS, profile: LOUPE_PROFILES, pod: 'web' };
  const names = dashboard.templating.list.filter((v) => v.type === 'query').map((v) => v.name);
  const withAll = dashboard.templating.list.some((v) => v.includeAll === true);
  const one = Object.fromEntries(names.map((n) => [n, specific[n] ?? assert.fail(`no value for $${n}`)]));
  const all = Object.fromEntries(dashboard.templating.list.filter((v) => v.type === 'query').map((v) => [v.name, v.includeAll ? ALL : specific[v.name]!]));
  return withAll ? [all, one] : [one];
}

interface Failure {
  where: string;
  query: string;
  reason: string;
}

/** Runs every panel query of every dashboard as Grafana would send it; the ones without series. */
async function failingQueries(dashboards: readonly DashboardFile[]): Promise<{ checked: number; failures: Failure[] }> {
  const p = prometheus as Prometheus;
  const end = Math.floor(Date.now() / 1000);
  const failures: Failure[] = [];
  let checked = 0;
  for (const file of dashboards) {
    const variables = file.dashboard.templating.list;
    for (const values of assignments(file)) {
      const shown = Object.entries(values).map(([k, v]) => `${k}=${v === ALL ? 'All' : typeof v === 'string' ? v : v.join('+')}`).join(' ');
      for (const q of panelQueries(file)) {
        const query = substitute(q.target.expr, variables, values, BUILT_INS);
        const where = `${file.file} (${q.dashboard}) panel "${q.panel}" ${q.refId} [${shown}]`;
        checked++;
        try {
          const series = q.target.instant === true ? await p.query(query, end) : await p.queryRange(query, { start: end - RANGE_S, end, step: STEP_S });
          if (series.length === 0) failures.push({ where, query, reason: 'no series' });
        } catch (err) {
          failures.push({ where, query, reason: (err as Error).message });
        }
      }
    }
  }
  return { checked, failures };
}

const ConfigMapListSchema = z.object({
  items: z.array(z.object({ metadata: z.object({ name: z.string(), labels: z.record(z.string(), z.string()) }), data: z.record(z.string(), z.string()) })),
});

const kernelBlocker = kernelTestBlocker() ?? prometheusBlocker();
const skip = kernelBlocker !== undefined ? suiteSkip(kernelBlocker) : await controlPlaneSuiteSkip();

describe('grafana dashboards: every panel query returns series from a real Prometheus fed by the real Collector', { skip }, () => {
  const dashboards = loadDashboards();
  const ports = { plain: 0, https: 0 };

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'loupe-grafana-'));
    ({ controlPlane, client, kubectl } = await startLoupeControlPlane(NS));
    prometheus = await startPrometheus();
    collector = await startCollector({
      metricsExporters: {
        // Prometheus's own OTLP receiver, which promotes the resource
        // attributes (k8s.namespace.name, k8s.pod.name, loupe.profile, …) to labels.
        otlp_http: { endpoint: prometheus.otlpEndpoint },
      },
    });
    responder = new Responder();
    await responder.listen('udp4', V4, 53);
    operator = new LoupeProcess('operator', ['operator', '--kubeconfig', controlPlane.kubeconfigPath, '--namespace', 'default', '--health-port', '0']);
    agent = new LoupeProcess('agent node-a', ['agent', '--node-name', 'node-a', '--kubeconfig', controlPlane.kubeconfigPath, '--profile-port', '0']);
    const web = await startPod('web');
    await startPod('shopper');
    // The servers run before the profile, so the tls probe finds their libssl when it loads.
    const { cert, key } = selfSignedCertificate(workDir);
    ports.plain = (await startHttpServer(web, [])).port;
    ports.https = (await startHttpServer(web, [cert, key])).port;
    await waitFor('the operator and the agent to start', async () => /"operator started"/.test(operator?.log ?? '') && /"agent started"/.test(agent?.log ?? ''), 60_000);
  });

  after(async () => {
    await Promise.all([agent?.stop(), operator?.stop()]);
    for (const pod of pods.values()) {
      await pod.killAll().catch(() => {});
      pod.remove();
    }
    responder?.close();
    await collector?.stop();
    await prometheus?.stop();
    await controlPlane?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('traces the pods with every probe', async () => {
    for (const [name, probes] of Object.entries(PROFILES)) {
      const manifest = join(workDir as string, `${name}.yaml`);
      await writeFile(manifest, stringify({
        apiVersion: 'loupe.dev/v1alpha1',
        kind: 'TraceProfile',
        metadata: { name, namespace: NS },
        spec: {
          selector: { matchLabels: { app: 'shop' } },
          probes: probes.map((probe) => ({ name: probe })),
          interval: '5s',
          output: { otlp: { endpoint: (collector as Collector).grpcEndpoint, insecure: true } },
        },
      }));
      await kubectl('apply', '-f', manifest);
    }
    for (const name of Object.keys(PROFILES)) {
      await waitFor(`${name}: Running with both pods traced`, async () => {
        const status = (await client.get<Profile>(traceProfileResource, { namespace: NS, name }))?.status;
        return status?.phase === 'Running' && status.targets?.pods === 2 && status.nodes?.ready === 1;
      }, 90_000);
    }
  });

  it('answers every panel query of every dashboard with series', async () => {
    let last = { checked: 0, failures: [] as Failure[] };
    let rounds = 0;
    const deadline = Date.now() + 150_000;
    await oomKill();
    // Rates need two samples in $__rate_interval, and some series appear
    // only once their top list has an entry: run rounds until all answer.
    for (;;) {
      await workloadRound(ports);
      rounds++;
      last = await failingQueries(dashboards);
      if (last.failures.length === 0 || Date.now() > deadline) break;
    }
    const report = last.failures.map((f) => `  ${f.where}: ${f.reason}\n    ${f.query}`).join('\n');
    assert.equal(last.failures.length, 0, `${last.failures.length} of ${last.checked} panel queries returned no series after ${rounds} workload rounds:\n${report}\n${diagnostics()}`);
    console.log(`# ${last.checked} panel queries over ${dashboards.length} dashboards returned series (after ${rounds} workload rounds)`);
  });

  it('receives in Prometheus exactly names the unit test derives from the probe descriptors', async () => {
    const declared = declaredPrometheusNames();
    const loupe = (await (prometheus as Prometheus).metricNames()).filter((n) => /^(loupe_|http_|dns_)/.test(n));
    assert.deepEqual(loupe.filter((n) => !declared.has(n)), [], 'names Prometheus has that no descriptor declares under that name');
    assert.ok(loupe.length >= 40, `Prometheus has ${loupe.length} Loupe metric names`);
    // Series carry the resource attributes as labels, which every panel filters by.
    const [series] = await (prometheus as Prometheus).query(`loupe_syscalls_calls_total{k8s_pod_name="web"}`);
    assert.equal(series?.metric.k8s_namespace_name, NS);
    assert.equal(series?.metric.loupe_profile, `${NS}/system`);
    assert.equal(series?.metric.k8s_node_name, 'node-a');
  });

  it('lists the namespace, profile and pods in the dashboards\' variables', async () => {
    const expected: Record<string, string[]> = { namespace: [NS], profile: LOUPE_PROFILES, pod: ['shopper', 'web'] };
    for (const file of dashboards) {
      const variables = file.dashboard.templating.list;
      for (const v of variables.filter((v) => v.type === 'query')) {
        const lv = parseLabelValues(variableQuery(v) ?? '') ?? assert.fail(`${file.file}: variable ${v.name} is not label_values`);
        const match = substitute(lv.match, variables, { namespace: v.multi ? ALL : NS, profile: ALL, pod: ALL }, BUILT_INS);
        const values = await (prometheus as Prometheus).labelValues(lv.label, match);
        assert.deepEqual(values, expected[v.name], `${file.file}: $${v.name} = label_values(${match}, ${lv.label})`);
      }
    }
  });

  it('provisions the dashboards as ConfigMaps labelled for Grafana\'s sidecar', async () => {
    await kubectl('apply', '-k', DASHBOARD_DIR, '-n', NS);
    const list = ConfigMapListSchema.parse(JSON.parse(await kubectl('get', 'configmaps', '-n', NS, '-l', 'grafana_dashboard=1', '-o', 'json')));
    const provisioned = Object.fromEntries(list.items.flatMap((cm) => Object.entries(cm.data)));
    assert.deepEqual(Object.keys(provisioned).sort(), dashboards.map((d) => d.file).sort());
    for (const { file } of dashboards) assert.equal(provisioned[file], await readFile(join(DASHBOARD_DIR, file), 'utf8'), `${file} as committed`);
  });
});
