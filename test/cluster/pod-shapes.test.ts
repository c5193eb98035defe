// The operator against a real kube-apiserver, for the containers a pod has
// beyond its app containers and for static pods: init containers (while the
// pod is Pending), native sidecars (restartable init containers), ephemeral
// debug containers (added through the pod's ephemeralcontainers subresource)
// and a static pod's mirror pod, whose config hash must reach the plan target
// through the NodeTracePlan schema (server-side apply prunes unknown fields).
// The test plays the kubelet; test/kernel/cgroup-shapes.test.ts resolves the
// same targets on real cgroups.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { nodeTracePlanResource, type NodeTracePlanSpec, type NodeTraceTarget } from '../../api/nodetraceplan.js';
import type { LoupeOperator } from '../../operator/loupe-operator.js';
import { startOperator } from '../../operator/main.js';
import { KubeHttp } from '../../kube/kube-http.js';
import type { KubeObject } from '../../kube/kube-object.js';
import { ResourceClient } from '../../kube/resource-client.js';
import { startControlPlane, type ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { controlPlaneSuiteSkip } from '../support/control-plane-blocker.js';
import { waitFor } from '../support/wait-for.js';
import { waitForCrdsEstablished } from '../../hack/local-cluster/crds-established.js';
import { podResource } from '../../kube/resource-type.js';
import { traceProfileResource } from '../../api/traceprofile.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');
const NS = 'shop';
const NODE = 'node-a';
const IMAGE = 'registry.example/app:1';
const HASH = '6d6c5ad4e8a4a0d5b7b0e1f2c3d4e5f6';

type Plan = KubeObject & { spec?: NodeTracePlanSpec };

let controlPlane: ControlPlane | undefined;
let client: ResourceClient;
let operator: LoupeOperator | undefined;

const cid = (name: string) => `containerd://${Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64)}`;
const running = (name: string, extra: object = {}) => ({
  name,
  containerID: cid(name),
  image: IMAGE,
  imageID: 'registry.example/app@sha256:0000',
  ready: true,
  restartCount: 0,
  state: { running: { startedAt: '2026-12-07T00:00:00Z' } },
  ...extra,
});
const waiting = (name: string) => ({ name, image: IMAGE, imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } });

async function createPod(name: string, spec: object, annotations?: Record<string, string>): Promise<void> {
  await client.create(podResource, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: NS, name, labels: { app: 'shapes' }, ...(annotations !== undefined && { annotations }) },
    spec: { nodeName: NODE, ...spec },
  });
}

async function plannedTargets(profile: string): Promise<NodeTraceTarget[] | undefined> {
  const plan = await client.get<Plan>(nodeTracePlanResource, { name: NODE });
  return plan?.spec?.profiles.find((p) => p.name === profile)?.targets;
}

describe('init, sidecar, ephemeral containers and static pods through a real kube-apiserver', { skip: await controlPlaneSuiteSkip() }, () => {
  before(async () => {
    controlPlane = await startControlPlane();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    client = new ResourceClient(new KubeHttp(kubeConfig));
    const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', controlPlane!.kubeconfigPath, ...args]);
    await kubectl('apply', '-f', join(repoRoot, 'crds', 'loupe.dev_traceprofiles.yaml'), '-f', join(repoRoot, 'crds', 'loupe.dev_nodetraceplans.yaml'));
    await waitForCrdsEstablished(controlPlane.kubeconfigPath, ['traceprofiles.loupe.dev', 'nodetraceplans.loupe.dev']);
    await kubectl('create', 'namespace', NS);
    await kubectl('create', 'namespace', 'loupe-system');

    // A pod still initializing: its init container runs, its app container waits.
    await createPod('init-1', { initContainers: [{ name: 'migrate', image: IMAGE }], containers: [{ name: 'app', image: IMAGE }] });
    await client.mergePatch(podResource, { namespace: NS, name: 'init-1' }, {
      status: { phase: 'Pending', initContainerStatuses: [running('migrate')], containerStatuses: [waiting('app')] },
    }, 'status');
    // A native sidecar (restartPolicy Always) beside the app, and an ephemeral debug container added later.
    await createPod('mesh-1', {
      initContainers: [{ name: 'istio-proxy', image: IMAGE, restartPolicy: 'Always' }],
      containers: [{ name: 'app', image: IMAGE }],
    });
    await client.mergePatch(podResource, { namespace: NS, name: 'mesh-1' }, {
      spec: { ephemeralContainers: [{ name: 'debugger', image: IMAGE, targetContainerName: 'app' }] },
    }, 'ephemeralcontainers');
    await client.mergePatch(podResource, { namespace: NS, name: 'mesh-1' }, {
      status: {
        phase: 'Running',
        initContainerStatuses: [running('istio-proxy', { started: true })],
        containerStatuses: [running('app')],
        ephemeralContainerStatuses: [running('debugger')],
      },
    }, 'status');
    // A static pod's mirror pod, as the kubelet creates it.
    await createPod('etcd-node-a', { containers: [{ name: 'etcd', image: IMAGE }] }, {
      'kubernetes.io/config.hash': HASH,
      'kubernetes.io/config.mirror': HASH,
      'kubernetes.io/config.source': 'file',
    });
    await client.mergePatch(podResource, { namespace: NS, name: 'etcd-node-a' }, { status: { phase: 'Running', containerStatuses: [running('etcd')] } }, 'status');

    operator = await startOperator({
      kubeconfig: controlPlane.kubeconfigPath,
      namespace: 'loupe-system',
      identity: 'shapes',
      logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
      leaderElection: { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 250 },
    });
  });

  after(async () => {
    await operator?.stop();
    await controlPlane?.stop();
  });

  const profile = (name: string, containers?: string[]) =>
    client.create(traceProfileResource, {
      apiVersion: 'loupe.dev/v1alpha1',
      kind: 'TraceProfile',
      metadata: { name, namespace: NS },
      spec: { selector: { matchLabels: { app: 'shapes' } }, probes: [{ name: 'exec' }], ...(containers !== undefined && { containers }) },
    });

  it('plans every running container of every kind, and a static pod with its config hash', async () => {
    await profile('all');
    const targets = await waitFor('all targets planned', async () => {
      const t = await plannedTargets('all');
      return t !== undefined && t.length === 5 ? t : undefined;
    });
    const summary = targets.map((t) => `${t.pod}/${t.container}=${t.containerId}${t.configHash ? ` hash=${t.configHash}` : ''}`).sort();
    assert.deepEqual(summary, [
      `etcd-node-a/etcd=${cid('etcd')} hash=${HASH}`,
      `init-1/migrate=${cid('migrate')}`,
      `mesh-1/app=${cid('app')}`,
      `mesh-1/debugger=${cid('debugger')}`,
      `mesh-1/istio-proxy=${cid('istio-proxy')}`,
    ]);
    const etcd = targets.find((t) => t.pod === 'etcd-node-a');
    assert.notEqual(etcd?.podUid, HASH, 'podUid stays the API uid, for results and OTLP');
  });

  it('selects a native sidecar and an ephemeral container by name', async () => {
    await profile('sidecar-only', ['istio-proxy', 'debugger']);
    const targets = await waitFor('sidecar-only planned', async () => {
      const t = await plannedTargets('sidecar-only');
      return t !== undefined && t.length === 2 ? t : undefined;
    });
    assert.deepEqual(targets.map((t) => t.container).sort(), ['debugger', 'istio-proxy']);
  });

  it('follows an init container to its end: once it terminated and the app runs, the app is the target', async () => {
    await client.mergePatch(podResource, { namespace: NS, name: 'init-1' }, {
      status: {
        phase: 'Running',
        initContainerStatuses: [{ ...running('migrate'), ready: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
        containerStatuses: [running('app-of-init-1')].map((s) => ({ ...s, name: 'app' })),
      },
    }, 'status');
    await waitFor('init-1 app planned', async () => {
      const t = await plannedTargets('all');
      const ofInit = t?.filter((x) => x.pod === 'init-1').map((x) => `${x.container}=${x.containerId}`);
      return JSON.stringify(ofInit) === JSON.stringify([`app=${cid('app-of-init-1')}`]);
    });
  });
});
