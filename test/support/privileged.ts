// Kernel and cluster tests need root, BTF and the real kernel. Outside CI they
// skip with the reason; with CI=true a test that cannot run fails, because a
// skipped kernel test is a missing test.
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export function kernelTestBlocker(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'needs kernel BTF at /sys/kernel/btf/vmlinux';
  return undefined;
}

/** Returns false (after skipping t) when the test cannot run here; throws in CI. */
export function requireKernel(t: TestContext, blocker = kernelTestBlocker()): boolean {
  if (blocker === undefined) return true;
  if (process.env.CI === 'true') throw new Error(`cannot run in CI: ${blocker}`);
  t.skip(blocker);
  return false;
}
