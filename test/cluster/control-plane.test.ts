// The real control plane that every cluster test stands on: kubectl and
// client-node can use its kubeconfig, CRDs serve objects, server-side dry-run
// works, RBAC applies to service-account tokens, and stop() leaves no process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { serviceAccountKubeconfig, startControlPlane, type ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { controlPlaneSuiteSkip } from '../support/control-plane-blocker.js';
import { waitForCrdsEstablished } from '../../hack/local-cluster/crds-established.js';

const run = promisify(execFile);

async function kubectl(kubeconfig: string, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = run('kubectl', ['--kubeconfig', kubeconfig, ...args]);
  child.child.stdin?.end(stdin ?? '');
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.test.loupe.dev' },
  spec: {
    group: 'test.loupe.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [{
      name: 'v1',
      served: true,
      storage: true,
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: {
              type: 'object',
              properties: { size: { type: 'integer', minimum: 1, default: 3 } },
            },
          },
        },
      },
    }],
  },
};

const widget = (name: string, spec: Record<string, unknown>) =>
  ({ apiVersion: 'test.loupe.dev/v1', kind: 'Widget', metadata: { name, namespace: 'default' }, spec });

describe('control plane', { skip: await controlPlaneSuiteSkip() }, () => {
  let controlPlane: ControlPlane;

  before(async () => {
    controlPlane = await startControlPlane();
  });

  after(async () => {
    await controlPlane?.stop();
  });

  it('starts etcd and kube-apiserver and serves kubectl', async () => {
    assert.match(controlPlane.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    const namespaces = await kubectl(controlPlane.kubeconfigPath, ['get', 'namespaces', '-o', 'name']);
    assert.equal(namespaces.code, 0, namespaces.stderr);
    assert.match(namespaces.stdout, /^namespace\/default$/m);
    assert.match(namespaces.stdout, /^namespace\/kube-system$/m);
  });

  it('serves the same kubeconfig to @kubernetes/client-node', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    const namespace = await kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: 'default' });
    assert.equal(namespace.status?.phase, 'Active');
  });

  it('installs a CRD, defaults and validates its objects, and does server-side dry-run', async () => {
    const kubeconfig = controlPlane.kubeconfigPath;
    const installed = await kubectl(kubeconfig, ['apply', '-f', '-'], stringify(widgetCrd));
    assert.equal(installed.code, 0, installed.stderr);
    await waitForCrdsEstablished(kubeconfig, ['widgets.test.loupe.dev']);

    const created = await kubectl(kubeconfig, ['apply', '-f', '-'], stringify(widget('small', {})));
    assert.equal(created.code, 0, created.stderr);
    const size = await kubectl(kubeconfig, ['get', 'widget', 'small', '-o', 'jsonpath={.spec.size}']);
    assert.equal(size.stdout, '3', 'the schema default is applied');

    const rejected = await kubectl(kubeconfig, ['apply', '-f', '-'], stringify(widget('empty', { size: 0 })));
    assert.notEqual(rejected.code, 0);
    assert.match(rejected.stderr, /spec\.size: Invalid value: 0: spec\.size in body should be greater than or equal to 1/);

    const dryRun = await kubectl(kubeconfig, ['apply', '--dry-run=server', '-o', 'jsonpath={.spec.size}', '-f', '-'], stringify(widget('dry', {})));
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.equal(dryRun.stdout, '3', 'dry-run returns the defaulted object');
    const notStored = await kubectl(kubeconfig, ['get', 'widget', 'dry']);
    assert.notEqual(notStored.code, 0);
    assert.match(notStored.stderr, /NotFound/);
  });

  it('enforces RBAC on a service-account token', async () => {
    const admin = controlPlane.kubeconfigPath;
    const reader = await serviceAccountKubeconfig(controlPlane, 'default', 'widget-reader');
    const whoami = await kubectl(reader, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(whoami.stdout, 'system:serviceaccount:default:widget-reader', whoami.stderr);

    const before = await kubectl(reader, ['get', 'widgets']);
    assert.notEqual(before.code, 0);
    assert.match(before.stderr, /forbidden/);

    for (const args of [
      ['create', 'role', 'widget-reader', '--verb=get,list', '--resource=widgets.test.loupe.dev'],
      ['create', 'rolebinding', 'widget-reader', '--role=widget-reader', '--serviceaccount=default:widget-reader'],
    ]) {
      const granted = await kubectl(admin, args);
      assert.equal(granted.code, 0, granted.stderr);
    }
    const allowed = await kubectl(reader, ['get', 'widgets', '-o', 'name']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /widget\.test\.loupe\.dev\/small/);
    const stillForbidden = await kubectl(reader, ['delete', 'widget', 'small']);
    assert.notEqual(stillForbidden.code, 0);
    assert.match(stillForbidden.stderr, /forbidden/);
  });

  it('stops both processes and removes its files', async () => {
    const { pids, workDir } = controlPlane;
    assert.ok(isRunning(pids.etcd) && isRunning(pids.apiserver));
    await controlPlane.stop();
    assert.equal(isRunning(pids.etcd), false, 'etcd exited');
    assert.equal(isRunning(pids.apiserver), false, 'kube-apiserver exited');
    assert.equal(existsSync(workDir), false, 'workDir removed');
  });
});
