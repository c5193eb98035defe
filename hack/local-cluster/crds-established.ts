// Waiting for CRDs to be served. `kubectl wait --for=condition=Established`
// fails at once, instead of waiting, while a brand-new CRD has no conditions
// yet, so each attempt is retried until the deadline.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Resolves once every named CRD (e.g. 'traceprofiles.loupe.dev') is Established. */
export async function waitForCrdsEstablished(kubeconfigPath: string, crds: readonly string[], timeoutMs = 60_000): Promise<void> {
  const args = ['--kubeconfig', kubeconfigPath, 'wait', '--for=condition=Established', '--timeout=10s', ...crds.map((crd) => `crd/${crd}`)];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await run('kubectl', args);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for CRDs ${crds.join(', ')} to be Established: ${String(error)}`);
    }
    await sleep(500);
  }
}
