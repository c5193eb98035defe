// The deployment manifests against a real kube-apiserver: config/default
// applies to an empty cluster in one command and then passes a server-side
// dry run; the sample profile is admitted; the operator's pod meets the
// `restricted` Pod Security level and the agent's needs the `privileged` one
// its namespace grants; each service account can do exactly what
// config/rbac says (kubectl auth can-i, impersonating it); and the admission
// policy lets an agent write only the NodeTracePlan of its own node, with a
// pod-bound token like the one kubelet mounts. Then the real agent and the
// real operator run with exactly these credentials, so a permission their
// code needs and RBAC lacks fails here. No controller-manager or kubelet
// runs: the Deployment and DaemonSet are admitted, not run.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { agentVersion } from '../../agent/agent-version.js';
import { startOperator } from '../../operator/main.js';
import type { LoupeOperator } from '../../operator/loupe-operator.js';
import { serviceAccountKubeconfig, startControlPlane, type ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { controlPlaneSuiteSkip } from '../support/control-plane-blocker.js';
import { requireKernel } from '../support/privileged.js';
import { waitForCrdsEstablished } from '../../hack/local-cluster/crds-established.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');
const config = (base: string) => join(repoRoot, 'config', base);

const SYSTEM_NAMESPACE = 'loupe-system';
const TENANT_NAMESPACE = 'shop';
const AGENT = `system:serviceaccount:${SYSTEM_NAMESPACE}:loupe-agent`;
const OPERATOR = `system:serviceaccount:${SYSTEM_NAMESPACE}:loupe-operator`;

let controlPlane: ControlPlane | undefined;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl as the admin, or with `auth` flags (e.g. --token) that override its user. */
async function kubectl(args: string[], options: { stdin?: string; auth?: string[] } = {}): Promise<Result> {
  if (controlPlane === undefined) throw new Error('the control plane is not running');
  const child = run('kubectl', ['--kubeconfig', controlPlane.kubeconfigPath, ...(options.auth ?? []), ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
  if (options.stdin !== undefined) child.child.stdin?.end(options.stdin);
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

async function ok(args: string[], options?: { stdin?: string; auth?: string[] }): Promise<string> {
  const result = await kubectl(args, options);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

interface KubeDoc {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { template?: { spec: Record<string, unknown> } };
}

async function rendered(base: string): Promise<KubeDoc[]> {
  const yaml = await ok(['kustomize', config(base)]);
  return parseAllDocuments(yaml).map((doc) => doc.toJS() as KubeDoc);
}

function podFromTemplate(docs: KubeDoc[], kind: string, name: string, namespace: string): object {
  const workload = docs.find((d) => d.kind === kind);
  assert.ok(workload?.spec?.template, `no ${kind} with a pod template in config/default`);
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: workload.spec.template.spec };
}

/** Whether `user` may do it, as `kubectl auth can-i` answers (exit 0 yes, 1 no). */
async function canI(user: string, verb: string, resource: string, namespace?: string, subresource?: string): Promise<boolean> {
  const args = ['auth', 'can-i', verb, resource, `--as=${user}`];
  if (namespace !== undefined) args.push('-n', namespace);
  if (subresource !== undefined) args.push(`--subresource=${subresource}`);
  const result = await kubectl(args);
  assert.ok(result.code === 0 || result.code === 1, `kubectl auth can-i failed: ${result.stderr}`);
  return result.code === 0;
}

interface Permission {
  verb: string;
  resource: string;
  namespace?: string;
  subresource?: string;
}

const describePermission = (p: Permission) =>
  `${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ''}${p.namespace ? ` in ${p.namespace}` : ' cluster-wide'}`;

async function assertPermissions(user: string, allowed: Permission[], denied: Permission[]): Promise<void> {
  const wrong: string[] = [];
  for (const p of allowed) if (!(await canI(user, p.verb, p.resource, p.namespace, p.subresource))) wrong.push(`denied ${describePermission(p)}`);
  for (const p of denied) if (await canI(user, p.verb, p.resource, p.namespace, p.subresource)) wrong.push(`allowed ${describePermission(p)}`);
  assert.deepEqual(wrong, [], `${user} is ${wrong.join(', ')}`);
}

/** The admin kubeconfig with its user's token replaced: how a pod's mounted token is used. */
async function tokenKubeconfig(token: string, name: string): Promise<string> {
  assert.ok(controlPlane);
  const kubeconfig = parse(await ok(['config', 'view', '--raw']));
  kubeconfig.users[0].user = { token };
  const path = join(dirname(controlPlane.kubeconfigPath), `kubeconfig-${name}`);
  await writeFile(path, stringify(kubeconfig), { mode: 0o600 });
  return path;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, log = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${log()}`);
    await sleep(250);
  }
}

async function getJson(args: string[]): Promise<any | undefined> {
  const result = await kubectl(['get', ...args, '-o', 'json']);
  return result.code === 0 ? JSON.parse(result.stdout) : undefined;
}

const PLAN = 'nodetraceplans.loupe.dev';
const PROFILE = 'traceprofiles.loupe.dev';

describe('deploying config/default', { skip: await controlPlaneSuiteSkip() }, () => {
  before(async () => {
    controlPlane = await startControlPlane();
    // One command into an empty cluster, as a user (or Argo CD) would do it.
    await ok(['apply', '-k', config('default')]);
    await waitForCrdsEstablished(controlPlane.kubeconfigPath, [PROFILE, PLAN]);
    await ok(['create', 'namespace', TENANT_NAMESPACE]);
  });

  after(async () => {
    await controlPlane?.stop();
  });

  it('passes a server-side dry run once applied', async () => {
    const result = await kubectl(['apply', '--dry-run=server', '-k', config('default')]);
    assert.equal(result.code, 0, result.stderr);
    // Every object of the kustomization went through the server.
    const docs = await rendered('default');
    assert.equal(result.stdout.trim().split('\n').length, docs.length, result.stdout);
  });

  it('puts every namespaced object in loupe-system and leaves cluster-scoped ones without a namespace', async () => {
    const docs = await rendered('default');
    const clusterScoped = new Set([
      'Namespace',
      'CustomResourceDefinition',
      'ClusterRole',
      'ClusterRoleBinding',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
    for (const doc of docs) {
      const expected = clusterScoped.has(doc.kind) ? undefined : SYSTEM_NAMESPACE;
      assert.equal(doc.metadata.namespace, expected, `${doc.kind}/${doc.metadata.name}`);
    }
    const created = JSON.parse(await ok(['get', 'daemonset,deployment,serviceaccount', '-n', SYSTEM_NAMESPACE, '-o', 'json']));
    const names = (created.items as KubeDoc[]).map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(names, ['DaemonSet/loupe-agent', 'Deployment/loupe-operator', 'ServiceAccount/loupe-agent', 'ServiceAccount/loupe-operator']);
  });

  it('admits the sample TraceProfile, which asks for exec, tcp, syscalls and profile of app=checkout for 10m', async () => {
    await ok(['apply', '-n', TENANT_NAMESPACE, '-k', config('samples')]);
    const profile = JSON.parse(await ok(['get', '-n', TENANT_NAMESPACE, 'traceprofile', 'checkout', '-o', 'json']));
    assert.deepEqual(profile.spec.selector, { matchLabels: { app: 'checkout' } });
    assert.deepEqual(profile.spec.probes.map((p: { name: string }) => p.name), ['exec', 'tcp', 'syscalls', 'profile']);
    assert.equal(profile.spec.duration, '10m');
  });

  describe('Pod Security', () => {
    it('admits the operator pod in a namespace that enforces restricted', async () => {
      await ok(['create', 'namespace', 'restricted-check']);
      await ok(['label', 'namespace', 'restricted-check', 'pod-security.kubernetes.io/enforce=restricted']);
      const pod = podFromTemplate(await rendered('default'), 'Deployment', 'operator', 'restricted-check');
      const result = await kubectl(['create', '--dry-run=server', '-f', '-'], { stdin: stringify(pod) });
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /violate/);
    });

    it('rejects the agent pod under baseline, for its capabilities and host paths', async () => {
      await ok(['create', 'namespace', 'baseline-check']);
      await ok(['label', 'namespace', 'baseline-check', 'pod-security.kubernetes.io/enforce=baseline']);
      const pod = podFromTemplate(await rendered('default'), 'DaemonSet', 'agent', 'baseline-check');
      const result = await kubectl(['create', '--dry-run=server', '-f', '-'], { stdin: stringify(pod) });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /non-default capabilities/);
      assert.match(result.stderr, /hostPath volumes/);
    });

    it('admits the agent pod in loupe-system', async () => {
      const pod = podFromTemplate(await rendered('default'), 'DaemonSet', 'agent', SYSTEM_NAMESPACE);
      const result = await kubectl(['create', '--dry-run=server', '-f', '-'], { stdin: stringify(pod) });
      assert.equal(result.code, 0, result.stderr);
    });
  });

  describe('RBAC', () => {
    it('gives the agent its plans and their status, and Secrets of loupe-system by name only', async () => {
      await assertPermissions(
        AGENT,
        [
          { verb: 'get', resource: PLAN },
          { verb: 'list', resource: PLAN },
          { verb: 'watch', resource: PLAN },
          { verb: 'get', resource: PLAN, subresource: 'status' },
          { verb: 'patch', resource: PLAN, subresource: 'status' },
          { verb: 'update', resource: PLAN, subresource: 'status' },
          { verb: 'get', resource: 'secrets', namespace: SYSTEM_NAMESPACE },
        ],
        [
          { verb: 'get', resource: 'secrets', namespace: TENANT_NAMESPACE },
          { verb: 'list', resource: 'secrets', namespace: SYSTEM_NAMESPACE },
          { verb: 'create', resource: PLAN },
          { verb: 'update', resource: PLAN },
          { verb: 'patch', resource: PLAN },
          { verb: 'delete', resource: PLAN },
          { verb: 'get', resource: PROFILE, namespace: TENANT_NAMESPACE },
          { verb: 'patch', resource: PROFILE, namespace: TENANT_NAMESPACE },
          { verb: 'patch', resource: PROFILE, namespace: TENANT_NAMESPACE, subresource: 'status' },
          { verb: 'list', resource: 'secrets', namespace: TENANT_NAMESPACE },
          { verb: 'watch', resource: 'secrets', namespace: TENANT_NAMESPACE },
          { verb: 'list', resource: 'pods', namespace: TENANT_NAMESPACE },
          { verb: 'get', resource: 'nodes' },
          { verb: 'create', resource: 'events.events.k8s.io', namespace: TENANT_NAMESPACE },
          { verb: 'get', resource: 'leases.coordination.k8s.io', namespace: SYSTEM_NAMESPACE },
        ],
      );
    });

    it('gives the operator profiles, their status, plans, pods, events, its own lease, and Secrets to copy', async () => {
      await assertPermissions(
        OPERATOR,
        [
          ...['get', 'list', 'watch', 'update', 'patch'].map((verb) => ({ verb, resource: PROFILE, namespace: TENANT_NAMESPACE })),
          { verb: 'update', resource: PROFILE, namespace: TENANT_NAMESPACE, subresource: 'status' },
          { verb: 'patch', resource: PROFILE, namespace: TENANT_NAMESPACE, subresource: 'status' },
          ...['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'].map((verb) => ({ verb, resource: PLAN })),
          ...['get', 'list', 'watch'].map((verb) => ({ verb, resource: 'pods', namespace: TENANT_NAMESPACE })),
          // The node count that sizes the agents' report interval: a list of one, nothing cached.
          { verb: 'list', resource: 'nodes' },
          { verb: 'create', resource: 'events.events.k8s.io', namespace: TENANT_NAMESPACE },
          { verb: 'patch', resource: 'events.events.k8s.io', namespace: TENANT_NAMESPACE },
          ...['get', 'create', 'update'].map((verb) => ({ verb, resource: 'leases.coordination.k8s.io', namespace: SYSTEM_NAMESPACE })),
          { verb: 'get', resource: 'secrets', namespace: TENANT_NAMESPACE },
          ...['get', 'create', 'patch', 'delete'].map((verb) => ({ verb, resource: 'secrets', namespace: SYSTEM_NAMESPACE })),
        ],
        [
          { verb: 'create', resource: PROFILE, namespace: TENANT_NAMESPACE },
          { verb: 'delete', resource: PROFILE, namespace: TENANT_NAMESPACE },
          { verb: 'patch', resource: PLAN, subresource: 'status' },
          { verb: 'deletecollection', resource: PLAN },
          { verb: 'create', resource: 'pods', namespace: TENANT_NAMESPACE },
          { verb: 'delete', resource: 'pods', namespace: TENANT_NAMESPACE },
          { verb: 'list', resource: 'secrets', namespace: TENANT_NAMESPACE },
          { verb: 'watch', resource: 'secrets', namespace: TENANT_NAMESPACE },
          { verb: 'create', resource: 'secrets', namespace: TENANT_NAMESPACE },
          { verb: 'delete', resource: 'secrets', namespace: TENANT_NAMESPACE },
          { verb: 'get', resource: 'nodes' },
          { verb: 'watch', resource: 'nodes' },
          { verb: 'delete', resource: 'events.events.k8s.io', namespace: TENANT_NAMESPACE },
          { verb: 'get', resource: 'leases.coordination.k8s.io', namespace: 'kube-system' },
          { verb: 'delete', resource: 'leases.coordination.k8s.io', namespace: SYSTEM_NAMESPACE },
        ],
      );
    });
  });

  describe('an agent writes only its own node\'s plan', () => {
    const heartbeat = (agentVersion: string) =>
      JSON.stringify({ status: { heartbeat: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), agentVersion } });
    const patchStatus = (plan: string, auth: string[], agentVersion: string) =>
      kubectl(['patch', 'nodetraceplan', plan, '--subresource=status', '--type=merge', '-p', heartbeat(agentVersion)], { auth });
    let nodeAToken: string[] = [];
    let nodeATokenValue = '';

    before(async () => {
      for (const node of ['node-a', 'node-b']) {
        await ok(['apply', '-f', '-'], { stdin: stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }) });
        await ok(['apply', '-f', '-'], {
          stdin: stringify({ apiVersion: 'loupe.dev/v1alpha1', kind: 'NodeTracePlan', metadata: { name: node }, spec: { nodeName: node, profiles: [] } }),
        });
      }
      // The agent's pod on node-a, as the DaemonSet controller and scheduler would make it.
      const pod = podFromTemplate(await rendered('default'), 'DaemonSet', 'loupe-agent-node-a', SYSTEM_NAMESPACE) as {
        spec: Record<string, unknown>;
      };
      pod.spec.nodeName = 'node-a';
      await ok(['apply', '-f', '-'], { stdin: stringify(pod) });
      // What kubelet mounts: a token bound to the pod.
      const token = (await ok(['create', 'token', 'loupe-agent', '-n', SYSTEM_NAMESPACE, '--bound-object-kind=Pod', '--bound-object-name=loupe-agent-node-a'])).trim();
      nodeAToken = [`--token=${token}`];
      nodeATokenValue = token;
    });

    it('gets a token that names node-a from the API server', () => {
      const claims = JSON.parse(Buffer.from(nodeAToken[0]!.split('.')[1]!, 'base64url').toString('utf8'));
      assert.equal(claims['kubernetes.io']?.node?.name, 'node-a', JSON.stringify(claims));
      assert.equal(claims['kubernetes.io']?.pod?.name, 'loupe-agent-node-a');
    });

    it("denies the node-a agent node-b's plan status, once the policy is loaded", async () => {
      // Policies load asynchronously after they are created: poll until the denial shows.
      const deadline = Date.now() + 30_000;
      let result = await patchStatus('node-b', nodeAToken, 'intruder');
      while (result.code === 0 && Date.now() < deadline) {
        await sleep(500);
        result = await patchStatus('node-b', nodeAToken, 'intruder');
      }
      assert.notEqual(result.code, 0, 'node-a agent wrote node-b status for 30 s: the policy never took effect');
      assert.match(result.stderr, /ValidatingAdmissionPolicy 'loupe-agent-writes-own-plan'/);
      assert.match(result.stderr, /the loupe agent on node node-a may not write NodeTracePlan node-b/);
    });

    it("lets the node-a agent write node-a's plan status", async () => {
      const result = await patchStatus('node-a', nodeAToken, 'deploy-test');
      assert.equal(result.code, 0, result.stderr);
      const plan = JSON.parse(await ok(['get', 'nodetraceplan', 'node-a', '-o', 'json']));
      assert.equal(plan.status.agentVersion, 'deploy-test');
    });

    it("does not let the node-a agent change node-a's spec (RBAC)", async () => {
      const result = await kubectl(['patch', 'nodetraceplan', 'node-a', '--type=merge', '-p', '{"spec":{"profiles":[]}}'], { auth: nodeAToken });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /cannot patch resource "nodetraceplans"/);
    });

    it('denies an agent token that is not bound to a pod, so names no node', async () => {
      assert.ok(controlPlane);
      const unbound = await serviceAccountKubeconfig(controlPlane, SYSTEM_NAMESPACE, 'loupe-agent');
      const result = await kubectl(['patch', 'nodetraceplan', 'node-a', '--subresource=status', '--type=merge', '-p', heartbeat('unbound')], {
        auth: ['--kubeconfig', unbound],
      });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /this request's token names no node/);
    });

    it('leaves other users alone: the admin still writes any plan status', async () => {
      const result = await patchStatus('node-b', [], 'admin');
      assert.equal(result.code, 0, result.stderr);
    });

    it("runs the real agent on node-a's pod-bound token: it watches and reports node-a's plan", async (t) => {
      if (!requireKernel(t)) return;
      const kubeconfig = await tokenKubeconfig(nodeATokenValue, 'agent-node-a');
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'cli', 'loupe.ts'), 'agent', '--node-name', 'node-a', '--kubeconfig', kubeconfig, '--profile-port', '0'], {
        cwd: repoRoot,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, LOUPE_LOG_LEVEL: 'info' },
      });
      let log = '';
      child.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        const version = agentVersion();
        await waitFor('the agent to report in node-a\'s status', async () => {
          const plan = await getJson(['nodetraceplan', 'node-a']);
          return plan?.status?.agentVersion === version ? plan : undefined;
        }, 30_000, () => log);
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, log);
      assert.doesNotMatch(log, /forbidden|Forbidden/);
    });
  });

  describe('the real operator under its service account', () => {
    let operator: LoupeOperator | undefined;
    const logs: string[] = [];
    const operatorLog = () => logs.slice(-20).join('');

    before(async () => {
      assert.ok(controlPlane);
      const kubeconfig = await serviceAccountKubeconfig(controlPlane, SYSTEM_NAMESPACE, 'loupe-operator');
      operator = await startOperator({
        kubeconfig,
        namespace: SYSTEM_NAMESPACE,
        identity: 'deploy-test',
        logger: pino({ level: 'warn' }, { write: (line: string) => void logs.push(line) }),
        leaderElection: { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 250 },
      });
    });

    after(async () => {
      await operator?.stop();
    });

    it('takes the Lease in loupe-system', async () => {
      const lease = await waitFor('the operator to hold its Lease', async () => {
        const got = await getJson(['lease', '-n', SYSTEM_NAMESPACE, 'loupe-operator']);
        return got?.spec?.holderIdentity === 'deploy-test' ? got : undefined;
      }, 30_000, operatorLog);
      assert.equal(lease.metadata.namespace, SYSTEM_NAMESPACE);
    });

    it('plans a node for a matching pod, writes the profile status, and cleans up on delete', async () => {
      // A running app=checkout pod on node-c, as kubelet would report it.
      const containerId = `containerd://${'c'.repeat(64)}`;
      await ok(['apply', '-f', '-'], {
        stdin: stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'checkout-1', namespace: TENANT_NAMESPACE, labels: { app: 'checkout' } },
          spec: { nodeName: 'node-c', containers: [{ name: 'app', image: 'registry.example/checkout:1' }] },
        }),
      });
      const status = {
        status: {
          phase: 'Running',
          containerStatuses: [{
            name: 'app', containerID: containerId, image: 'registry.example/checkout:1', imageID: 'registry.example/checkout@sha256:0',
            ready: true, restartCount: 0, started: true, state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
          }],
        },
      };
      await ok(['patch', 'pod', '-n', TENANT_NAMESPACE, 'checkout-1', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);

      const profile = await getJson(['traceprofile', '-n', TENANT_NAMESPACE, 'checkout']);
      const plan = await waitFor('the operator to create node-c\'s plan', async () => {
        const got = await getJson(['nodetraceplan', 'node-c']);
        return got?.spec?.profiles?.some((p: { uid: string }) => p.uid === profile.metadata.uid) ? got : undefined;
      }, 30_000, operatorLog);
      assert.deepEqual(plan.spec.profiles[0].targets.map((x: { containerId: string }) => x.containerId), [containerId]);

      const written = await waitFor('the operator to write the profile\'s status', async () => {
        const got = await getJson(['traceprofile', '-n', TENANT_NAMESPACE, 'checkout']);
        // Its first status may predate the pod's Running status: wait for the one that counts it.
        const current = got?.status?.phase !== undefined && got.status.observedGeneration === got.metadata.generation;
        return current && got.status.targets?.pods === 1 ? got : undefined;
      }, 30_000, operatorLog);
      assert.ok(written.metadata.finalizers?.includes('loupe.dev/cleanup'), JSON.stringify(written.metadata));

      // Deleting the profile: the operator takes it off node-c and releases its finalizer.
      await ok(['delete', 'traceprofile', '-n', TENANT_NAMESPACE, 'checkout', '--wait=false']);
      await waitFor('the profile to be gone', async () => {
        const result = await kubectl(['get', 'traceprofile', '-n', TENANT_NAMESPACE, 'checkout']);
        return result.code !== 0 && /NotFound/.test(result.stderr) ? true : undefined;
      }, 30_000, operatorLog);
      await waitFor('node-c\'s plan to drop the profile', async () => {
        const got = await getJson(['nodetraceplan', 'node-c']);
        return got === undefined || !got.spec.profiles.some((p: { uid: string }) => p.uid === profile.metadata.uid) ? true : undefined;
      }, 30_000, operatorLog);
      assert.doesNotMatch(operatorLog(), /forbidden/i);
    });
  });
});

// Not a cluster test, but about the same manifest: the agent's capabilities
// and host mounts must cover every BPF program the probes contain, and a
// probe of a new program type must come with its privileges.
describe('the agent DaemonSet grants what the BPF programs in bpf/ need', () => {
  // Section prefix (libbpf's SEC() names) → capabilities to load and attach it,
  // and whether libbpf reads the tracepoint id from tracefs.
  const needs: { prefix: RegExp; capabilities: string[]; tracefs: boolean }[] = [
    { prefix: /^(tp|tracepoint)\//, capabilities: ['BPF', 'PERFMON'], tracefs: true },
    { prefix: /^(raw_tp|raw_tracepoint|tp_btf|fentry|fexit|fmod_ret|kprobe|kretprobe|uprobe|uretprobe|perf_event)\b/, capabilities: ['BPF', 'PERFMON'], tracefs: false },
    { prefix: /^cgroup_skb\//, capabilities: ['BPF', 'NET_ADMIN'], tracefs: false },
  ];

  it('covers every program section', async () => {
    const bpfDir = join(repoRoot, 'bpf');
    const sections = new Map<string, string>();
    for (const file of (await readdir(bpfDir)).filter((f) => f.endsWith('.bpf.c'))) {
      const source = await readFile(join(bpfDir, file), 'utf8');
      for (const match of source.matchAll(/SEC\("([^"]+)"\)/g)) {
        const section = match[1]!;
        if (section !== 'license' && !section.startsWith('.')) sections.set(section, file);
      }
    }
    assert.ok(sections.size > 0, 'no BPF programs found in bpf/');

    const docs = parseAllDocuments(await readFile(join(repoRoot, 'config', 'agent', 'daemonset.yaml'), 'utf8')).map((d) => d.toJS());
    const pod = docs.find((d) => d.kind === 'DaemonSet').spec.template.spec;
    const container = pod.containers[0];
    const granted = new Set<string>(container.securityContext.capabilities.add);
    const mounts = new Set<string>(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath));

    const missing: string[] = [];
    for (const [section, file] of sections) {
      const need = needs.find((n) => n.prefix.test(section));
      if (need === undefined) {
        missing.push(`${file}: SEC("${section}") is a program type this test does not know: add it with the capabilities it needs`);
        continue;
      }
      for (const capability of need.capabilities) {
        if (!granted.has(capability)) missing.push(`${file}: SEC("${section}") needs ${capability}`);
      }
      if (need.tracefs && !mounts.has('/sys/kernel/tracing')) missing.push(`${file}: SEC("${section}") needs tracefs at /sys/kernel/tracing`);
    }
    assert.deepEqual(missing, []);
    const tracefsNeeded = [...sections.keys()].some((section) => needs.find((n) => n.prefix.test(section))?.tracefs);
    assert.equal(mounts.has('/sys/kernel/tracing'), tracefsNeeded, 'the host\'s tracefs is mounted exactly when a program needs it');
    // CO-RE relocations need the kernel's BTF wherever the programs run.
    assert.ok(mounts.has('/sys/kernel/btf'));
  });
});
