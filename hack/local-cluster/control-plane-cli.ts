// `npm run controlplane`: a real etcd + kube-apiserver for a person to poke at
// with kubectl. Runs until Ctrl-C, then stops both and removes their files.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startControlPlane } from './control-plane.js';

// Builds only what is missing or stale; shows progress, since a first build takes minutes.
const build = spawnSync('bash', [join(import.meta.dirname, '..', 'build-controlplane.sh')], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const controlPlane = await startControlPlane();
console.log(`# kube-apiserver ready at ${controlPlane.server} (logs in ${controlPlane.workDir})`);
console.log(`export KUBECONFIG=${controlPlane.kubeconfigPath}`);
console.log('# Ctrl-C stops it and removes its files');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    controlPlane.stop().then(() => process.exit(0), (err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  });
}
