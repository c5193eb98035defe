// A real kube-apiserver and etcd ready for Loupe: its CRDs applied and
// established and a namespace for the test's objects, with a client and
// kubectl bound to it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { waitForCrdsEstablished } from '../../hack/local-cluster/crds-established.js';
import { KubeHttp } from '../../kube/kube-http.js';
import { ResourceClient } from '../../kube/resource-client.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');

export interface LoupeControlPlane {
  controlPlane: ControlPlane;
  client: ResourceClient;
  kubectl(...args: string[]): Promise<string>;
}

export async function startLoupeControlPlane(namespace: string): Promise<LoupeControlPlane> {
  const controlPlane = await startControlPlane();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
  const kubectl = async (...args: string[]) => (await run('kubectl', ['--kubeconfig', controlPlane.kubeconfigPath, ...args])).stdout;
  await kubectl('apply', '-f', join(repoRoot, 'crds'));
  await waitForCrdsEstablished(controlPlane.kubeconfigPath, ['traceprofiles.loupe.dev', 'nodetraceplans.loupe.dev']);
  await kubectl('create', 'namespace', namespace);
  return { controlPlane, client: new ResourceClient(new KubeHttp(kubeConfig)), kubectl };
}
