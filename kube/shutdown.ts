// SIGTERM (kubelet stopping the pod) and SIGINT (Ctrl-C) stop the operator
// gracefully; a second signal exits at once for when draining hangs.
import type { Logger } from 'pino';

export interface Stoppable {
  stop(): Promise<void>;
}

/** Installs the handlers; returns a function that removes them. */
export function stopOnSignals(target: Stoppable, logger: Logger, signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting without finishing shutdown');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    target.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
