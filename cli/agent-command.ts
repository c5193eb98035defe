// `loupe agent`: this node's member of the cluster (the DaemonSet's command).
// Watches the NodeTracePlan named after the node, traces what it says, and
// reports in its status until SIGTERM/SIGINT, when it detaches everything,
// writes a final status saying so and exits 0.
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import pino, { type Logger } from 'pino';
import { BpfObject } from '../native/index.js';
import { KubeHttp } from '../kube/kube-http.js';
import { loadKubeConfig } from '../kube/kube-config.js';
import { ResourceClient } from '../kube/resource-client.js';
import { agentVersion } from '../agent/agent-version.js';
import { cgroupIdForContainer } from '../engine/cgroup/container.js';
import { findCgroup2Mount, type Cgroup2Mount } from '../engine/cgroup/mount.js';
import { turnOnBpfStats } from '../engine/cost/bpf-stats.js';
import { CostMeter } from '../engine/cost/cost-meter.js';
import { NodeAgent } from '../agent/node-agent.js';
import type { ContainerResolver } from '../agent/plan-targets.js';
import { ProbeManager } from '../engine/probe-manager.js';
import { probeObjectOpener } from '../engine/probe-objects.js';
import { probeCatalog } from '../engine/probes/catalog.js';
import { traceBlocker } from './trace-command.js';
import { createProfileDownloadHandler, profileStacksOf } from '../probes/profile/download.js';
import { DEFAULT_LOUPE_NAMESPACE } from '../api/group.js';

export const DEFAULT_PROFILE_PORT = 9464;

export const AGENT_USAGE = `Usage: loupe agent [options]

Runs the node agent: traces what this node's NodeTracePlan asks for and
reports in its status. Stops cleanly on SIGTERM or SIGINT.

Options:
  --node-name NAME    this node (default: $NODE_NAME, set from the downward API)
  --namespace NS      Loupe's namespace, where the operator copies profiles' OTLP Secrets
                      (default: $POD_NAMESPACE, then loupe-system)
  --kubeconfig PATH   kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, then in-cluster)
  --profile-port N    serve the profile probe's stacks at /profiles/<profile uid>.pb.gz
                      (pprof) and .folded (default: ${DEFAULT_PROFILE_PORT}; 0 turns it off)
  -h, --help          show this help

Needs root and a kernel with BTF. Logs are JSON on stderr (LOUPE_LOG_LEVEL, default info).
Containers are looked up in the host's cgroup2 hierarchy mounted at /host/sys/fs/cgroup
(the DaemonSet's hostPath; LOUPE_CGROUP_MOUNT names another place), else in this
mount namespace's highest cgroup2 mount.
`;

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface AgentOptions {
  nodeName: string;
  namespace: string;
  kubeconfig?: string;
  profilePort: number;
}

/** The options, or a one-line reason they are wrong. */
export function parseAgentOptions(args: readonly string[], env: NodeJS.ProcessEnv = process.env): AgentOptions | 'help' | string {
  let values: { 'node-name'?: string; namespace?: string; kubeconfig?: string; 'profile-port'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        'node-name': { type: 'string' },
        namespace: { type: 'string' },
        kubeconfig: { type: 'string' },
        'profile-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return (err as Error).message;
  }
  if (values.help) return 'help';
  const nodeName = values['node-name'] ?? env.NODE_NAME;
  if (!nodeName) return 'no node name: pass --node-name or set NODE_NAME (spec.nodeName through the downward API)';
  const port = z.coerce.number().int().min(0).max(65535).safeParse(values['profile-port'] ?? DEFAULT_PROFILE_PORT);
  if (!port.success) return `--profile-port ${JSON.stringify(values['profile-port'])}: expected a port number from 0 to 65535`;
  const namespace = values.namespace ?? (env.POD_NAMESPACE || DEFAULT_LOUPE_NAMESPACE);
  const options: AgentOptions = { nodeName, namespace, profilePort: port.data };
  if (values.kubeconfig !== undefined) options.kubeconfig = values.kubeconfig;
  return options;
}

function untilStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const handlers = STOP_SIGNALS.map((signal) => [signal, () => finish(signal)] as const);
    function finish(signal: string): void {
      for (const [s, handler] of handlers) process.off(s, handler);
      resolve(signal);
    }
    for (const [signal, handler] of handlers) process.on(signal, handler);
  });
}

/**
 * Everything is detached and reported by now; a socket the Kubernetes client
 * leaves open (a watch it was asked to abort) must not keep the process
 * waiting for the server to close it. Unref'd, so a clean exit comes first.
 */
function exitSoon(code: number): void {
  setTimeout(() => process.exit(code), 2000).unref();
}

export async function agentCommand(args: readonly string[]): Promise<number> {
  const parsed = parseAgentOptions(args);
  if (parsed === 'help') {
    process.stdout.write(AGENT_USAGE);
    return 0;
  }
  if (typeof parsed === 'string') {
    process.stderr.write(`loupe agent: ${parsed}\n`);
    return 2;
  }
  const blocker = traceBlocker({ uid: process.getuid?.(), btfPath: '/sys/kernel/btf/vmlinux' });
  if (blocker !== undefined) {
    process.stderr.write(`loupe agent: ${blocker}\n`);
    return 1;
  }
  const log: Logger = pino({ name: 'loupe-agent', level: process.env.LOUPE_LOG_LEVEL ?? 'info' }, pino.destination(2));
  // Listen first: a signal while starting must still end in a clean stop.
  const stopSignal = untilStopSignal();
  const bpfStats = turnOnBpfStats();
  if (bpfStats.measured) log.info({ via: bpfStats.via }, 'BPF run-time statistics on: probe CPU cost is measured');
  else log.warn({ reason: bpfStats.reason }, 'probe CPU cost is not measured');
  const agent = new NodeAgent({
    nodeName: parsed.nodeName,
    namespace: parsed.namespace,
    client: new ResourceClient(new KubeHttp(loadKubeConfig(parsed.kubeconfig))),
    createManager: (onEvent) =>
      new ProbeManager({ catalog: probeCatalog, openObject: probeObjectOpener((file) => BpfObject.open(file)), onEvent, logger: log }),
    resolveContainer: containerResolver(log),
    agentVersion: agentVersion(),
    logger: log,
    costMeter: new CostMeter(bpfStats),
  });
  const downloads = parsed.profilePort === 0 ? undefined : serveProfileDownloads(parsed.profilePort, agent, log);
  try {
    await Promise.race([agent.start(), stopSignal]);
    const signal = await stopSignal;
    log.info({ signal }, 'stopping');
    downloads?.close();
    await agent.stop();
    exitSoon(0);
    return 0;
  } catch (err) {
    log.error({ err }, 'agent failed');
    downloads?.close();
    await agent.stop().catch((stopErr: unknown) => log.error({ err: stopErr }, 'agent stop failed'));
    exitSoon(1);
    return 1;
  }
}

/**
 * Container → cgroup id under the host's cgroup2 mount. Without one (a node
 * with cgroup v1 only) the agent still runs and every target reports why it
 * is not traced, with the fix; the mount is looked for again until found.
 */
function containerResolver(log: Logger): ContainerResolver {
  let mount: Cgroup2Mount | undefined;
  let reported = false;
  return (containerId, podUid) => {
    try {
      mount ??= findCgroup2Mount();
    } catch (err) {
      if (!reported) log.error({ err }, 'no container can be traced on this node');
      reported = true;
      throw err;
    }
    return cgroupIdForContainer(containerId, podUid, mount);
  };
}

/**
 * The profile probe's full stacks, which status has only the top of. A port
 * already taken is logged, not fatal: tracing matters more than downloads.
 */
function serveProfileDownloads(port: number, agent: NodeAgent, log: Logger): Server {
  const server = createServer(createProfileDownloadHandler((uid) => profileStacksOf(agent.probeResults(uid, 'profile'))));
  server.on('error', (err) => log.warn({ err, port }, 'profile downloads are off: cannot listen'));
  server.listen(port, () => log.info({ port }, 'profile downloads on /profiles/<uid>.pb.gz and .folded'));
  return server;
}
