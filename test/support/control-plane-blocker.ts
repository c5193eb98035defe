// Whether cluster tests can run: outside CI they skip with the reason when
// the control plane's binaries are missing and cannot be built; with CI=true
// they fail.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { controlPlaneBinary, controlPlaneBinDir, type ControlPlaneBinary } from '../../hack/local-cluster/control-plane-binaries.js';
import { requireRunnable, suiteSkip } from './privileged.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');

const CONTROL_PLANE_BINARIES: ControlPlaneBinary[] = ['etcd', 'kube-apiserver', 'otelcol'];
/** What a real node (real-node.ts) needs: the control plane's binaries and its own. */
export const NODE_BINARIES: ControlPlaneBinary[] = [...CONTROL_PLANE_BINARIES, 'kube-controller-manager', 'kube-scheduler', 'kubelet'];

function missingBinaries(needed: ControlPlaneBinary[]): ControlPlaneBinary[] {
  return needed.filter((name) => {
    try {
      accessSync(controlPlaneBinary(name), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

let buildAttempt: Promise<string | undefined> | undefined;

/**
 * Why cluster tests cannot run here, or undefined when they can. Builds missing
 * binaries once per test process (minutes on a cold Go cache).
 */
export async function controlPlaneBlocker(needed: ControlPlaneBinary[] = CONTROL_PLANE_BINARIES): Promise<string | undefined> {
  if (missingBinaries(needed).length === 0) return undefined;
  const buildFailure = await buildOnce();
  if (buildFailure !== undefined) return buildFailure;
  const missing = missingBinaries(needed);
  return missing.length === 0 ? undefined : `hack/build-controlplane.sh did not produce ${missing.join(', ')} in ${controlPlaneBinDir()}`;
}

/** Runs hack/build-controlplane.sh at most once per process; resolves to why it failed, if it did. */
function buildOnce(): Promise<string | undefined> {
  buildAttempt ??= (async () => {
    try {
      await run('bash', [join(repoRoot, 'hack', 'build-controlplane.sh')], { maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const failed = err as { stderr?: string; message: string };
      const reason = (failed.stderr ?? failed.message).trim().split('\n').slice(-5).join('\n');
      return `control plane binaries are missing from ${controlPlaneBinDir()} and hack/build-controlplane.sh failed: ${reason}`;
    }
    return undefined;
  })();
  return buildAttempt;
}

/** For `describe(name, { skip: await controlPlaneSuiteSkip() }, ...)`: see suiteSkip. */
export async function controlPlaneSuiteSkip(): Promise<string | false> {
  return suiteSkip(await controlPlaneBlocker());
}

/** Returns false (after skipping t) when the control plane cannot run here; throws in CI. */
export async function requireControlPlane(t: TestContext): Promise<boolean> {
  return requireRunnable(t, await controlPlaneBlocker());
}
