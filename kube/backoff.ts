// Exponential backoff shared by the work queue (retries) and the informer
// (watch restarts). Jitter spreads out many clients that failed together.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of the delay added at random: delay * (1 + jitter * random()). 0 disables. */
  jitter: number;
}

/** Delay before retry number `attempt` (1-based): initial * factor^(attempt-1), capped at max. */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.factor, exponent));
  const jittered = base * (1 + policy.jitter * random());
  return Math.min(policy.maxMs, jittered);
}

/** client-go's reflector restart backoff: 800ms doubling to 30s. */
export const watchRestartBackoff: BackoffPolicy = { initialMs: 800, maxMs: 30_000, factor: 2, jitter: 1 };

/** Reconcile retries: quick first retry, capped so a broken object is retried every few minutes. */
export const reconcileRetryBackoff: BackoffPolicy = { initialMs: 100, maxMs: 300_000, factor: 2, jitter: 0 };
