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

/**
 * For a suite, `describe(name, { skip: suiteSkip(blocker) })`: the reason it
 * cannot run here, or false when it can; throws in CI.
 */
export function suiteSkip(blocker: string | undefined): string | false {
  if (blocker === undefined) return false;
  if (process.env.CI === 'true') throw new Error(`cannot run in CI: ${blocker}`);
  return blocker;
}

/** For one test: false (after skipping t) when it cannot run here; throws in CI. */
export function requireRunnable(t: TestContext, blocker: string | undefined): boolean {
  const skip = suiteSkip(blocker);
  if (skip === false) return true;
  t.skip(skip);
  return false;
}

/** requireRunnable for tests that need root, BTF and the real kernel. */
export function requireKernel(t: TestContext, blocker = kernelTestBlocker()): boolean {
  return requireRunnable(t, blocker);
}
