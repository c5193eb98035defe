// Starting the operator: `loupe operator` (cli/operator-command.ts) and
// the tests call startOperator().
import { loadKubeConfig } from '../kube/kube-config.js';
import { pino, type Logger } from 'pino';
import { LoupeOperator, OPERATOR_NAME } from './loupe-operator.js';
import { stopOnSignals } from '../kube/shutdown.js';
import { DEFAULT_LOUPE_NAMESPACE } from '../api/group.js';

export interface LeaderElectionTiming {
  leaseName?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface StartOperatorOptions {
  /** Path of a kubeconfig; in-cluster or ~/.kube/config (KUBECONFIG) when omitted. */
  kubeconfig?: string;
  /** Where the operator runs: its Lease and the copies of OTLP Secrets live here. Defaults to $POD_NAMESPACE, then loupe-system. */
  namespace?: string;
  /** Watch TraceProfiles and Pods of this namespace only; every namespace when omitted. */
  watchNamespace?: string;
  /** Only the Lease holder reconciles; run several replicas with this on. */
  leaderElection: boolean | LeaderElectionTiming;
  /** This replica's name in the Lease and in Events. */
  identity?: string;
  logger?: Logger;
  /** Stop gracefully on SIGTERM/SIGINT (for the process entry point, not for tests). */
  handleSignals?: boolean;
}

/**
 * Shorter than client-go's 15/10/2 s: a leader that dies without releasing
 * its Lease is replaced within the lease plus about two retries (the standby
 * times the lease from when it saw it renewed, and looks every retry), about
 * 11 s, so plans are current again within 15 s; the standby's caches are warm.
 * With 10/7/2 s the bench measured 12.4-13.5 s to a new leader.
 */
const FAILOVER_TIMING: LeaderElectionTiming = { leaseDurationMs: 8_000, renewDeadlineMs: 6_000, retryPeriodMs: 1_500 };

/** Starts the operator; resolves once its caches are filled. Call stop() on the result to shut it down. */
export async function startOperator(options: StartOperatorOptions): Promise<LoupeOperator> {
  const kubeConfig = loadKubeConfig(options.kubeconfig);
  const logger = options.logger ?? pino({ name: OPERATOR_NAME, level: process.env.LOUPE_LOG_LEVEL ?? 'info' }, pino.destination(2));
  const namespace = options.namespace ?? process.env.POD_NAMESPACE ?? DEFAULT_LOUPE_NAMESPACE;
  const timing = { ...FAILOVER_TIMING, ...(typeof options.leaderElection === 'object' ? options.leaderElection : {}) };
  const operator = new LoupeOperator({
    kubeConfig,
    logger,
    identity: options.identity,
    namespace,
    watchNamespace: options.watchNamespace,
    leaderElection: options.leaderElection === false ? undefined : { namespace, leaseName: timing.leaseName ?? OPERATOR_NAME, ...timing },
  });
  if (options.handleSignals) stopOnSignals(operator, logger);
  await operator.start();
  return operator;
}
