// Loupe as a user deploys it, on a real node: the images hack/build-images.sh
// built from the repo's Dockerfiles, imported into the node's containerd, and
// `kubectl apply -k` of an overlay of config/default that changes only image
// names and pull policy. The operator runs as a Deployment of 2 replicas (one
// leads), the agent as a DaemonSet pod under the manifest's securityContext (not
// privileged), both with their service accounts' real tokens, and they reach the
// API server through the `kubernetes` Service like any in-cluster client. The
// workloads are real Deployments whose pods run images/ground-truth.c, so every
// exec, open and TCP connection in them is known: a TraceProfile applied with
// kubectl must show exactly those, and nothing of the untargeted Deployment.
// Then the faults of real life: a container that crashes and is restarted by the
// kubelet, an agent pod deleted and recreated by the DaemonSet, the profile
// deleted (bpftool on the node must show no program left). All traffic stays on
// 127.0.0.1 inside the pods' own network namespaces.
//
// Needs root, a real node (hack/setup.sh, hack/build-controlplane.sh) and the
// built images (hack/build-images.sh); outside CI it skips without them, with
// CI=true it fails.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoordinationV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import type { NodeTracePlan } from '../../api/nodetraceplan.js';
import type { TraceProfileStatus } from '../../api/traceprofile.js';
import { startControlPlane, type ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { AGENT_IMAGE, loupeImagesBlocker, OPERATOR_IMAGE } from '../support/loupe-images.js';
import {
  AGENT_SELECTOR,
  containerIdOf,
  deployLoupe,
  groundTruthDeployment,
  kubectl,
  kubectlOk,
  loupePrograms,
  OPERATOR_SELECTOR,
  OVERLAY,
  signalContainer,
  SYSTEM_NAMESPACE,
  type GroundTruthRound,
} from '../support/loupe-deployment.js';
import { suiteSkip } from '../support/privileged.js';
import { GROUND_TRUTH_FILE, realNodeBlocker, startRealNode, type RealNode } from '../support/real-node.js';
import { waitFor } from '../support/wait-for.js';

const repoRoot = join(import.meta.dirname, '..', '..');
const NAMESPACE = 'shop';
const PROFILE = 'checkout';
/** What one ground-truth round does in each pod. */
const ROUND: GroundTruthRound = { execs: 3, opens: 4, connects: 2 };
const CHECKOUT_REPLICAS = 2;

async function blocker(): Promise<string | undefined> {
  return (await realNodeBlocker()) ?? (await loupeImagesBlocker());
}

describe('Loupe deployed on a real node with kubectl apply -k', { skip: suiteSkip(await blocker()), timeout: 900_000 }, () => {
  let controlPlane: ControlPlane | undefined;
  let node: RealNode | undefined;
  let core: CoreV1Api;
  let leases: CoordinationV1Api;

  before(async () => {
    controlPlane = await startControlPlane({ serviceAccountAdmission: true });
    node = await startRealNode(controlPlane);
    const admin = new KubeConfig();
    admin.loadFromFile(controlPlane.kubeconfigPath);
    core = admin.makeApiClient(CoreV1Api);
    leases = admin.makeApiClient(CoordinationV1Api);
    await deployLoupe(controlPlane, node);
  });

  after(async () => {
    await node?.stop();
    await controlPlane?.stop();
  });

  const cp = () => {
    assert.ok(controlPlane);
    return controlPlane;
  };
  const diagnostics = () => node?.logTails(10) ?? '';
  const pods = async (namespace: string, labelSelector: string) => (await core.listNamespacedPod({ namespace, labelSelector })).items;
  const profileStatus = async (): Promise<TraceProfileStatus | undefined> =>
    (JSON.parse(await kubectlOk(cp(), ['get', 'traceprofile', '-n', NAMESPACE, PROFILE, '-o', 'json'])) as { status?: TraceProfileStatus }).status;
  const plan = async (): Promise<NodeTracePlan> => JSON.parse(await kubectlOk(cp(), ['get', 'nodetraceplan', node?.name ?? '', '-o', 'json'])) as NodeTracePlan;

  /** [execs of /bin/true, opens of the ground-truth file, connects, accepts], all pods or one. */
  type Counts = [number, number, number, number];
  const countsOf = (results: TraceProfileStatus['results']): Counts => [
    results?.exec?.topCommands.find((c) => c.key === '/bin/true')?.count ?? 0,
    results?.files?.topPaths.find((p) => p.key === GROUND_TRUTH_FILE)?.count ?? 0,
    results?.tcp?.connects ?? 0,
    results?.tcp?.accepts ?? 0,
  ];
  const expected = (rounds: number, podCount: number): Counts => {
    const n = rounds * podCount;
    return [n * ROUND.execs, n * ROUND.opens, n * ROUND.connects, n * ROUND.connects];
  };
  /** Waits until the profile's totals are exactly `want`, then returns the status. */
  const waitForTotals = async (what: string, want: Counts): Promise<TraceProfileStatus> => {
    let last: Counts | undefined;
    return waitFor(what, async () => {
      const status = await profileStatus();
      last = countsOf(status?.results);
      return JSON.stringify(last) === JSON.stringify(want) ? status : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1_000, diagnostics: () => `last totals ${JSON.stringify(last)}, want ${JSON.stringify(want)}` });
  };
  /** One ground-truth round in every running pod of the Deployment. */
  const round = async (app: string) => {
    for (const pod of await pods(NAMESPACE, `app=${app}`)) await signalContainer(pod, 'SIGUSR1');
  };
  /** Waits until the agent has applied the plan's current spec (every target attached or reported). */
  const waitForPlanApplied = (what: string, check: (p: NodeTracePlan) => boolean) =>
    waitFor(what, async () => {
      const p = await plan();
      return check(p) && p.status?.observedGeneration === p.metadata.generation ? p : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, diagnostics });

  it('the overlay changes only image names and pull policy', async () => {
    const documents = async (dir: string) =>
      parseAllDocuments(await kubectlOk(cp(), ['kustomize', dir])).map((d) => d.toJSON() as Record<string, unknown>);
    const base = await documents(join(repoRoot, 'config', 'default'));
    const overlay = await documents(OVERLAY);
    const images: string[] = [];
    const normalized = overlay.map((doc) => {
      const text = JSON.stringify(doc, (key, value: unknown) => {
        if (key === 'image' && typeof value === 'string') {
          images.push(value);
          return value.replace(/^localhost\//, '');
        }
        return key === 'imagePullPolicy' ? 'IfNotPresent' : value;
      });
      return JSON.parse(text) as Record<string, unknown>;
    });
    assert.deepEqual(normalized, base);
    assert.deepEqual(images.sort(), [AGENT_IMAGE.reference, OPERATOR_IMAGE.reference]);
  });

  it('runs the operator (2 replicas, one leading) and the agent from the built images, unprivileged, with their own tokens', async () => {
    const manifests = parseAllDocuments(await kubectlOk(cp(), ['kustomize', OVERLAY])).map((d) => d.toJSON() as {
      kind: string;
      spec?: { template?: { spec?: { containers?: { securityContext?: unknown }[]; securityContext?: unknown; serviceAccountName?: string } } };
    });
    const template = (kind: string) => manifests.find((m) => m.kind === kind)?.spec?.template?.spec;
    for (const [selector, kind, image, replicas] of [
      [OPERATOR_SELECTOR, 'Deployment', OPERATOR_IMAGE, 2],
      [AGENT_SELECTOR, 'DaemonSet', AGENT_IMAGE, 1],
    ] as const) {
      const running = (await pods(SYSTEM_NAMESPACE, selector)).filter((p) => p.status?.phase === 'Running');
      assert.equal(running.length, replicas, `${kind}: ${running.map((p) => p.metadata?.name).join(', ')}`);
      for (const pod of running) {
        const status = pod.status?.containerStatuses?.[0];
        assert.equal(status?.ready, true, `${pod.metadata?.name} is not ready`);
        assert.equal(pod.spec?.containers[0]?.image, image.reference);
        assert.equal(pod.spec?.nodeName, node?.name);
        // Exactly the manifest's securityContext, and nothing privileged.
        assert.deepEqual(JSON.parse(JSON.stringify(pod.spec?.containers[0]?.securityContext)), template(kind)?.containers?.[0]?.securityContext);
        assert.notEqual(pod.spec?.containers[0]?.securityContext?.privileged, true);
        assert.deepEqual(JSON.parse(JSON.stringify(pod.spec?.securityContext ?? {})), template(kind)?.securityContext ?? {});
        assert.equal(pod.spec?.serviceAccountName, template(kind)?.serviceAccountName);
        assert.ok(pod.spec?.volumes?.some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken)), 'no projected token');
      }
    }
    // One replica holds the Lease (identity <pod name>_<uuid>).
    const operatorPods = (await pods(SYSTEM_NAMESPACE, OPERATOR_SELECTOR)).map((p) => p.metadata?.name ?? '');
    const holder = await waitFor('an operator replica to hold the Lease', async () => {
      const list = await leases.listNamespacedLease({ namespace: SYSTEM_NAMESPACE });
      return list.items.map((l) => l.spec?.holderIdentity ?? '').find((h) => operatorPods.some((name) => h.startsWith(`${name}_`)));
    }, { timeoutMs: 60_000, intervalMs: 500, diagnostics });
    assert.ok(holder);
  });

  it('counts exactly the execs, opens and connections of the targeted pods, and nothing of the others', async () => {
    await kubectlOk(cp(), ['create', 'namespace', NAMESPACE]);
    for (const [app, replicas] of [['checkout', CHECKOUT_REPLICAS], ['inventory', 1]] as const) {
      await kubectlOk(cp(), ['apply', '-f', '-'], stringify(groundTruthDeployment(NAMESPACE, app, replicas, ROUND)));
    }
    await kubectlOk(cp(), ['rollout', 'status', '-n', NAMESPACE, 'deployment/checkout', 'deployment/inventory', '--timeout=120s']);
    await kubectlOk(cp(), ['apply', '-n', NAMESPACE, '-f', '-'], stringify({
      apiVersion: 'loupe.dev/v1alpha1',
      kind: 'TraceProfile',
      metadata: { name: PROFILE },
      spec: { selector: { matchLabels: { app: 'checkout' } }, probes: [{ name: 'exec' }, { name: 'files' }, { name: 'tcp' }], duration: '30m', interval: '5s' },
    }));
    await waitForPlanApplied('the agent to attach both checkout pods', (p) => {
      const entry = p.status?.profiles?.[0];
      return entry?.targets.resolved === CHECKOUT_REPLICAS && entry.probesLoaded.length === 3;
    });
    const columns = [PROFILE, 'Running', String(CHECKOUT_REPLICAS), '1/1', 'exec,files,tcp'];
    let row = '';
    await waitFor('kubectl get traceprofiles to show it Running on the node', async () => {
      row = await kubectlOk(cp(), ['get', 'traceprofiles', '-n', NAMESPACE, '--no-headers', '-o', 'wide']);
      return JSON.stringify(row.trim().split(/\s{2,}/).slice(0, 5)) === JSON.stringify(columns);
    }, { timeoutMs: 30_000, intervalMs: 500, diagnostics: () => row });

    await round('checkout');
    await round('inventory');
    const status = await waitForTotals('one round in each checkout pod', expected(1, CHECKOUT_REPLICAS));
    // Nothing but the ground truth: no other exec, no failed open or connect.
    assert.equal(status.results?.exec?.execs, CHECKOUT_REPLICAS * ROUND.execs);
    assert.equal(status.results?.files?.errors, 0);
    assert.equal(status.results?.tcp?.connectFailures, 0);
    const checkout = (await pods(NAMESPACE, 'app=checkout')).map((p) => p.metadata?.name).sort();
    assert.deepEqual(status.pods?.map((p) => p.name).sort(), checkout);
    for (const pod of status.pods ?? []) assert.deepEqual(countsOf(pod.results), expected(1, 1), pod.name);
  });

  it('traces a container the kubelet restarted after a crash, under its new container id', async () => {
    const [victim] = await pods(NAMESPACE, 'app=checkout');
    assert.ok(victim);
    const name = victim.metadata?.name ?? '';
    const oldId = containerIdOf(victim);
    await signalContainer(victim, 'SIGUSR2');
    const restarted = await waitFor('the kubelet to restart the crashed container', async () => {
      const pod = await core.readNamespacedPod({ namespace: NAMESPACE, name });
      const id = containerIdOf(pod);
      return pod.status?.containerStatuses?.[0]?.restartCount === 1 && pod.status.containerStatuses[0].ready && id !== oldId ? pod : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500, diagnostics });
    const newId = containerIdOf(restarted) ?? '';
    await waitForPlanApplied('the agent to attach the new container', (p) => {
      const targets = p.spec.profiles[0]?.targets ?? [];
      return targets.some((t) => t.containerId.endsWith(newId)) && p.status?.profiles?.[0]?.targets.resolved === CHECKOUT_REPLICAS;
    });
    await round('checkout');
    const status = await waitForTotals('a second round, the restarted container included', expected(2, CHECKOUT_REPLICAS));
    assert.deepEqual(countsOf(status.pods?.find((p) => p.name === name)?.results), expected(2, 1));
  });

  it('a recreated agent pod keeps the counts already in status, and goes on counting', async () => {
    const [old] = await pods(SYSTEM_NAMESPACE, AGENT_SELECTOR);
    assert.ok(old);
    await kubectlOk(cp(), ['delete', 'pod', '-n', SYSTEM_NAMESPACE, old.metadata?.name ?? '', '--wait=true']);
    // The old agent detached everything when it exited.
    assert.deepEqual(await loupePrograms(), []);
    const deletedAt = Date.now();
    await waitFor('the DaemonSet to recreate its pod', async () =>
      (await pods(SYSTEM_NAMESPACE, AGENT_SELECTOR)).find((p: V1Pod) => p.metadata?.uid !== old.metadata?.uid && p.status?.containerStatuses?.[0]?.ready),
    { timeoutMs: 120_000, intervalMs: 500, diagnostics });
    // The old agent is gone (its pod deleted), so a later heartbeat is the new one's.
    await waitFor('the new agent to report both pods attached', async () => {
      const p = await plan();
      return Date.parse(String(p.status?.heartbeat ?? 0)) > deletedAt && p.status?.profiles?.[0]?.targets.resolved === CHECKOUT_REPLICAS;
    }, { timeoutMs: 60_000, intervalMs: 500, diagnostics });
    assert.ok((await loupePrograms()).includes('loupe_exec'), 'the new agent loaded nothing');
    assert.deepEqual(countsOf((await profileStatus())?.results), expected(2, CHECKOUT_REPLICAS));
    await round('checkout');
    await waitForTotals('a third round, counted by the new agent on top', expected(3, CHECKOUT_REPLICAS));
  });

  it("the agent's own token: what kubectl auth can-i answers, and a read and a write it is denied", async () => {
    assert.ok(node);
    const [agent] = await pods(SYSTEM_NAMESPACE, AGENT_SELECTOR);
    assert.ok(agent);
    // The token the kubelet mounted into the agent's pod (projected, bound to the pod and node).
    const volumes = join(node.dir, 'kubelet', 'pods', agent.metadata?.uid ?? '', 'volumes', 'kubernetes.io~projected');
    const [access] = (await readdir(volumes)).filter((v) => v.startsWith('kube-api-access-'));
    assert.ok(access, `no kube-api-access volume in ${volumes}`);
    const token = (await readFile(join(volumes, access, 'token'), 'utf8')).trim();
    const auth = [`--token=${token}`];
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, { node?: { name?: string }; pod?: { name?: string } }>;
    assert.equal(claims['kubernetes.io']?.node?.name, node.name);
    assert.equal(claims['kubernetes.io']?.pod?.name, agent.metadata?.name);

    const canI = async (...args: string[]) => {
      const result = await kubectl(cp(), ['auth', 'can-i', ...args], { auth });
      assert.ok(result.code === 0 || result.code === 1, result.stderr);
      return `${args.join(' ')}: ${result.stdout.trim()}`;
    };
    assert.deepEqual(await Promise.all([
      canI('watch', 'nodetraceplans'),
      canI('patch', 'nodetraceplans', '--subresource=status'),
      canI('patch', 'nodetraceplans'),
      canI('get', 'secrets', '-n', SYSTEM_NAMESPACE),
      canI('get', 'secrets', '-n', NAMESPACE),
      canI('list', 'secrets', '--all-namespaces'),
      canI('list', 'pods', '--all-namespaces'),
    ]), [
      'watch nodetraceplans: yes',
      'patch nodetraceplans --subresource=status: yes',
      'patch nodetraceplans: no',
      `get secrets -n ${SYSTEM_NAMESPACE}: yes`,
      `get secrets -n ${NAMESPACE}: no`,
      'list secrets --all-namespaces: no',
      'list pods --all-namespaces: no',
    ]);

    const read = await kubectl(cp(), ['get', 'secrets', '-n', NAMESPACE], { auth });
    assert.notEqual(read.code, 0);
    assert.match(read.stderr, /secrets is forbidden: User "system:serviceaccount:loupe-system:loupe-agent" cannot list resource "secrets"/);

    // The spec of its own plan is the operator's (RBAC); other nodes' plans are
    // refused by the admission policy (test/cluster/deploy.test.ts).
    const write = await kubectl(cp(), ['patch', 'nodetraceplan', node.name, '--type=merge', '-p', '{"spec":{"profiles":[]}}'], { auth });
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /cannot patch resource "nodetraceplans" in API group "loupe.dev"/);
  });

  it('deleting the profile detaches every program on the node (bpftool)', async () => {
    const loaded = await loupePrograms();
    for (const program of ['loupe_exec', 'loupe_open_enter', 'loupe_tcp_state']) assert.ok(loaded.includes(program), loaded.join(', '));
    await kubectlOk(cp(), ['delete', 'traceprofile', '-n', NAMESPACE, PROFILE, '--wait=true']);
    await waitFor('every loupe program to be unloaded', async () => (await loupePrograms()).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 500,
      diagnostics: () => `still loaded: ${JSON.stringify(loaded)}`,
    });
    // The operator deletes the plan nothing targets any more; the agent stays up, tracing nothing.
    await waitFor('the node plan to be deleted', async () =>
      (await kubectl(cp(), ['get', 'nodetraceplan', node?.name ?? ''])).stderr.includes('NotFound'), { timeoutMs: 30_000, intervalMs: 500 });
    const [agent] = await pods(SYSTEM_NAMESPACE, AGENT_SELECTOR);
    assert.equal(agent?.status?.containerStatuses?.[0]?.ready, true);
  });
});
