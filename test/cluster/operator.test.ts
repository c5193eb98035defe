// The operator against a real kube-apiserver + etcd. The test plays the
// kubelet (pods bound to named nodes, their status patched to Running with
// container ids) and the agents (NodeTracePlan statuses), and checks what the
// operator writes: plans with exactly the right targets through pod churn,
// node reports merged into TraceProfile status, sessions (suspend, duration),
// cleanup on delete, silence at steady state, leader election and restarts.
// Waits are bounded and generous; nothing here is timed.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { type NodeProfileStatus, nodeTracePlanResource, type NodeTracePlanSpec } from '../../api/nodetraceplan.js';
import { traceProfileResource, type TraceProfileSpecInput, type TraceProfileStatus } from '../../api/traceprofile.js';
import { CLEANUP_FINALIZER, MANAGED_BY_LABEL, type LoupeOperator } from '../../operator/loupe-operator.js';
import { startOperator } from '../../operator/main.js';
import { KubeHttp } from '../../kube/kube-http.js';
import { leaseResource } from '../../kube/lease-store.js';
import type { KubeObject } from '../../kube/kube-object.js';
import { ResourceClient } from '../../kube/resource-client.js';
import { startControlPlane, type ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { controlPlaneSuiteSkip } from '../support/control-plane-blocker.js';
import * as kubelet from '../../hack/local-cluster/pod-lifecycle.js';
import { waitFor } from '../support/wait-for.js';
import { waitForCrdsEstablished } from '../../hack/local-cluster/crds-established.js';
import { decodedSecretData, otlpSecretCopyName } from '../../api/otlp-secrets.js';
import { podResource, secretResource } from '../../kube/resource-type.js';
import { eventResource } from '../../kube/event-recorder.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');
const NS = 'shop';
const OPERATOR_NS = 'loupe-system';
const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });

type Profile = KubeObject & { spec?: TraceProfileSpecInput; status?: TraceProfileStatus };
type Plan = KubeObject & { spec?: NodeTracePlanSpec; status?: { heartbeat?: string; profiles?: NodeProfileStatus[] } };

let controlPlane: ControlPlane | undefined;
let client: ResourceClient;
const operators: LoupeOperator[] = [];
const operatorProcesses: ChildProcess[] = [];

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', ['--kubeconfig', (controlPlane as ControlPlane).kubeconfigPath, ...args]);
  return stdout;
}


async function launchOperator(identity: string): Promise<LoupeOperator> {
  const operator = await startOperator({
    kubeconfig: (controlPlane as ControlPlane).kubeconfigPath,
    namespace: OPERATOR_NS,
    identity,
    logger: logger.child({ identity }),
    leaderElection: { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 250 },
  });
  operators.push(operator);
  return operator;
}

/** The operator as its own process (npm run operator), so the test can kill it the hard way. */
function spawnOperator(podName: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'cli', 'loupe.ts'), 'operator', '--health-port', '0'], {
    env: { ...process.env, KUBECONFIG: (controlPlane as ControlPlane).kubeconfigPath, POD_NAMESPACE: OPERATOR_NS, POD_NAME: podName, LOUPE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  operatorProcesses.push(child);
  return child;
}

async function leaseHolder(): Promise<string | undefined> {
  const lease = await client.get<KubeObject & { spec?: { holderIdentity?: string } }>(leaseResource, { namespace: OPERATOR_NS, name: 'loupe-operator' });
  return lease?.spec?.holderIdentity || undefined;
}

// --- the kubelet's part -------------------------------------------------------

let containerSerial = 0;
const newContainerId = (pod: string) => `containerd://${pod}-${(++containerSerial).toString(16).padStart(8, '0')}`;

/** Runs a pod on a node (hack/local-cluster/pod-lifecycle.ts) with fresh container ids; returns them by container name. */
async function runPod(name: string, node: string, labels: Record<string, string>, containers = ['app']): Promise<Record<string, string>> {
  const ids = Object.fromEntries(containers.map((c) => [c, newContainerId(name)]));
  await kubelet.runPod(client, { namespace: NS, name, node, labels, containers: ids });
  return ids;
}

async function restartContainer(name: string, container: string): Promise<string> {
  const id = newContainerId(name);
  await kubelet.restartContainer(client, NS, name, container, id);
  return id;
}

const deletePod = (name: string) => kubelet.deletePod(client, NS, name);

// --- the agents' part ----------------------------------------------------------

function execResults(execs: number, commands: [string, number][]) {
  return { exec: { execs, exits: execs, topCommands: commands.map(([key, count]) => ({ key, count })) } };
}

/** Writes a node's report for the profiles it carries, as its agent would. */
async function report(node: string, entries: { profile: string; state?: NodeProfileStatus['state']; execs: number; commands: [string, number][]; pods?: [string, number][] }[]) {
  const profiles: NodeProfileStatus[] = [];
  for (const e of entries) {
    const uid = (await getProfile(e.profile))?.metadata?.uid as string;
    profiles.push({
      uid,
      state: e.state ?? 'Running',
      probesLoaded: ['exec'],
      targets: { resolved: 1 },
      results: execResults(e.execs, e.commands),
      pods: (e.pods ?? []).map(([pod, n]) => ({ podUid: `uid-of-${pod}`, namespace: NS, pod, results: execResults(n, []) })),
    });
  }
  await client.patchStatus(nodeTracePlanResource, { name: node }, { heartbeat: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), profiles });
}

// --- reading what the operator wrote ------------------------------------------

const getProfile = (name: string) => client.get<Profile>(traceProfileResource, { namespace: NS, name });
const getPlan = (node: string) => client.get<Plan>(nodeTracePlanResource, { name: node });

async function createProfile(name: string, spec: TraceProfileSpecInput): Promise<void> {
  await client.create(traceProfileResource, { apiVersion: 'loupe.dev/v1alpha1', kind: 'TraceProfile', metadata: { name, namespace: NS }, spec });
}

/** "pod/container=id" for each target of the profile in the node's plan; undefined when the plan or entry is absent. */
async function plannedTargets(node: string, profile: string): Promise<string[] | undefined> {
  const entry = (await getPlan(node))?.spec?.profiles.find((p) => p.name === profile && p.namespace === NS);
  return entry?.targets.map((t) => `${t.pod}/${t.container}=${t.containerId}`).sort();
}

const sameList = (a: string[] | undefined, b: string[]) => a !== undefined && JSON.stringify(a) === JSON.stringify([...b].sort());

async function planEntry(node: string, profile: string) {
  return (await getPlan(node))?.spec?.profiles.find((p) => p.name === profile);
}

/** resourceVersions of every plan and profile: any write by anyone changes one of them. */
async function resourceVersions(): Promise<string> {
  const [plans, profiles] = await Promise.all([client.list<Plan>(nodeTracePlanResource), client.list<Profile>(traceProfileResource, { namespace: NS })]);
  return JSON.stringify([...plans.items, ...profiles.items].map((o) => `${o.kind}/${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort());
}

describe('operator against a real kube-apiserver', { skip: await controlPlaneSuiteSkip() }, () => {
  const ids: Record<string, Record<string, string>> = {};

  before(async () => {
    controlPlane = await startControlPlane();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    client = new ResourceClient(new KubeHttp(kubeConfig));
    await kubectl('apply', '-f', join(repoRoot, 'crds', 'loupe.dev_traceprofiles.yaml'), '-f', join(repoRoot, 'crds', 'loupe.dev_nodetraceplans.yaml'));
    await waitForCrdsEstablished((controlPlane as ControlPlane).kubeconfigPath, ['traceprofiles.loupe.dev', 'nodetraceplans.loupe.dev']);
    await kubectl('create', 'namespace', NS);
    await kubectl('create', 'namespace', OPERATOR_NS);
    ids['web-1'] = await runPod('web-1', 'node-a', { app: 'web' });
    ids['web-2'] = await runPod('web-2', 'node-a', { app: 'web' }, ['app', 'sidecar']);
    ids['web-3'] = await runPod('web-3', 'node-b', { app: 'web' });
    ids['db-1'] = await runPod('db-1', 'node-c', { app: 'db' });
    await launchOperator('first');
  });

  after(async () => {
    for (const operator of operators) await operator.stop();
    for (const child of operatorProcesses) child.kill('SIGKILL');
    await controlPlane?.stop();
  });

  it('plans each node with exactly the pods each profile targets', async () => {
    await createProfile('web-exec', { selector: { matchLabels: { app: 'web' } }, probes: [{ name: 'exec' }] });
    await createProfile('sidecars', {
      selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'db'] }] },
      containers: ['sidecar'],
      probes: [{ name: 'exec' }],
    });
    const w = ids as Record<string, Record<string, string>>;
    await waitFor('node-a plan for web-exec', async () =>
      sameList(await plannedTargets('node-a', 'web-exec'), [`web-1/app=${w['web-1']!.app}`, `web-2/app=${w['web-2']!.app}`, `web-2/sidecar=${w['web-2']!.sidecar}`]));
    await waitFor('node-b plan for web-exec', async () => sameList(await plannedTargets('node-b', 'web-exec'), [`web-3/app=${w['web-3']!.app}`]));
    await waitFor('node-a plan for sidecars', async () => sameList(await plannedTargets('node-a', 'sidecars'), [`web-2/sidecar=${w['web-2']!.sidecar}`]));
    assert.equal(await plannedTargets('node-b', 'sidecars'), undefined, 'web-3 has no sidecar');
    assert.equal(await getPlan('node-c'), undefined, 'db-1 is targeted by no profile with its containers');
    const plan = await getPlan('node-a');
    assert.equal(plan?.spec?.nodeName, 'node-a');
    assert.deepEqual(plan?.spec?.profiles.map((p) => [p.name, p.active, p.interval, p.topN]).sort(), [['sidecars', true, '10s', 10], ['web-exec', true, '10s', 10]]);
    const profile = await waitFor('finalizer', async () => ((await getProfile('web-exec'))?.metadata?.finalizers?.includes(CLEANUP_FINALIZER) ? getProfile('web-exec') : undefined));
    assert.ok(profile);
  });

  it('follows pod churn: deleted, added, relabelled pods and restarted containers', async () => {
    await deletePod('web-3');
    await waitFor('node-b plan deleted', async () => (await getPlan('node-b')) === undefined);

    const web4 = await runPod('web-4', 'node-c', { app: 'web' });
    await waitFor('web-4 on node-c', async () => sameList(await plannedTargets('node-c', 'web-exec'), [`web-4/app=${web4.app}`]));

    await client.mergePatch(podResource, { namespace: NS, name: 'web-2' }, { metadata: { labels: { app: 'other' } } });
    await waitFor('web-2 relabelled out', async () => sameList(await plannedTargets('node-a', 'web-exec'), [`web-1/app=${ids['web-1']!.app}`]));
    await waitFor('sidecars no longer on node-a', async () => (await planEntry('node-a', 'sidecars')) === undefined);

    const restarted = await restartContainer('web-1', 'app');
    ids['web-1'] = { app: restarted };
    await waitFor('restarted container id', async () => sameList(await plannedTargets('node-a', 'web-exec'), [`web-1/app=${restarted}`]));
    await waitFor('web-exec status counts', async () => {
      const targets = (await getProfile('web-exec'))?.status?.targets;
      return targets?.pods === 2 && targets.nodes === 2 ? targets : undefined;
    });
  });

  it('merges the nodes’ reports into the profile status', async () => {
    await report('node-a', [{ profile: 'web-exec', execs: 30, commands: [['/bin/sh', 20], ['/bin/ls', 10]], pods: [['web-1', 30]] }]);
    await report('node-c', [{ profile: 'web-exec', execs: 12, commands: [['/bin/ls', 12]], pods: [['web-4', 12]] }]);
    const status = await waitFor('merged status', async () => {
      const s = (await getProfile('web-exec'))?.status;
      return s?.results?.exec?.execs === 42 && s.nodesReady === '2/2' ? s : undefined;
    });
    assert.equal(status.phase, 'Running');
    assert.deepEqual(status.results?.exec?.topCommands, [{ key: '/bin/ls', count: 22 }, { key: '/bin/sh', count: 20 }]);
    assert.deepEqual(status.pods?.map((p) => [p.name, p.node, p.results.exec?.execs]), [['web-1', 'node-a', 30], ['web-4', 'node-c', 12]]);
    assert.equal(status.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(status.headline, '42 execs');
    assert.equal(status.observedGeneration, 1);

    const table = await kubectl('get', 'traceprofiles', '-n', NS, 'web-exec', '-o', 'wide', '--no-headers');
    const columns = table.trim().split(/\s{2,}/);
    assert.deepEqual(columns.slice(0, 5), ['web-exec', 'Running', '2', '2/2', 'exec'], table);
    assert.match(table, /42 execs/);
  });

  it('writes nothing at steady state', async () => {
    // Refresh the reports so no node goes silent during the window.
    await report('node-a', [{ profile: 'web-exec', execs: 30, commands: [['/bin/sh', 20], ['/bin/ls', 10]], pods: [['web-1', 30]] }]);
    await report('node-c', [{ profile: 'web-exec', execs: 12, commands: [['/bin/ls', 12]], pods: [['web-4', 12]] }]);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const start = await resourceVersions();
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(await resourceVersions(), start, 'a plan or profile was written while nothing changed');
    }
  });

  it('suspends and resumes: plans mark the profile inactive, status says Suspended', async () => {
    await client.mergePatch(traceProfileResource, { namespace: NS, name: 'web-exec' }, { spec: { suspend: true } });
    await waitFor('Suspended', async () => (await getProfile('web-exec'))?.status?.phase === 'Suspended');
    await waitFor('inactive on node-a and node-c', async () => (await planEntry('node-a', 'web-exec'))?.active === false && (await planEntry('node-c', 'web-exec'))?.active === false);
    const status = (await getProfile('web-exec'))?.status;
    assert.equal(status?.results?.exec?.execs, 42, 'results so far are kept');

    await client.mergePatch(traceProfileResource, { namespace: NS, name: 'web-exec' }, { spec: { suspend: false } });
    await waitFor('active again', async () => (await planEntry('node-a', 'web-exec'))?.active === true && (await planEntry('node-c', 'web-exec'))?.active === true);
    await report('node-a', [{ profile: 'web-exec', execs: 30, commands: [['/bin/sh', 30]] }]);
    await report('node-c', [{ profile: 'web-exec', execs: 12, commands: [['/bin/ls', 12]] }]);
    await waitFor('Running again', async () => (await getProfile('web-exec'))?.status?.phase === 'Running');
  });

  it('completes a profile at the end of its duration and keeps its results', async () => {
    await createProfile('short', { selector: { matchLabels: { app: 'db' } }, probes: [{ name: 'exec' }], duration: '8s' });
    await waitFor('short planned on node-c', async () => (await planEntry('node-c', 'short'))?.active === true);
    await report('node-c', [
      { profile: 'web-exec', execs: 12, commands: [['/bin/ls', 12]] },
      { profile: 'short', execs: 5, commands: [['/bin/true', 5]], pods: [['db-1', 5]] },
    ]);
    await waitFor('short running with results', async () => (await getProfile('short'))?.status?.results?.exec?.execs === 5);
    const status = await waitFor('Completed', async () => {
      const s = (await getProfile('short'))?.status;
      return s?.phase === 'Completed' ? s : undefined;
    }, { timeoutMs: 30_000 });
    assert.equal(status.results?.exec?.execs, 5, 'final results kept');
    assert.equal(status.conditions?.find((c) => c.type === 'Ready')?.reason, 'Completed');
    assert.ok(status.expiresAt !== undefined && Date.parse(status.expiresAt) - Date.parse(status.startedAt ?? '') === 8_000);
    await waitFor('short inactive on node-c', async () => (await planEntry('node-c', 'short'))?.active === false);
  });

  it('keeps a node’s results when the last selected pod there goes: the plan stays, with no targets', async () => {
    const web7 = await runPod('web-7', 'node-f', { app: 'web' });
    await waitFor('web-7 planned on node-f', async () => sameList(await plannedTargets('node-f', 'web-exec'), [`web-7/app=${web7.app}`]));
    await report('node-f', [{ profile: 'web-exec', execs: 8, commands: [['/bin/true', 8]], pods: [['web-7', 8]] }]);
    await waitFor('node-f counted', async () => (await getProfile('web-exec'))?.status?.results?.exec?.execs === 50);

    await deletePod('web-7');
    await waitFor('node-f to keep web-exec with no targets', async () => (await planEntry('node-f', 'web-exec'))?.targets.length === 0);
    const status = await waitFor('web-7 gone from the targets', async () => {
      const s = (await getProfile('web-exec'))?.status;
      return s?.targets?.pods === 2 ? s : undefined;
    });
    assert.equal(status.results?.exec?.execs, 50, 'node-f’s 8 execs stay in the totals');
    assert.deepEqual(status.results?.exec?.topCommands?.map((c) => [c.key, c.count]), [['/bin/sh', 30], ['/bin/ls', 12], ['/bin/true', 8]]);
    assert.deepEqual(status.pods?.map((p) => [p.name, p.node, p.results.exec?.execs]), [['web-7', 'node-f', 8]]);
    assert.equal(status.nodes?.total, 2, 'node-f, with nothing to trace, is not a node the profile waits for');
  });

  it('exactly one operator leads; when it goes, the other takes over and nothing is lost', async () => {
    const second = await launchOperator('second');
    const [first] = operators as [LoupeOperator];
    await waitFor('one leader', () => first.isLeader && !second.isLeader);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(first.isLeader && second.isLeader, false, 'never two leaders');

    await first.stop();
    operators.splice(operators.indexOf(first), 1);
    await waitFor('second leads', () => second.isLeader, { timeoutMs: 20_000 });
    const web5 = await runPod('web-5', 'node-b', { app: 'web' });
    await waitFor('web-5 planned by the new leader', async () => sameList(await plannedTargets('node-b', 'web-exec'), [`web-5/app=${web5.app}`]));
  });

  it('picks up what changed while no operator ran', async () => {
    const [current] = operators as [LoupeOperator];
    await current.stop();
    operators.splice(0);
    await deletePod('web-5');
    const web6 = await runPod('web-6', 'node-d', { app: 'web' });
    await createProfile('late', { selector: { matchLabels: { app: 'db' } }, probes: [{ name: 'exec' }] });

    await launchOperator('third');
    await waitFor('node-b plan deleted', async () => (await getPlan('node-b')) === undefined);
    await waitFor('web-6 planned', async () => sameList(await plannedTargets('node-d', 'web-exec'), [`web-6/app=${web6.app}`]));
    await waitFor('late planned', async () => sameList(await plannedTargets('node-c', 'late'), [`db-1/app=${ids['db-1']!.app}`]));
  });

  it('copies the OTLP Secrets a profile names into Loupe\'s namespace, says when one is missing, and deletes the copy with the profile', async () => {
    await kubectl('create', 'secret', 'generic', 'otlp-headers', '-n', NS, '--from-literal=authorization=Bearer t0ken');
    await kubectl('create', 'secret', 'generic', 'otlp-ca', '-n', NS, '--from-literal=ca.crt=PEM');
    const otlp = { endpoint: 'collector.example:4317', headersSecretRef: { name: 'otlp-headers' }, tls: { caSecretRef: { name: 'otlp-ca', key: 'ca.crt' } } };
    const nowhere = { matchLabels: { app: 'nothing-runs-this' } };
    await createProfile('exporting', { selector: nowhere, probes: [{ name: 'exec' }], output: { otlp } });
    await createProfile('exporting-nowhere', { selector: nowhere, probes: [{ name: 'exec' }], output: { otlp: { ...otlp, headersSecretRef: { name: 'nope' } } } });
    const uidOf = async (name: string) => (await getProfile(name))?.metadata?.uid ?? '';
    const copyOf = async (name: string) =>
      client.get<KubeObject & { data?: Record<string, string> }>(secretResource, { namespace: OPERATOR_NS, name: otlpSecretCopyName(await uidOf(name)) });

    const copy = await waitFor('the copy of exporting\'s Secrets', () => copyOf('exporting'));
    assert.deepEqual(decodedSecretData(copy), { 'header.authorization': 'Bearer t0ken', 'ca.crt': 'PEM' });

    const warning = await waitFor('a Warning about the missing Secret', async () => {
      const events = await client.list<KubeObject & { reason?: string; note?: string; regarding?: { name?: string } }>(eventResource, { namespace: NS });
      return events.items.find((e) => e.reason === 'OtlpSecretMissing' && e.regarding?.name === 'exporting-nowhere');
    });
    assert.equal(warning.note, `OTLP output disabled: otlp.headersSecretRef: Secret ${NS}/nope not found`);
    assert.equal(await copyOf('exporting-nowhere'), undefined, 'no copy without every Secret');

    const name = otlpSecretCopyName(await uidOf('exporting'));
    await client.delete(traceProfileResource, { namespace: NS, name: 'exporting' });
    await client.delete(traceProfileResource, { namespace: NS, name: 'exporting-nowhere' });
    await waitFor('the copy to go with its profile', async () => (await client.get(secretResource, { namespace: OPERATOR_NS, name })) === undefined);
  });

  it('deletes, as it starts leading, the Secret copy an earlier operator left for a profile that names no Secret', async () => {
    const [current] = operators as [LoupeOperator];
    await current.stop();
    operators.splice(0);
    // While no operator runs: a profile without OTLP Secrets, and a copy for it that an earlier leader wrote.
    await createProfile('left-a-copy', { selector: { matchLabels: { app: 'nothing-runs-this' } }, probes: [{ name: 'exec' }] });
    const name = otlpSecretCopyName((await getProfile('left-a-copy'))?.metadata?.uid ?? '');
    await client.create(secretResource, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: OPERATOR_NS, labels: MANAGED_BY_LABEL },
      data: { 'header.authorization': Buffer.from('Bearer old').toString('base64') },
    });

    await launchOperator('fourth');
    await waitFor('the stale copy deleted', async () => (await client.get(secretResource, { namespace: OPERATOR_NS, name })) === undefined);
    await client.delete(traceProfileResource, { namespace: NS, name: 'left-a-copy' });
  });

  it('removes a deleted profile from every plan before it goes', async () => {
    const uid = (await getProfile('web-exec'))?.metadata?.uid;
    await client.delete(traceProfileResource, { namespace: NS, name: 'web-exec' });
    await waitFor('web-exec gone', async () => (await getProfile('web-exec')) === undefined);
    const plans = await client.list<Plan>(nodeTracePlanResource);
    assert.deepEqual(plans.items.filter((p) => p.spec?.profiles.some((e) => e.uid === uid)).map((p) => p.metadata?.name), []);
    assert.equal(await getPlan('node-a'), undefined, 'node-a had only web-exec left');
    assert.equal(await getPlan('node-d'), undefined, 'node-d had only web-exec');
    assert.equal(await getPlan('node-f'), undefined, 'node-f had only web-exec’s results');
    assert.ok(await planEntry('node-c', 'late'), 'other profiles stay');
  });

  it('a killed leader is replaced once its lease expires, and nothing is lost', async () => {
    for (const operator of operators.splice(0)) await operator.stop();
    const first = spawnOperator('child-1');
    await waitFor('child-1 leads', async () => (await leaseHolder()) === 'child-1', { timeoutMs: 60_000 });
    spawnOperator('child-2');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(await leaseHolder(), 'child-1', 'the standby does not take a held lease');

    first.kill('SIGKILL');
    const db2 = await runPod('db-2', 'node-e', { app: 'db' });
    // The lease runs out (15 s by default) before child-2 may take it.
    await waitFor('child-2 leads', async () => (await leaseHolder()) === 'child-2', { timeoutMs: 45_000 });
    await waitFor('db-2 planned by child-2', async () => sameList(await plannedTargets('node-e', 'late'), [`db-2/app=${db2.app}`]), { timeoutMs: 45_000 });
  });
});
