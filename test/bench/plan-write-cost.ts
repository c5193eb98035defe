// `npm run bench:plan-writes`: what one NodeTracePlan write costs the API
// server, by verb, on an otherwise empty control plane. bench:scale shows
// that writing every plan is bound by the API server's CPU; this says how
// much of that is the verb and how much the write itself.
//
//   npm run bench:plan-writes -- [plans] [rounds]     (default 1000 and 2)
//
// Each round writes `plans` plans shaped like bench:scale's (3 profiles of one
// target each), 16 at a time as the operator does, by server-side apply
// (create, then update), by create, and by read-then-update, and reads them
// once; it prints the API server's and etcd's CPU (utime + stime) per request.
import { nodeTracePlanResource, type NodeTracePlanSpec } from '../../api/nodetraceplan.js';
import type { KubeManifest } from '../../kube/kube-object.js';
import { startLoupeControlPlane } from '../support/loupe-control-plane.js';
import { cpuSeconds, pool, printTable } from './bench-support.js';

const plans = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 2);
const FIELD_MANAGER = 'loupe-operator';

const nodeName = (n: number) => `node-${String(n).padStart(5, '0')}`;
const pad = (n: number) => String(n).padStart(12, '0');

function plan(n: number, generation: number): KubeManifest & { spec: NodeTracePlanSpec } {
  return {
    apiVersion: 'loupe.dev/v1alpha1',
    kind: 'NodeTracePlan',
    metadata: { name: nodeName(n), labels: { 'app.kubernetes.io/managed-by': FIELD_MANAGER } },
    spec: {
      nodeName: nodeName(n),
      reportIntervalSeconds: 40,
      profiles: [0, 1, 2].map((k) => ({
        uid: `0000000${k}-aaaa-bbbb-cccc-${pad(n)}`,
        namespace: `team-${k}`,
        name: `svc-${k}`,
        generation,
        probes: [{ name: 'exec' }],
        interval: '10s',
        topN: 10,
        active: true,
        targets: [{ podUid: `1111111${k}-aaaa-bbbb-cccc-${pad(n)}`, namespace: `team-${k}`, pod: `pod-${n}-${k}`, container: 'app', containerId: `containerd://${(n * 3 + k).toString(16).padStart(64, '0')}` }],
      })),
    },
  };
}

if (process.getuid?.() !== 0) throw new Error('the benchmark runs a control plane: run it as root');
if (!(plans >= 100) || !(rounds >= 1)) throw new Error('usage: plan-write-cost.ts [plans >= 100] [rounds >= 1]');
const { controlPlane, client } = await startLoupeControlPlane('loupe-system');
try {
  const { apiserver, etcd } = controlPlane.pids;
  const nodes = Array.from({ length: plans }, (_, n) => n);
  const results = new Map<string, { apiserverMs: number[]; etcdMs: number[] }>();
  const measure = async (verb: string, write: (n: number) => Promise<unknown>) => {
    const [api0, etcd0] = [cpuSeconds(apiserver), cpuSeconds(etcd)];
    await pool(nodes, 16, write);
    const row = results.get(verb) ?? { apiserverMs: [], etcdMs: [] };
    results.set(verb, row);
    row.apiserverMs.push(((cpuSeconds(apiserver) - api0) * 1000) / plans);
    row.etcdMs.push(((cpuSeconds(etcd) - etcd0) * 1000) / plans);
    process.stderr.write(`${verb}: ${row.apiserverMs.at(-1)?.toFixed(2)} ms\n`);
  };
  const deleteAll = () => pool(nodes, 16, (n) => client.delete(nodeTracePlanResource, { name: nodeName(n) }));
  for (let round = 0; round < rounds; round++) {
    await measure('server-side apply, new plan', (n) => client.apply(plan(n, 1), { fieldManager: FIELD_MANAGER, force: true }));
    await measure('server-side apply, changed plan', (n) => client.apply(plan(n, 2), { fieldManager: FIELD_MANAGER, force: true }));
    await deleteAll();
    await measure('create', (n) => client.create(nodeTracePlanResource, plan(n, 1), FIELD_MANAGER));
    await measure('read, then update', async (n) => {
      const current = await client.get(nodeTracePlanResource, { name: nodeName(n) });
      const next = plan(n, 2);
      await client.replace(nodeTracePlanResource, { ...next, metadata: { ...next.metadata, resourceVersion: current?.metadata?.resourceVersion } }, FIELD_MANAGER);
    });
    await measure('read', (n) => client.get(nodeTracePlanResource, { name: nodeName(n) }));
    await deleteAll();
  }
  const range = (values: number[]) => `${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}`;
  console.log(`${plans} plans per verb, ${rounds} round(s), 16 requests at a time; CPU ms per request (range over rounds)\n`);
  printTable(['verb', 'kube-apiserver ms', 'etcd ms'], [...results].map(([verb, r]) => [verb, range(r.apiserverMs), range(r.etcdMs)]));
} finally {
  await controlPlane.stop();
}
