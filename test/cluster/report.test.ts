// `loupe report NAME` as a user runs it against a cluster: a real
// kube-apiserver, `loupe operator` and a `loupe agent`, a kubelet-shaped pod
// making getppid calls, and a TraceProfile of 20 s. Once it has Completed and
// its agent is gone, its report must still draw the heat map from the
// timeline kept in status, its columns adding up to the count in status,
// opened in a real Chromium. A profile that does not exist is one line; a
// profile without results yet is a report that says so.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { traceProfileResource, type TraceProfileStatus } from '../../api/traceprofile.js';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { createPod, reportRunning } from '../../hack/local-cluster/pod-lifecycle.js';
import type { KubeManifest, KubeObject } from '../../kube/kube-object.js';
import type { ResourceClient } from '../../kube/resource-client.js';
import { controlPlaneSuiteSkip } from '../support/control-plane-blocker.js';
import { startLoupeControlPlane } from '../support/loupe-control-plane.js';
import { runLoupe, type LoupeExit } from '../support/loupe-cli.js';
import { LoupeProcess } from '../support/loupe-process.js';
import { kernelTestBlocker } from '../support/privileged.js';
import { chromiumBlocker, countInTitle, openReport } from '../support/report-browser.js';
import { waitFor as waitUntil } from '../support/wait-for.js';

const NS = 'reports';

type Profile = KubeObject & { status?: TraceProfileStatus };

let controlPlane: ControlPlane | undefined;
let client: ResourceClient;
let operator: LoupeProcess | undefined;
let agent: LoupeProcess | undefined;
let pod: LocalPod | undefined;
let workDir: string;

function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const diagnostics = () => [operator, agent].map((p) => `--- ${p?.name}:\n${p?.log.split('\n').slice(-12).join('\n')}`).join('\n');
  return waitUntil(what, probe, { timeoutMs, intervalMs: 250, diagnostics });
}

function loupeReport(args: string[]): Promise<LoupeExit> {
  return runLoupe(['report', ...args, '--kubeconfig', controlPlane?.kubeconfigPath ?? '']);
}

function profile(name: string, app: string, duration?: string): KubeManifest {
  return {
    apiVersion: 'loupe.dev/v1alpha1',
    kind: 'TraceProfile',
    metadata: { name, namespace: NS },
    spec: { selector: { matchLabels: { app } }, probes: [{ name: 'syscalls' }, { name: 'exec' }], interval: '5s', ...(duration !== undefined && { duration }) },
  };
}

const getProfile = (name: string) => client.get<Profile>(traceProfileResource, { namespace: NS, name });

const kernelBlocker = kernelTestBlocker() ?? chromiumBlocker();
if (kernelBlocker !== undefined && process.env.CI === 'true') throw new Error(`cannot run in CI: ${kernelBlocker}`);
const suiteSkip = kernelBlocker ?? (await controlPlaneSuiteSkip());

describe('loupe report of a TraceProfile in a cluster', { skip: suiteSkip }, () => {
  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'loupe-report-cluster-'));
    ({ controlPlane, client } = await startLoupeControlPlane(NS));
    operator = new LoupeProcess('operator', ['operator', '--kubeconfig', controlPlane.kubeconfigPath, '--namespace', 'default', '--health-port', '0']);
    agent = new LoupeProcess('agent node-a', ['agent', '--node-name', 'node-a', '--kubeconfig', controlPlane.kubeconfigPath, '--profile-port', '0']);
    const uid = await createPod(client, { namespace: NS, name: 'busy', node: 'node-a', labels: { app: 'busy' }, containers: ['app'] });
    pod = new LocalPod('burstable', undefined, uid);
    await reportRunning(client, NS, 'busy', { app: pod.containerRef });
    void pod.run('while :; do /bin/true; sleep 0.2; done').catch(() => undefined);
    await waitFor('the operator and the agent to start', async () => /"operator started"/.test(operator?.log ?? '') && /"agent started"/.test(agent?.log ?? ''));
  });

  after(async () => {
    await Promise.all([agent?.stop(), operator?.stop()]);
    await pod?.killAll().catch(() => {});
    pod?.remove();
    await controlPlane?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  it('draws a Completed profile\'s heat map from its status after its agent is gone', async () => {
    await client.create(traceProfileResource, profile('busy-20s', 'busy', '20s'));
    const done = await waitFor('the profile to complete with results', async () => {
      const status = (await getProfile('busy-20s'))?.status;
      return status?.phase === 'Completed' && (status.results?.exec?.execs ?? 0) > 0 ? status : undefined;
    });
    await agent?.stop();
    // The agent's last report (it traced until it detached) lands in the session's last column.
    const final = await waitFor('the agent to report it stopped', async () => {
      const status = (await getProfile('busy-20s'))?.status;
      return status?.nodes?.ready === 0 ? status : undefined;
    });
    const file = join(workDir, 'busy.html');
    const made = await loupeReport(['busy-20s', '-n', NS, '-o', file]);
    assert.equal(made.status, 0, made.stderr);
    assert.equal(made.stdout.trim(), file);

    const timeline = final.timeline;
    assert.equal(done.timeline?.columns, timeline?.columns, 'no column after the session');
    assert.ok(timeline !== undefined && timeline.columns >= 3, `a timeline of the 20 s session in 5 s columns: ${JSON.stringify(timeline)}`);
    const report = await openReport(file);
    try {
      await report.screenshot('report-cluster.png');
      assert.deepEqual(report.errors, []);
      assert.deepEqual(report.requests, []);
      const heatmap = report.page.locator('figure[data-heatmap="syscalls-latencyNs"]');
      assert.equal(await heatmap.locator('g[aria-description="heatmap columns"] rect').count(), timeline.columns);
      const cells = await heatmap.locator('g[aria-description="heatmap cells"] rect title').allTextContents();
      assert.equal(cells.map(countInTitle).reduce((a, b) => a + b, 0), final.results?.syscalls?.latencyNs.count);
      assert.equal(await report.page.getByText('The columns hold').count(), 0, 'the timeline holds every call');
      const execBars = await report.page.locator('figure[data-counts="exec-counts"] g[aria-description="execs bars"] rect title').allTextContents();
      assert.equal(execBars.map(countInTitle).reduce((a, b) => a + b, 0), final.results?.exec?.execs);
      assert.match((await report.page.locator('dl').textContent()) ?? '', /phaseCompleted/);
    } finally {
      await report.close();
    }
  });

  it('says in one line that a TraceProfile does not exist', async () => {
    const r = await loupeReport(['no-such-profile', '-n', NS, '-o', join(workDir, 'none.html')]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `loupe report: TraceProfile "no-such-profile" not found in namespace ${NS}: kubectl get traceprofiles -A lists them\n`);
    assert.equal(r.stdout, '');
  });

  it('writes a report that says there are no results yet, not a blank page', async () => {
    await client.create(traceProfileResource, profile('nobody', 'nobody-has-this-label'));
    await waitFor('the operator to see the profile', async () => (await getProfile('nobody'))?.status?.phase);
    const file = join(workDir, 'nobody.html');
    const made = await loupeReport(['nobody', '-n', NS, '-o', file]);
    assert.equal(made.status, 0, made.stderr);
    const report = await openReport(file);
    try {
      assert.deepEqual(report.errors, []);
      assert.match((await report.page.locator('.notice').allTextContents()).join('\n'), /No results yet \(phase Pending\)/);
    } finally {
      await report.close();
    }
  });
});
