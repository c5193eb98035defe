// Application telemetry end to end, as a user gets it: `kubectl apply` of a
// TraceProfile with the http, tls and dns probes on the app=shop pods of a
// real kube-apiserver, `loupe operator` and a `loupe agent`, and a real
// OpenTelemetry Collector. The pods are kubelet-shaped cgroups running real
// programs: Python's http.server over plain HTTP and over TLS (OpenSSL's
// libssl) in one pod, curl and a Python DNS client in another, curl in a pod
// the profile does not select, and a DNS responder on loopback. Status and
// the collector must hold exactly what curl and the DNS client did.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { traceProfileResource, type TraceProfileStatus } from '../../api/traceprofile.js';
import type { KubeObject } from '../../kube/kube-object.js';
import type { ResourceClient } from '../../kube/resource-client.js';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { createPod, reportRunning } from '../../hack/local-cluster/pod-lifecycle.js';
import { curl, selfSignedCertificate, startHttpServer } from '../support/app-workloads.js';
import { startCollector, type Collector, type OtlpKeyValue } from '../support/collector.js';
import { controlPlaneSuiteSkip } from '../support/control-plane-blocker.js';
import { A, dnsClient, Responder, V4 } from '../support/dns-workloads.js';
import { startLoupeControlPlane, type LoupeControlPlane } from '../support/loupe-control-plane.js';
import { LoupeProcess } from '../support/loupe-process.js';
import { kernelTestBlocker } from '../support/privileged.js';
import { waitFor as waitUntil } from '../support/wait-for.js';

const NS = 'shop';
const PROFILE = 'shop-red';

type Profile = KubeObject & { status?: TraceProfileStatus };

let controlPlane: ControlPlane | undefined;
let collector: Collector | undefined;
let workDir: string | undefined;
let client: ResourceClient;
let kubectl: LoupeControlPlane['kubectl'];
let operator: LoupeProcess | undefined;
let agent: LoupeProcess | undefined;
let responder: Responder | undefined;
const pods = new Map<string, LocalPod>();

function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 45_000): Promise<T> {
  const diagnostics = () => [operator, agent].map((p) => `--- ${p?.name}:\n${p?.log.split('\n').slice(-12).join('\n')}`).join('\n');
  return waitUntil(what, probe, { timeoutMs, intervalMs: 250, diagnostics });
}

/** A Pod object on node-a whose container is a LocalPod cgroup, reported Running. */
async function startPod(name: string, app: string): Promise<LocalPod> {
  const uid = await createPod(client, { namespace: NS, name, node: 'node-a', labels: { app }, containers: ['app'] });
  const pod = new LocalPod('burstable', undefined, uid);
  pods.set(name, pod);
  await reportRunning(client, NS, name, { app: pod.containerRef });
  return pod;
}

const getProfile = () => client.get<Profile>(traceProfileResource, { namespace: NS, name: PROFILE });
const attributeMap = (attributes: OtlpKeyValue[] | undefined) => Object.fromEntries((attributes ?? []).map((kv) => [kv.key, Object.values(kv.value)[0]]));

/** The latest count of each histogram series the collector holds, by pod name: `metric{k=v,…}` → count. */
async function histogramCounts(): Promise<Map<string, Record<string, number>>> {
  const byPod = new Map<string, Record<string, number>>();
  for (const batch of await (collector as Collector).readMetrics()) {
    for (const rm of batch.resourceMetrics) {
      const pod = String(attributeMap(rm.resource?.attributes)['k8s.pod.name']);
      const series = byPod.get(pod) ?? {};
      byPod.set(pod, series);
      for (const metric of rm.scopeMetrics?.flatMap((sm) => sm.metrics ?? []) ?? []) {
        for (const point of (metric.histogram?.dataPoints ?? []) as { count?: string; attributes?: OtlpKeyValue[] }[]) {
          const attrs = Object.entries(attributeMap(point.attributes)).map(([k, v]) => `${k}=${String(v)}`).sort().join(',');
          series[`${metric.name}{${attrs}}`] = Number(point.count ?? 0); // batches come in order: the last point is the latest
        }
      }
    }
  }
  return byPod;
}

const kernelBlocker = kernelTestBlocker();
if (kernelBlocker !== undefined && process.env.CI === 'true') throw new Error(`cannot run in CI: ${kernelBlocker}`);
const suiteSkip = kernelBlocker ?? (await controlPlaneSuiteSkip());

describe('application telemetry: http, tls and dns from kubectl apply to status and the collector', { skip: suiteSkip }, () => {
  let plain = 0;
  let https = 0;

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'loupe-app-'));
    ({ controlPlane, client, kubectl } = await startLoupeControlPlane(NS));
    collector = await startCollector();
    responder = new Responder();
    await responder.listen('udp4', V4, 53);

    operator = new LoupeProcess('operator', ['operator', '--kubeconfig', controlPlane.kubeconfigPath, '--namespace', 'default', '--health-port', '0']);
    agent = new LoupeProcess('agent node-a', ['agent', '--node-name', 'node-a', '--kubeconfig', controlPlane.kubeconfigPath, '--profile-port', '0']);
    const web = await startPod('web', 'shop');
    await startPod('shopper', 'shop');
    await startPod('outsider', 'other');
    const { cert, key } = selfSignedCertificate(workDir);
    plain = (await startHttpServer(web, [])).port;
    https = (await startHttpServer(web, [cert, key])).port;
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
    await controlPlane?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('counts every request and lookup exactly, per pod, in status', async () => {
    const manifest = join(workDir as string, 'traceprofile.yaml');
    await writeFile(manifest, stringify({
      apiVersion: 'loupe.dev/v1alpha1',
      kind: 'TraceProfile',
      metadata: { name: PROFILE, namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'shop' } },
        probes: [{ name: 'http' }, { name: 'tls' }, { name: 'dns' }],
        interval: '5s',
        output: { otlp: { endpoint: (collector as Collector).grpcEndpoint, insecure: true } },
      },
    }));
    await kubectl('apply', '-f', manifest);
    await waitFor('Running with both shop pods traced', async () => {
      const status = (await getProfile())?.status;
      return status?.phase === 'Running' && status.targets?.pods === 2 && status.nodes?.ready === 1;
    });
    // The servers ran before the profile, so the tls probe found their
    // libssl when it was loaded; curl maps the same file, already attached.

    const shopper = pods.get('shopper') as LocalPod;
    const outsider = pods.get('outsider') as LocalPod;
    const plainBase = `http://127.0.0.1:${plain}`;
    assert.deepEqual(await curl(shopper, plainBase, ['/ok/1', '/ok/2', '/ok/3', '/ok/4', '/ok/5', '/ok/6', '/missing']), { statuses: [200, 200, 200, 200, 200, 200, 404], connects: 1 });
    assert.deepEqual(await curl(shopper, `https://127.0.0.1:${https}`, ['/ok/7', '/ok/8', '/missing']), { statuses: [200, 200, 404], connects: 1 });
    assert.deepEqual(await curl(outsider, plainBase, ['/ok/9', '/ok/10']), { statuses: [200, 200], connects: 1 });
    const latencies = await dnsClient(shopper, [
      { name: 'shop#.ok.test', type: A, count: 4 },
      { name: 'gone.nx.test', type: A, count: 2 },
    ]);
    assert.equal(latencies.length, 6, 'the responder answered every query');

    // web served 7 + 2 plain requests (the outsider's too: web is traced) and
    // 3 over TLS; shopper made 7 and 3 and 6 lookups; outsider is not traced.
    const status = await waitFor('exact totals in status', async () => {
      const s = (await getProfile())?.status;
      const r = s?.results;
      const got = [r?.http?.serverRequests, r?.http?.clientRequests, r?.tls?.serverRequests, r?.tls?.clientRequests, r?.dns?.queries, r?.dns?.answers];
      return JSON.stringify(got) === JSON.stringify([9, 7, 3, 3, 6, 6]) ? s : undefined;
    });
    const byPod = Object.fromEntries((status.pods ?? []).map((p) => [p.name, p.results]));
    assert.deepEqual(Object.keys(byPod).sort(), ['shopper', 'web'], 'the outsider pod is not traced');
    assert.deepEqual([byPod.web?.http?.serverRequests, byPod.web?.http?.clientRequests, byPod.web?.tls?.serverRequests], [9, 0, 3]);
    assert.deepEqual([byPod.shopper?.http?.clientRequests, byPod.shopper?.http?.clientErrors, byPod.shopper?.tls?.clientRequests, byPod.shopper?.dns?.errors], [7, 1, 3, 2]);
    assert.equal(byPod.web?.http?.serverErrors, 0, 'a 404 is not a server error');
    const series = Object.fromEntries((byPod.web?.http?.topSeries ?? []).map((e) => [e.key, e.count]));
    assert.deepEqual(series, { [`server GET 200 ${plain} /ok/{id}`]: 8, [`server GET 404 ${plain} /missing`]: 1 });
    assert.match(status.headline ?? '', /\d+ req/, 'the headline shows requests');
  });

  it('exports http.server/client.request.duration and dns.lookup.duration with their conventions\' attributes to the collector', async () => {
    const server = (route: string, code: number, scheme: string, port: number) =>
      `http.server.request.duration{http.request.method=GET,http.response.status_code=${code},http.route=${route},server.port=${port},url.scheme=${scheme}}`;
    const clientSeries = (route: string, code: number, scheme: string, port: number) =>
      `http.client.request.duration{http.request.method=GET,http.response.status_code=${code},http.route=${route},server.port=${port},url.scheme=${scheme}}`;
    const expected: Record<string, Record<string, number>> = {
      web: { [server('/ok/{id}', 200, 'http', plain)]: 8, [server('/missing', 404, 'http', plain)]: 1 },
      shopper: { [clientSeries('/ok/{id}', 200, 'http', plain)]: 6, [clientSeries('/missing', 404, 'http', plain)]: 1 },
    };
    const got = await waitFor('the collector to hold every request', async () => {
      const counts = await histogramCounts();
      const ok = Object.entries(expected).every(([pod, series]) => Object.entries(series).every(([k, n]) => counts.get(pod)?.[k] === n));
      return ok ? counts : undefined;
    });
    const https = (pod: string, metric: string) =>
      Object.entries(got.get(pod) ?? {}).filter(([k]) => k.startsWith(`${metric}{`) && k.includes('url.scheme=https')).reduce((n, [, c]) => n + c, 0);
    assert.equal(https('web', 'http.server.request.duration'), 3, 'HTTPS requests are http with url.scheme=https');
    assert.equal(https('shopper', 'http.client.request.duration'), 3);
    const dns = Object.entries(got.get('shopper') ?? {}).filter(([k]) => k.startsWith('dns.lookup.duration{'));
    assert.equal(dns.reduce((n, [, c]) => n + c, 0), 6, 'every lookup has a duration');
    assert.equal(dns.filter(([k]) => k.includes('error.type=NXDOMAIN')).reduce((n, [, c]) => n + c, 0), 2);
    assert.equal(got.get('outsider'), undefined, 'nothing of the untraced pod');
  });
});
