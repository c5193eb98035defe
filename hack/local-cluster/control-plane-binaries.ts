// Where hack/build-controlplane.sh puts the binaries it builds: the user's
// cache, outside the repo, since a first build takes minutes.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Every binary the script builds; the last three make the cluster tests' real node. */
export type ControlPlaneBinary = 'etcd' | 'kube-apiserver' | 'otelcol' | 'kube-controller-manager' | 'kube-scheduler' | 'kubelet';

export function controlPlaneBinDir(): string {
  return join(process.env.LOUPE_CACHE ?? join(homedir(), '.cache', 'loupe'), 'bin');
}

export function controlPlaneBinary(name: ControlPlaneBinary): string {
  return join(controlPlaneBinDir(), name);
}
