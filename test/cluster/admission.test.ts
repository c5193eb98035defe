// Admission by a real kube-apiserver: the generated CRDs install, invalid
// TraceProfiles and NodeTracePlans are rejected by `kubectl apply` with a
// message naming the field (CEL rules and schema bounds alike), and valid ones
// come back with the CRD's defaults. This is the only place CEL really runs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { summarizeLatency } from '../../api/histogram.js';
import type { ProbeResults } from '../../api/results.js';
import { fitStatusToBudget } from '../../api/status-budget.js';
import { MAX_STATUS_PODS, type TraceProfileStatus } from '../../api/traceprofile.js';
import { startControlPlane, type ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { controlPlaneSuiteSkip } from '../support/control-plane-blocker.js';
import { waitForCrdsEstablished } from '../../hack/local-cluster/crds-established.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');
const NAMESPACE = 'shop';

let controlPlane: ControlPlane | undefined;

async function kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  if (controlPlane === undefined) throw new Error('the control plane is not running');
  const child = run('kubectl', ['--kubeconfig', controlPlane.kubeconfigPath, ...args]);
  if (stdin !== undefined) child.child.stdin?.end(stdin);
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const apply = (obj: object) => kubectl(['apply', '-f', '-'], stringify(obj));

function traceProfile(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'loupe.dev/v1alpha1', kind: 'TraceProfile', metadata: { name, namespace: NAMESPACE }, spec };
}
const minimal = { selector: { matchLabels: { app: 'checkout' } }, probes: [{ name: 'exec' }] };

describe('admission by kube-apiserver', { skip: await controlPlaneSuiteSkip() }, () => {
  before(async () => {
    controlPlane = await startControlPlane();
    // Through config/crd, as a GitOps tool would install them.
    const installed = await kubectl(['apply', '-k', join(repoRoot, 'config', 'crd')]);
    assert.equal(installed.code, 0, installed.stderr);
    await waitForCrdsEstablished(controlPlane.kubeconfigPath, ['traceprofiles.loupe.dev', 'nodetraceplans.loupe.dev']);
    await kubectl(['create', 'namespace', NAMESPACE]);
  });

  after(async () => {
    await controlPlane?.stop();
  });

  describe('TraceProfile admission', () => {
    it('defaults a minimal profile from the CRD schema', async () => {
      const applied = await apply(traceProfile('minimal', { ...minimal, output: { otlp: { endpoint: 'collector.observability:4317' } } }));
      assert.equal(applied.code, 0, applied.stderr);
      const got = await kubectl(['get', '-n', NAMESPACE, 'traceprofile', 'minimal', '-o', 'json']);
      const spec = JSON.parse(got.stdout).spec;
      assert.equal(spec.suspend, false);
      assert.equal(spec.interval, '10s');
      assert.equal(spec.output.status.topN, 10);
      assert.equal(spec.output.otlp.protocol, 'grpc');
      assert.equal(spec.output.otlp.insecure, false);
    });

    it('accepts every probe with its options, a duration and every endpoint form', async () => {
      const endpoints = [
        { endpoint: 'https://otlp.example.com:4318', protocol: 'http' },
        { endpoint: 'http://otel-collector.observability:4317' },
        { endpoint: '[fd00::1]:4317' },
      ];
      for (const [i, otlp] of endpoints.entries()) {
        const applied = await apply(
          traceProfile(`full-${i}`, {
            ...minimal,
            probes: [{ name: 'exec' }, { name: 'syscalls', only: ['read', 'open'] }, { name: 'files', pathPrefixes: ['/etc'] }, { name: 'tcp' }],
            duration: '1h30m',
            selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['checkout'] }, { key: 'canary', operator: 'DoesNotExist' }] },
            output: { otlp: { ...otlp, resourceAttributes: { 'deployment.environment': 'prod' } } },
          }),
        );
        assert.equal(applied.code, 0, `${JSON.stringify(otlp)}: ${applied.stderr}`);
      }
    });

    it('stores a full status, fitted to its budget, through the status subresource', async () => {
      const top = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `/usr/bin/${i}`.padEnd(256, 'x'), count: n - i, errors: 0 }));
      const latency = summarizeLatency({ zeroCount: 1, buckets: [0, 3, 5, 2] });
      const results: ProbeResults = {
        exec: { execs: 12, exits: 12, topCommands: top(50) },
        syscalls: { calls: 900, errors: 3, latencyNs: latency, topSyscalls: top(50) },
        files: { opens: 40, errors: 1, topPaths: top(50) },
        tcp: { connects: 2, connectFailures: 1, connectLatencyNs: latency, accepts: 0, closed: 2, bytesSent: 10, bytesReceived: 20, retransmits: 0, durationNs: latency, topPeers: top(50) },
      };
      const status: TraceProfileStatus = fitStatusToBudget({
        phase: 'Running',
        observedGeneration: 1,
        conditions: [{ type: 'Ready', status: 'True', reason: 'ProbesLoaded', message: 'tracing on 1/1 nodes', lastTransitionTime: '2026-11-26T06:45:00Z', observedGeneration: 1 }],
        targets: { pods: 1, containers: 1, nodes: 1 },
        nodes: { ready: 1, total: 1, errors: [] },
        nodesReady: '1/1',
        probes: 'exec,syscalls,files,tcp',
        headline: '12 execs, p99 8ns',
        startedAt: '2026-11-26T06:45:00Z',
        results,
        pods: Array.from({ length: MAX_STATUS_PODS }, (_, i) => ({ namespace: NAMESPACE, name: `checkout-${i}`, node: 'node-a', containers: ['web'], results })),
      });
      assert.ok(status.truncated !== undefined, 'the budget had to trim');
      const patched = await kubectl(['patch', '-n', NAMESPACE, 'traceprofile', 'minimal', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
      assert.equal(patched.code, 0, patched.stderr);
      const got = await kubectl(['get', '-n', NAMESPACE, 'traceprofile', 'minimal', '-o', 'json']);
      assert.deepEqual(JSON.parse(got.stdout).status, status);
      const row = await kubectl(['get', '-n', NAMESPACE, 'traceprofile', 'minimal', '--no-headers']);
      assert.match(row.stdout, /^minimal\s+Running\s+1\s+1\/1\s+12 execs, p99 8ns\s+\d+s/);
    });

    const rejected: [string, Record<string, unknown>, RegExp][] = [
      ['no probes', { ...minimal, probes: [] }, /spec\.probes: Invalid value: .*should have at least 1 items/],
      ['an unknown probe', { ...minimal, probes: [{ name: 'kprobe' }] }, /spec\.probes\[0\]\.name: Unsupported value: "kprobe"/],
      ['a duplicate probe', { ...minimal, probes: [{ name: 'tcp' }, { name: 'tcp' }] }, /spec\.probes(\[1\])?: Duplicate value/],
      ['an option of another probe', { ...minimal, probes: [{ name: 'exec', pathPrefixes: ['/etc'] }] }, /spec\.probes\[0\]\.pathPrefixes: Forbidden: field pathPrefixes belongs to name: files/],
      ['an unknown syscall', { ...minimal, probes: [{ name: 'syscalls', only: ['read', 'not_a_syscall'] }] }, /spec\.probes\[0\]\.only\[1\]: Unsupported value: "not_a_syscall"/],
      ['In without values', { ...minimal, selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }, /spec\.selector\.matchExpressions\[0\]\.values: Required value: values must list at least one label value/],
      ['Exists with values', { ...minimal, selector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } }, /spec\.selector\.matchExpressions\[0\]\.values: Forbidden: values must be omitted/],
      ['a zero duration', { ...minimal, duration: '0s' }, /spec\.duration: Invalid value: .*duration must be written like 10m or 1h30m/],
      ['a duration over 7 days', { ...minimal, duration: '169h' }, /spec\.duration: Invalid value: .*at most 168h/],
      ['a duration in days', { ...minimal, duration: '2d' }, /spec\.duration: Invalid value: .*duration must be written like/],
      ['a 1s interval', { ...minimal, interval: '1s' }, /spec\.interval: Invalid value: .*at least 5s/],
      ['topN over 50', { ...minimal, output: { status: { topN: 51 } } }, /spec\.output\.status\.topN: Invalid value: 51/],
      ['an http endpoint without a scheme', { ...minimal, output: { otlp: { endpoint: 'collector:4318', protocol: 'http' } } }, /spec\.output\.otlp\.endpoint: Invalid value: .*endpoint must be an http:\/\/ or https:\/\/ URL/],
      ['a grpc endpoint without a port', { ...minimal, output: { otlp: { endpoint: 'collector' } } }, /spec\.output\.otlp\.endpoint: Invalid value: .*endpoint must be host:port/],
      ['tls with insecure', { ...minimal, output: { otlp: { endpoint: 'collector:4317', insecure: true, tls: {} } } }, /spec\.output\.otlp\.tls: Forbidden: tls must be omitted when insecure is true/],
      ['a long resource attribute key', { ...minimal, output: { otlp: { endpoint: 'c:4317', resourceAttributes: { ['k'.repeat(129)]: 'v' } } } }, /spec\.output\.otlp\.resourceAttributes: Invalid value: .*resourceAttributes keys must be 1 to 128 characters/],
      ['no selector', { probes: [{ name: 'exec' }] }, /spec\.selector: Required value/],
      ['an empty budget', { ...minimal, budget: {} }, /spec\.budget: Invalid value: .*budget must set maxCpuPerNode \(e\.g\. 50m\) or maxEventsPerSecond/],
      ['a zero CPU budget', { ...minimal, budget: { maxCpuPerNode: '0m' } }, /spec\.budget\.maxCpuPerNode: Invalid value: .*must be above zero, e\.g\. 50m/],
      ['a CPU budget in percent', { ...minimal, budget: { maxCpuPerNode: '5%' } }, /spec\.budget\.maxCpuPerNode: Invalid value: "5%": spec\.budget\.maxCpuPerNode in body should match/],
    ];
    for (const [what, spec, message] of rejected) {
      it(`rejects ${what}, naming the field`, async () => {
        const applied = await apply(traceProfile('invalid', spec));
        assert.notEqual(applied.code, 0, `${what} was admitted`);
        assert.match(applied.stderr, message);
      });
    }
  });

  describe('NodeTracePlan admission', () => {
    const plan = (name: string, nodeName: string) => ({
      apiVersion: 'loupe.dev/v1alpha1',
      kind: 'NodeTracePlan',
      metadata: { name },
      spec: {
        nodeName,
        profiles: [
          {
            uid: 'p-1',
            namespace: NAMESPACE,
            name: 'checkout',
            generation: 1,
            probes: [{ name: 'exec' }],
            interval: '10s',
            topN: 10,
            active: true,
            targets: [{ podUid: 'u-1', namespace: NAMESPACE, pod: 'checkout-1', container: 'web', containerId: 'containerd://4f1c' }],
          },
        ],
      },
    });

    it('accepts a plan named after its node', async () => {
      const applied = await apply(plan('node-a', 'node-a'));
      assert.equal(applied.code, 0, applied.stderr);
    });

    it('rejects a plan not named after its node, naming spec.nodeName', async () => {
      const applied = await apply(plan('node-b', 'node-c'));
      assert.notEqual(applied.code, 0);
      assert.match(applied.stderr, /spec\.nodeName: Invalid value: .*spec\.nodeName must equal metadata\.name/);
    });
  });
});
