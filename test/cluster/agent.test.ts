// Agents as processes against a real kube-apiserver + etcd and the real
// kernel: two `loupe agent`s, each pretending to be a node, and pods that are
// kubelet-shaped cgroups running known workloads. The test plays the operator
// (it writes the NodeTracePlans) and checks what each agent writes in its
// plan's status and what it holds in the kernel. Waits are bounded; nothing
// here is timed.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { type NodeProfilePlan, type NodeProfileStatus, nodeTracePlanResource, type NodeTracePlanSpec, type NodeTracePlanStatus } from '../../api/nodetraceplan.js';
import { SHUTDOWN_MESSAGE } from '../../agent/node-status.js';
import { KubeHttp } from '../../kube/kube-http.js';
import type { KubeObject } from '../../kube/kube-object.js';
import { ResourceClient } from '../../kube/resource-client.js';
import { bpfHandlesOf, kernelPrograms, remainingAfterRelease } from '../support/bpf-handles.js';
import { freeLoopbackPorts } from '../../hack/local-cluster/loopback-ports.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { startCollector, type Collector, type OtlpKeyValue } from '../support/collector.js';
import { startControlPlane, type ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { controlPlaneSuiteSkip } from '../support/control-plane-blocker.js';
import { kernelTestBlocker } from '../support/privileged.js';
import { waitFor as waitUntil } from '../support/wait-for.js';
import { waitForCrdsEstablished } from '../../hack/local-cluster/crds-established.js';
import { DEFAULT_LOUPE_NAMESPACE } from '../../api/group.js';
import { otlpSecretCopyName } from '../../api/otlp-secrets.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');
const NS = 'shop';
const MISSING_CONTAINER = `containerd://${'f'.repeat(64)}`;

type Plan = KubeObject & { spec?: NodeTracePlanSpec; status?: NodeTracePlanStatus };

let controlPlane: ControlPlane | undefined;
let collector: Collector | undefined;
let client: ResourceClient;
const agents = new Map<string, Agent>();
const pods: LocalPod[] = [];

type ExitStatus = { code: number | null; signal: NodeJS.Signals | null };

/** A `loupe agent` process; its stderr (JSON logs) is kept for failure messages. */
class Agent {
  readonly child: ChildProcess;
  log = '';
  readonly exited: Promise<ExitStatus>;
  exitStatus: ExitStatus | undefined;

  constructor(
    readonly node: string,
    readonly profilePort = 0,
    /** Runs it in a mount namespace of its own with every cgroup2 mount gone: a node with cgroup v1 only. */
    cgroupV1Only = false,
  ) {
    const agent = [
      process.execPath, '--import', 'tsx', join(repoRoot, 'cli', 'loupe.ts'), 'agent', '--node-name', node,
      '--kubeconfig', (controlPlane as ControlPlane).kubeconfigPath, '--profile-port', String(profilePort),
    ];
    const [command, ...args] = cgroupV1Only
      ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `${UNMOUNT_CGROUP2} && exec "$@"`, 'sh', ...agent]
      : agent;
    this.child = spawn(command as string, args, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOUPE_LOG_LEVEL: 'info' } });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-20_000)));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      }),
    );
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Names of the BPF programs this process holds. */
  programs(): string[] {
    const ids = new Set(bpfHandlesOf(this.pid).progIds);
    return kernelPrograms()
      .filter((p) => ids.has(p.id))
      .map((p) => p.name)
      .sort();
  }
}

/** Unmounts every cgroup2 mount (deepest first), as many times as each is stacked. */
const UNMOUNT_CGROUP2 =
  "for m in $(awk '{ for (i = 7; $i != \"-\"; i++); if ($(i + 1) == \"cgroup2\") print $5 }' /proc/self/mountinfo | sort -r); do umount -l \"$m\"; done; ! grep -q ' - cgroup2 ' /proc/self/mountinfo";

function startAgent(node: string, profilePort?: number, cgroupV1Only?: boolean): Agent {
  const agent = new Agent(node, profilePort, cgroupV1Only);
  agents.set(node, agent);
  return agent;
}

function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const diagnostics = () => [...agents.values()].map((a) => `--- agent ${a.node}:\n${a.log.split('\n').slice(-15).join('\n')}`).join('\n');
  return waitUntil(what, probe, { timeoutMs, diagnostics });
}

// --- the operator's part: plans -------------------------------------------------

function target(pod: LocalPod, name: string, containerId = pod.containerRef) {
  return { podUid: pod.podUid, namespace: NS, pod: name, container: 'app', containerId };
}

function profile(uid: string, overrides: Partial<NodeProfilePlan> & Pick<NodeProfilePlan, 'targets'>): NodeProfilePlan {
  return { uid, namespace: NS, name: uid, generation: 1, probes: [{ name: 'exec' }], interval: '1s', topN: 5, active: true, ...overrides };
}

async function writePlan(node: string, profiles: NodeProfilePlan[]): Promise<void> {
  const existing = await client.get<Plan>(nodeTracePlanResource, { name: node });
  if (existing === undefined) {
    await client.create(nodeTracePlanResource, {
      apiVersion: 'loupe.dev/v1alpha1',
      kind: 'NodeTracePlan',
      metadata: { name: node },
      spec: { nodeName: node, profiles },
    });
  } else {
    await client.mergePatch(nodeTracePlanResource, { name: node }, { spec: { profiles } });
  }
}

async function entry(node: string, uid: string): Promise<{ status: NodeTracePlanStatus; profile: NodeProfileStatus } | undefined> {
  const status = (await client.get<Plan>(nodeTracePlanResource, { name: node }))?.status;
  const found = status?.profiles?.find((p) => p.uid === uid);
  return status === undefined || found === undefined ? undefined : { status, profile: found };
}

/** Waits until the node's agent reports the profile in a state `accept` likes; returns that entry. */
function waitForEntry(node: string, uid: string, what: string, accept: (p: NodeProfileStatus) => boolean): Promise<NodeProfileStatus> {
  return waitFor(`${node}: ${uid} ${what}`, async () => {
    const found = await entry(node, uid);
    return found !== undefined && accept(found.profile) ? found.profile : undefined;
  });
}

const execsOf = (p: NodeProfileStatus | undefined) => p?.results?.exec?.execs;
const running = (probes: string[]) => (p: NodeProfileStatus) => p.state === 'Running' && JSON.stringify(p.probesLoaded) === JSON.stringify(probes);

/** Waits for an exact count, then checks it stays there for a few more intervals (no late overcount). */
async function expectExecs(node: string, uid: string, expected: number): Promise<NodeProfileStatus> {
  await waitForEntry(node, uid, `reports ${expected} execs`, (p) => execsOf(p) === expected);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const settled = (await entry(node, uid))?.profile;
  assert.equal(execsOf(settled), expected, `${node}: ${uid} counted more execs than ran`);
  return settled as NodeProfileStatus;
}

const attribute = (attributes: OtlpKeyValue[] | undefined, key: string) => attributes?.find((a) => a.key === key)?.value.stringValue;

/** The latest value of a cumulative sum the collector received for a pod. */
async function latestSum(metricName: string, podUid: string): Promise<number | undefined> {
  let latest: number | undefined;
  for (const batch of await (collector as Collector).readMetrics()) {
    for (const rm of batch.resourceMetrics) {
      if (attribute(rm.resource?.attributes, 'k8s.pod.uid') !== podUid) continue;
      for (const metric of rm.scopeMetrics?.flatMap((sm) => sm.metrics ?? []) ?? []) {
        if (metric.name !== metricName) continue;
        const points = (metric.sum?.dataPoints ?? []) as { asInt?: string | number }[];
        if (points[0]?.asInt !== undefined) latest = Number(points[0].asInt);
      }
    }
  }
  return latest;
}

// Both the kernel and the control plane, or skip (in CI, fail: a skipped test is a missing test).
const kernelBlocker = kernelTestBlocker();
if (kernelBlocker !== undefined && process.env.CI === 'true') throw new Error(`cannot run in CI: ${kernelBlocker}`);
const suiteSkip = kernelBlocker ?? (await controlPlaneSuiteSkip());

describe('loupe agent against a real kube-apiserver and the real kernel', { skip: suiteSkip }, () => {
  let a1: LocalPod, a2: LocalPod, idle: LocalPod, b1: LocalPod;
  /** node-b's web-3 after a container restart, and web-4, whose container starts after the plan. */
  let restarted: LocalPod, late: LocalPod;

  before(async () => {
    controlPlane = await startControlPlane();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    client = new ResourceClient(new KubeHttp(kubeConfig));
    const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', (controlPlane as ControlPlane).kubeconfigPath, ...args]);
    await kubectl('apply', '-f', join(repoRoot, 'crds', 'loupe.dev_nodetraceplans.yaml'));
    await waitForCrdsEstablished(controlPlane.kubeconfigPath, ['nodetraceplans.loupe.dev']);
    await kubectl('create', 'namespace', NS);
    // The operator's part: the copy of a profile's OTLP Secrets in Loupe's namespace, the only Secrets agents read.
    await kubectl('create', 'namespace', DEFAULT_LOUPE_NAMESPACE);
    await kubectl('create', 'secret', 'generic', otlpSecretCopyName('exported'), '-n', DEFAULT_LOUPE_NAMESPACE, '--from-literal=header.authorization=Bearer t0ken');
    collector = await startCollector();
    [a1, a2, idle, b1] = [new LocalPod(), new LocalPod('besteffort'), new LocalPod(), new LocalPod('guaranteed')];
    pods.push(a1, a2, idle, b1);
    const [profilePort] = await freeLoopbackPorts(1);
    startAgent('node-a', profilePort);
    startAgent('node-b');
  });

  after(async () => {
    for (const agent of agents.values()) {
      if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill('SIGTERM');
      await agent.exited;
    }
    for (const pod of pods) pod.remove();
    await collector?.stop();
    await controlPlane?.stop();
  });

  it('each agent counts exactly the execs of its own node’s targets and says which it could not find', async () => {
    await writePlan('node-a', [profile('web', { targets: [target(a1, 'web-1'), target(a2, 'web-2'), target(idle, 'ghost', MISSING_CONTAINER)] })]);
    await writePlan('node-b', [profile('web', { targets: [target(b1, 'web-3')] })]);
    const before = await waitForEntry('node-a', 'web', 'running exec', running(['exec']));
    await waitForEntry('node-b', 'web', 'running exec', running(['exec']));
    assert.equal(before.targets.resolved, 2);
    assert.deepEqual(before.targets.unresolved?.map((u) => u.containerId), [MISSING_CONTAINER]);
    assert.match(before.targets.unresolved?.[0]?.reason ?? '', /no container f{64} of pod/);
    // Through the API server (its schema would prune unknown fields): the pod, the name, where the agent looked.
    assert.equal(before.targets.unresolved?.[0]?.pod, `${NS}/ghost`);
    assert.equal(before.targets.unresolved?.[0]?.container, 'app');
    assert.deepEqual(before.targets.unresolved?.[0]?.lookedIn, [join(idle.dir, '..', `cri-containerd-${'f'.repeat(64)}.scope`)]);

    await Promise.all([a1.execTimes(3), a2.execTimes(5), idle.execTimes(4), b1.execTimes(7)]);

    const a = await expectExecs('node-a', 'web', 8);
    assert.deepEqual(a.results?.exec?.topCommands, [{ key: '/bin/true', count: 8 }]);
    assert.deepEqual(a.pods?.map((p) => [p.pod, p.podUid, p.results.exec?.execs]), [['web-2', a2.podUid, 5], ['web-1', a1.podUid, 3]]);
    assert.equal(a.observedGeneration, 1);
    const b = await expectExecs('node-b', 'web', 7);
    assert.deepEqual(b.pods?.map((p) => [p.pod, p.results.exec?.execs]), [['web-3', 7]]);
    const status = (await entry('node-a', 'web'))?.status;
    assert.ok(status?.heartbeat !== undefined && status.agentVersion !== undefined, 'heartbeat and agentVersion are reported');
  });

  it('shares a probe between profiles and detaches what a removed profile alone needed', async () => {
    const agentA = agents.get('node-a') as Agent;
    const web = profile('web', { targets: [target(a1, 'web-1'), target(a2, 'web-2'), target(idle, 'ghost', MISSING_CONTAINER)] });
    await writePlan('node-a', [web, profile('opens', { probes: [{ name: 'exec' }, { name: 'files', pathPrefixes: ['/etc/ld.so.cache'] }], targets: [target(a1, 'web-1')] })]);
    await waitForEntry('node-a', 'opens', 'running exec and files', running(['exec', 'files']));
    const programs = agentA.programs();
    assert.deepEqual(programs.filter((n) => n === 'loupe_exec' || n === 'loupe_exit'), ['loupe_exec', 'loupe_exit'], 'exec is loaded once for both');
    assert.ok(programs.some((n) => n.startsWith('loupe_open')), programs.join(', '));

    await a1.execTimes(2);
    const opens = await expectExecs('node-a', 'opens', 2);
    // The probe option reaches the node: of everything /bin/true opens, only its dynamic loader's cache, once per exec.
    assert.deepEqual(opens.results?.files, { opens: 2, errors: 0, topPaths: [{ key: '/etc/ld.so.cache', count: 2, errors: 0 }] });
    await expectExecs('node-a', 'web', 10);

    await writePlan('node-a', [web]);
    await waitFor('node-a to detach the files probe', () => !agentA.programs().some((n) => n.startsWith('loupe_open')));
    assert.deepEqual(agentA.programs(), ['loupe_exec', 'loupe_exit'], 'exec stays: web still needs it');
    await waitFor('node-a to drop the removed profile from status', async () => (await entry('node-a', 'opens')) === undefined);
    assert.equal((await entry('node-a', 'web'))?.profile.state, 'Running');
  });

  it('serves the profile probe’s stacks for download as folded text and pprof', async () => {
    const agentA = agents.get('node-a') as Agent;
    const others = (await client.get<Plan>(nodeTracePlanResource, { name: 'node-a' }))?.spec?.profiles ?? [];
    await writePlan('node-a', [...others, profile('cpu', { probes: [{ name: 'profile', frequency: 99 }], targets: [target(a1, 'web-1')] })]);
    await waitForEntry('node-a', 'cpu', 'running the profile probe', running(['profile']));
    await a1.run('i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); done');

    const url = (file: string) => `http://127.0.0.1:${agentA.profilePort}/profiles/${file}`;
    // Folded stacks start with the command: the pod's busy shell, sampled at 99 Hz
    // for the second or more it spins (the agent collects every interval).
    const shellSamples = (text: string) =>
      text.split('\n').filter((line) => line.startsWith('sh;')).reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    await waitFor('≥ 20 samples of the busy shell', async () => {
      const response = await fetch(url('cpu.folded'));
      return response.status === 200 && shellSamples(await response.text()) >= 20;
    });
    const pprof = await fetch(url('cpu.pb.gz'));
    assert.equal(pprof.status, 200);
    const body = Buffer.from(await pprof.arrayBuffer());
    assert.deepEqual([...body.subarray(0, 2)], [0x1f, 0x8b], 'a gzipped pprof profile');
    assert.equal((await fetch(url('nope.folded'))).status, 404);
    await writePlan('node-a', others);
    await waitFor('node-a to detach the profile probe', () => !agentA.programs().includes('loupe_profile'));
  });

  it('follows a restarted container, and finds a cgroup that appears after the plan', async () => {
    restarted = new LocalPod('guaranteed');
    late = new LocalPod();
    pods.push(restarted, late);
    late.remove(); // its container has not started yet
    await writePlan('node-b', [profile('web', { generation: 2, targets: [target(restarted, 'web-3'), target(late, 'web-4')] })]);
    const pending = await waitForEntry('node-b', 'web', 'seeing the new generation', (p) => p.observedGeneration === 2);
    assert.equal(pending.targets.resolved, 1);
    assert.deepEqual(pending.targets.unresolved?.map((u) => u.containerId), [late.containerRef]);

    mkdirSync(late.dir, { recursive: true }); // the container starts
    await waitForEntry('node-b', 'web', 'resolving the late container', (p) => p.targets.resolved === 2 && p.targets.unresolved === undefined);
    await Promise.all([restarted.execTimes(4), late.execTimes(1), b1.execTimes(6)]);
    // 7 from before the restart are kept; the old container's cgroup is no longer traced.
    const b = await expectExecs('node-b', 'web', 12);
    assert.deepEqual(b.pods?.map((p) => [p.pod, p.results.exec?.execs]), [['web-3', 7], ['web-3', 4], ['web-4', 1]]);
  });

  it('stops tracing an inactive profile and keeps reporting its final results', async () => {
    const agentB = agents.get('node-b') as Agent;
    await writePlan('node-b', [profile('web', { generation: 3, active: false, targets: [target(restarted, 'web-3'), target(late, 'web-4')] })]);
    const stopped = await waitForEntry('node-b', 'web', 'stopped', (p) => p.state === 'Stopped');
    assert.deepEqual(stopped.probesLoaded, []);
    assert.equal(execsOf(stopped), 12);
    await waitFor('node-b to detach every program', () => agentB.programs().length === 0);
    await restarted.execTimes(3);
    await expectExecs('node-b', 'web', 12);
  });

  it('exports cumulative results and exec events over OTLP, and reports a missing Secret', async () => {
    const exporting = new LocalPod();
    pods.push(exporting);
    const web = profile('web', { targets: [target(a1, 'web-1'), target(a2, 'web-2'), target(idle, 'ghost', MISSING_CONTAINER)] });
    const otlp = { endpoint: (collector as Collector).grpcEndpoint, protocol: 'grpc' as const, insecure: true, headersSecretRef: { name: 'otlp-headers' } };
    await writePlan('node-a', [
      web,
      profile('exported', { targets: [target(exporting, 'api-1')], otlp }),
      profile('no-secret', { targets: [target(exporting, 'api-1')], otlp: { ...otlp, headersSecretRef: { name: 'nope' } } }),
    ]);
    await waitForEntry('node-a', 'exported', 'running exec', running(['exec']));
    const noSecret = await waitForEntry('node-a', 'no-secret', 'running exec', running(['exec']));
    assert.equal(noSecret.errors?.length, 1);
    assert.match(
      noSecret.errors?.[0]?.message ?? '',
      new RegExp(`^OTLP output disabled: Secret ${DEFAULT_LOUPE_NAMESPACE}/loupe-otlp-no-secret not found: the operator copies .* in ${NS} there`),
    );

    await exporting.execTimes(6);
    await expectExecs('node-a', 'exported', 6);
    await waitFor('the collector to receive 6 execs for api-1', async () => (await latestSum('loupe.exec.execs', exporting.podUid)) === 6);
    const execEvents = await waitFor('6 exec events for api-1', async () => {
      const records = (await (collector as Collector).readLogs()).flatMap((batch) =>
        batch.resourceLogs
          .filter((rl) => attribute(rl.resource?.attributes, 'k8s.pod.uid') === exporting.podUid)
          .flatMap((rl) => rl.scopeLogs?.flatMap((sl) => sl.logRecords ?? []) ?? []),
      );
      const execs = records.filter((r) => attribute(r.attributes, 'loupe.event') === 'exec');
      return execs.length >= 6 ? execs : undefined;
    });
    assert.equal(execEvents.length, 6, 'each exec exported once, for the one profile with a sink');
    assert.ok(execEvents.every((r) => attribute(r.attributes, 'process.executable.path') === '/bin/true'));
    assert.equal((await entry('node-a', 'exported'))?.profile.errors, undefined, 'nothing dropped or failing');
    await writePlan('node-a', [web]);
    await waitFor('node-a to drop the OTLP profiles', async () => (await entry('node-a', 'exported')) === undefined);
  });

  it('reports what tracing costs, and drops the costliest probe of a profile that stays over its budget', async () => {
    const busy = new LocalPod();
    pods.push(busy);
    // web as the previous case left it, so that the next cases find its results.
    const web = profile('web', { targets: [target(a1, 'web-1'), target(a2, 'web-2'), target(idle, 'ghost', MISSING_CONTAINER)] });
    const probes: NodeProfilePlan['probes'] = [{ name: 'exec' }, { name: 'syscalls' }];
    await writePlan('node-a', [web, profile('capped', { probes, budget: { maxEventsPerSecond: 50 }, targets: [target(busy, 'busy-1')] })]);
    await waitForEntry('node-a', 'capped', 'running exec and syscalls', running(['exec', 'syscalls']));
    // A byte at a time: hundreds of thousands of syscalls a second, for longer than 3 intervals.
    const load = busy.run('timeout 8 dd if=/dev/zero of=/dev/null bs=1 2>/dev/null');
    try {
      const measured = await waitForEntry('node-a', 'capped', 'a measured cost', (p) => (p.cost?.eventsPerSecond ?? 0) > 1000);
      assert.ok((measured.cost?.cpuCores ?? 0) > 0 && measured.cost?.unmeasured === undefined, JSON.stringify(measured.cost));
      const degraded = await waitForEntry('node-a', 'capped', 'syscalls dropped for the budget', (p) =>
        (p.errors ?? []).some((e) => e.reason === 'BudgetExceeded' && e.probe === 'syscalls'),
      );
      assert.deepEqual(degraded.probesLoaded, ['exec'], 'syscalls made the events: it goes first, exec stays');
      assert.match(degraded.errors?.[0]?.message ?? '', /over budget on this node for 3 intervals \(\d+ events\/s > 50 allowed\): dropped probe syscalls/);
      const node = (await entry('node-a', 'capped'))?.status.cost;
      assert.ok(node !== undefined && node.agentMemoryBytes > 0 && node.kernelMemoryBytes > 0, JSON.stringify(node));
    } finally {
      await load;
    }
    await writePlan('node-a', [web]);
    await waitFor('node-a to drop the capped profile', async () => (await entry('node-a', 'capped')) === undefined);
  });

  it('on a node with cgroup v1 only, keeps running and reports every target untraced, with the cause and the fix', async () => {
    const agentC = startAgent('node-c', 0, true);
    const pod = new LocalPod();
    pods.push(pod);
    await writePlan('node-c', [profile('web', { targets: [target(pod, 'web-v1')] })]);
    const reported = await waitForEntry('node-c', 'web', 'reports its target unresolved', (p) => (p.targets.unresolved?.length ?? 0) === 1);
    assert.equal(reported.targets.resolved, 0);
    assert.equal(reported.targets.unresolved?.[0]?.pod, `${NS}/web-v1`);
    assert.match(reported.targets.unresolved?.[0]?.reason ?? '', /^this node has no cgroup v2 .*only cgroup v1.*Fix: run the node with cgroup v2/);
    // Nothing to attach for: no probe is loaded, and the agent stays up.
    assert.deepEqual(reported.probesLoaded, []);
    assert.equal(agentC.exitStatus, undefined, agentC.log);
    agentC.child.kill('SIGTERM');
    assert.deepEqual(await waitFor('node-c to exit', () => agentC.exitStatus), { code: 0, signal: null });
  });

  it('SIGTERM: detaches everything, writes a final status that says so, exits 0', async () => {
    const agentA = agents.get('node-a') as Agent;
    const handles = bpfHandlesOf(agentA.pid);
    assert.ok(handles.progIds.length > 0);
    agentA.child.kill('SIGTERM');
    assert.deepEqual(await waitFor('node-a to exit', () => agentA.exitStatus), { code: 0, signal: null });
    const last = (await entry('node-a', 'web'))?.profile;
    assert.equal(last?.state, 'Stopped');
    assert.deepEqual(last?.probesLoaded, []);
    assert.ok(last?.errors?.some((e) => e.message === SHUTDOWN_MESSAGE), JSON.stringify(last?.errors));
    assert.equal(execsOf(last), 10, 'the final status keeps the final results');
    assert.deepEqual(await remainingAfterRelease(handles), { progIds: [], linkIds: [] });
  });

  it('SIGKILL then restart: nothing leaks, and the new agent picks up where the old one left off', async () => {
    await writePlan('node-b', [profile('web', { generation: 4, targets: [target(restarted, 'web-3')] })]);
    await waitForEntry('node-b', 'web', 'running again', (p) => p.observedGeneration === 4 && running(['exec'])(p));
    await restarted.execTimes(3);
    await expectExecs('node-b', 'web', 15);
    const killed = agents.get('node-b') as Agent;
    const handles = bpfHandlesOf(killed.pid);
    assert.ok(handles.progIds.length > 0);
    killed.child.kill('SIGKILL');
    await killed.exited;
    assert.deepEqual(await remainingAfterRelease(handles), { progIds: [], linkIds: [] }, 'the kernel freed them with the fds');

    const killedAt = Date.now();
    startAgent('node-b');
    await waitFor('the restarted agent to report', async () => {
      const found = await entry('node-b', 'web');
      const heartbeat = found?.status.heartbeat === undefined ? 0 : Date.parse(found.status.heartbeat);
      return heartbeat > killedAt && found !== undefined && running(['exec'])(found.profile) && execsOf(found.profile) === 15;
    });
    await restarted.execTimes(2);
    const b = await expectExecs('node-b', 'web', 17);
    // The old process's per-pod counts go on too: web-3 (restarted) 7 + 2, the old web-3 and web-4 as they were.
    assert.deepEqual(b.pods?.map((p) => [p.pod, p.podUid, p.results.exec?.execs]), [
      ['web-3', restarted.podUid, 9],
      ['web-3', b1.podUid, 7],
      ['web-4', late.podUid, 1],
    ]);
    assert.deepEqual(b.results?.exec?.topCommands, [{ key: '/bin/true', count: 17 }]);
  });
});
