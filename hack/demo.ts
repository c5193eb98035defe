// The README's main command: a local control plane (real kube-apiserver and
// etcd), the operator, an agent for this machine, a sample workload in
// kubelet-shaped cgroups with matching Pod objects, and the sample
// TraceProfile; then `kubectl get traceprofiles -o wide` with live results.
// Runs until Ctrl-C, then writes the profile's HTML report (loupe report),
// prints its path and removes everything else it made.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeHttp } from '../kube/kube-http.js';
import { loadKubeConfig } from '../kube/kube-config.js';
import { ResourceClient } from '../kube/resource-client.js';
import { startControlPlane } from './local-cluster/control-plane.js';
import { waitForCrdsEstablished } from './local-cluster/crds-established.js';
import { LocalPod } from './local-cluster/local-pod.js';
import { createPod, reportRunning } from './local-cluster/pod-lifecycle.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node = hostname();
const namespace = 'default';
const logDir = mkdtempSync(path.join(tmpdir(), 'loupe-demo-'));
const say = (line: string) => process.stdout.write(`\x1b[1mdemo:\x1b[0m ${line}\n`);

const loupeProcesses: ChildProcess[] = [];
const workloads: ChildProcess[] = [];
const pods: LocalPod[] = [];
let cleanup: (() => Promise<void>) | undefined;
let cleanupFailed = false;
let stopping = false;

/** Runs `loupe <command>` with its JSON logs in logDir/<command>.log. */
function loupe(command: string, args: string[]): ChildProcess {
  const logFile = path.join(logDir, `${command}.log`);
  // Its own process group: Ctrl-C reaches the demo alone, which stops the
  // agent (detaching its probes) before the control plane it reports to.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'cli/loupe.ts'), command, ...args], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'ignore', openSync(logFile, 'w')],
    env: { ...process.env, LOUPE_LOG_LEVEL: process.env.LOUPE_LOG_LEVEL ?? 'info' },
  });
  child.on('exit', (code, signal) => {
    if (!stopping && code !== 0 && signal === null) say(`${command} exited with ${code}; see ${logFile}`);
  });
  loupeProcesses.push(child);
  return child;
}

/** The workload of one pod: execs, file opens and TCP connects, a few a second. */
function workload(pod: LocalPod, port: number): ChildProcess {
  const script = `while :; do /bin/true; cat /etc/hostname >/dev/null; (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; sleep 0.3; done`;
  const child = spawn('/bin/bash', ['-c', `echo $$ > '${pod.dir}/cgroup.procs' && exec /bin/bash -c '${script}'`], {
    detached: true,
    stdio: 'ignore',
  });
  workloads.push(child);
  return child;
}

async function main(): Promise<void> {
  say('starting a local control plane (kube-apiserver + etcd)…');
  const cp = await startControlPlane();
  const kubectl = (...args: string[]) =>
    execFileSync('kubectl', ['--kubeconfig', cp.kubeconfigPath, ...args], { cwd: root, encoding: 'utf8' });

  // A listener for the workload's connects.
  const server = createServer((socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  // Every step runs even when one before it failed, so nothing is left behind.
  cleanup = async () => {
    const steps: [string, () => Promise<void> | void][] = [
      ['write the report', () => writeReport(cp.kubeconfigPath)],
      ['stop the agent and the operator', () => stopProcesses(loupeProcesses.slice().reverse())],
      ['stop the workload', () => stopProcesses(workloads)],
      ...pods.map((pod): [string, () => Promise<void>] => [`remove the cgroups of ${pod.dir}`, () => removePod(pod)]),
      ['close the listener', () => void server.close()],
      ['stop the control plane', () => cp.stop()],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (err) {
        cleanupFailed = true;
        process.stderr.write(`demo: could not ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  };

  say('installing the CRDs');
  kubectl('apply', '-f', 'crds/');
  await waitForCrdsEstablished(cp.kubeconfigPath, ['traceprofiles.loupe.dev', 'nodetraceplans.loupe.dev']);

  say(`starting the operator and an agent for this node (${node})`);
  loupe('operator', ['--kubeconfig', cp.kubeconfigPath, '--namespace', namespace, '--health-port', '0']);
  loupe('agent', ['--kubeconfig', cp.kubeconfigPath, '--node-name', node]);
  say(`their logs: ${logDir}/{operator,agent}.log`);

  say('starting the sample workload: checkout-1, checkout-2 (app=checkout) and payments-1 (app=payments, not traced)');
  const client = new ResourceClient(new KubeHttp(loadKubeConfig(cp.kubeconfigPath)));
  for (const [name, app] of [['checkout-1', 'checkout'], ['checkout-2', 'checkout'], ['payments-1', 'payments']] as const) {
    const uid = await createPod(client, { namespace, name, node, labels: { app }, containers: ['app'] });
    const pod = new LocalPod('burstable', undefined, uid);
    pods.push(pod);
    workload(pod, port);
    await reportRunning(client, namespace, name, { app: pod.containerRef });
  }

  say('applying config/samples: the TraceProfile "checkout"');
  kubectl('apply', '-n', namespace, '-f', 'config/samples/loupe_v1alpha1_traceprofile.yaml');

  // Every 5 s until Ctrl-C; the hints once the first results are in, and
  // whatever the Degraded condition says (a probe that failed, and why) when it changes.
  let hinted = false;
  let degradedShown = '';
  while (!stopping) {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    if (stopping) break;
    process.stdout.write(`\n$ kubectl get traceprofiles -o wide\n${kubectl('get', 'traceprofiles', '-n', namespace, '-o', 'wide')}`);
    const status = JSON.parse(kubectl('get', 'traceprofile', 'checkout', '-n', namespace, '-o', 'jsonpath={.status}') || '{}') as DemoStatus;
    const degraded = status.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True')?.message ?? '';
    if (degraded !== degradedShown) {
      degradedShown = degraded;
      if (degraded !== '') say(`the profile is Degraded: ${degraded}`);
    }
    if (!hinted && status.results !== undefined && Object.keys(status.results).length > 0) {
      hinted = true;
      say(`the demo keeps running until Ctrl-C. In another terminal, try:
  export KUBECONFIG=${cp.kubeconfigPath}
  kubectl describe traceprofile checkout            # conditions, nodes, results
  kubectl get traceprofile checkout -o yaml         # per-probe results, per-pod breakdown, cost
  kubectl get nodetraceplans -o wide                # the per-node plan and the agent's report
  kubectl patch traceprofile checkout --type merge -p '{"spec":{"suspend":true}}'
  kubectl delete traceprofile checkout              # detaches everything on every node`);
    }
  }
}

/** `loupe report` of the sample profile, while its results are still in the API server; prints the file's path. */
async function writeReport(kubeconfig: string): Promise<void> {
  const file = path.join(root, 'loupe-report-checkout.html');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'cli/loupe.ts'), 'report', 'checkout', '-n', namespace, '--kubeconfig', kubeconfig, '-o', file], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`loupe report exited with ${code}`);
  say(`the report of the profile "checkout": ${file} (open it in a browser; it needs no network)`);
}

/** What the demo reads of the TraceProfile's status. */
interface DemoStatus {
  conditions?: { type: string; status: string; message?: string }[];
  results?: Record<string, unknown>;
}

/** SIGTERM to each process (group), then waits for all of them. */
async function stopProcesses(processes: readonly ChildProcess[]): Promise<void> {
  for (const child of processes) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
    const exited = once(child, 'exit');
    process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
}

/** Empties a pod's cgroup (its shells leave children such as sleep behind), then removes its directories. */
async function removePod(pod: LocalPod): Promise<void> {
  await pod.killAll();
  pod.remove();
}

// Detached children outlive a demo that dies on an error before its cleanup.
process.on('exit', () => {
  for (const child of [...loupeProcesses, ...workloads]) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    say('stopping: report, agent, operator, workload, control plane');
    void finish(0);
  });
}

main().catch(async (error: unknown) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  await finish(1);
});

/**
 * Cleans up and exits. The logs are removed on a clean stop; when the demo or
 * its cleanup failed they are kept, and their place printed, for they say why.
 */
async function finish(code: number): Promise<never> {
  await cleanup?.();
  if (code === 0 && !cleanupFailed) {
    rmSync(logDir, { recursive: true, force: true });
  } else {
    process.stderr.write(`demo: the logs of the operator and the agent are in ${logDir}\n`);
  }
  process.exit(code === 0 && cleanupFailed ? 1 : code);
}
