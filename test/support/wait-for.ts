// Bounded waits for cluster tests: poll until a probe yields a value, or fail
// with what was awaited, the probe's last error and any logs worth showing.
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Appended to the timeout error, e.g. the tails of child processes' logs. */
  diagnostics?: () => string;
}

/** The probe's first value that is neither undefined nor false; a throwing probe is retried. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 30_000, intervalMs = 200, diagnostics }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const extra = diagnostics?.() ?? '';
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${String(last)}` : ''}${extra ? `\n${extra}` : ''}`);
    }
    await sleep(intervalMs);
  }
}
