// `loupe operator`: the Deployment's command. Runs the reconcilers (only on
// the Lease holder when leader election is on) and answers the kubelet's
// probes: /healthz while the process is up, /readyz once the caches are
// filled — on the standby replica too, so waiting to lead is not a failure.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { OPERATOR_NAME, type LoupeOperator } from '../operator/loupe-operator.js';
import { startOperator } from '../operator/main.js';

export const OPERATOR_USAGE = `Usage: loupe operator [options]

Runs the Loupe operator: turns TraceProfiles into per-node NodeTracePlans and
node reports back into TraceProfile status. Stops cleanly on SIGTERM or SIGINT.

Options:
  --kubeconfig PATH        kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, then in-cluster)
  --namespace NS           Loupe's namespace: the leader-election Lease and the copies of profiles' OTLP
                           Secrets live there (default: $POD_NAMESPACE, then loupe-system)
  --watch-namespace NS     only TraceProfiles and Pods of this namespace (default: every namespace)
  --no-leader-election     reconcile without a Lease (one replica only)
  --health-port PORT       /healthz and /readyz (default: 8081; 0 turns them off)
  -h, --help               show this help

Logs are JSON on stderr (LOUPE_LOG_LEVEL, default info).
`;

const OptionsSchema = z.object({
  kubeconfig: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  'watch-namespace': z.string().min(1).optional(),
  'no-leader-election': z.boolean().default(false),
  'health-port': z.coerce
    .number({ error: '--health-port must be a port number from 0 to 65535' })
    .int({ error: '--health-port must be a port number from 0 to 65535' })
    .min(0, { error: '--health-port must be a port number from 0 to 65535' })
    .max(65535, { error: '--health-port must be a port number from 0 to 65535' })
    .default(8081),
});

async function serveHealth(port: number, operator: () => LoupeOperator | undefined): Promise<Server> {
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    const ready = operator()?.isRunning === true;
    const ok = path === '/healthz' ? true : path === '/readyz' ? ready : undefined;
    res.writeHead(ok === undefined ? 404 : ok ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(ok === undefined ? 'not found\n' : ok ? 'ok\n' : 'caches not synced\n');
  });
  server.listen(port);
  await once(server, 'listening');
  return server;
}

export async function operatorCommand(args: string[]): Promise<number> {
  let parsed: z.infer<typeof OptionsSchema>;
  try {
    const { values } = parseArgs({
      args,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string' },
        'watch-namespace': { type: 'string' },
        'no-leader-election': { type: 'boolean' },
        'health-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(OPERATOR_USAGE);
      return 0;
    }
    parsed = OptionsSchema.parse(values);
  } catch (err) {
    const message = err instanceof z.ZodError ? (err.issues[0]?.message ?? err.message) : (err as Error).message;
    process.stderr.write(`loupe operator: ${message}\n`);
    return 2;
  }

  const logger = pino({ name: OPERATOR_NAME, level: process.env.LOUPE_LOG_LEVEL ?? 'info' }, pino.destination(2));
  let operator: LoupeOperator | undefined;
  const health = parsed['health-port'] === 0 ? undefined : await serveHealth(parsed['health-port'], () => operator);
  try {
    operator = await startOperator({
      kubeconfig: parsed.kubeconfig,
      namespace: parsed.namespace,
      watchNamespace: parsed['watch-namespace'],
      leaderElection: !parsed['no-leader-election'],
      identity: process.env.POD_NAME || undefined,
      logger,
      handleSignals: true,
    });
  } catch (err) {
    health?.close();
    process.stderr.write(`loupe operator: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  // Runs until SIGTERM/SIGINT: startOperator's handler stops the operator
  // gracefully and ends the process.
  return new Promise<number>(() => undefined);
}
