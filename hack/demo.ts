// The README's main command: a local control plane (real kube-apiserver and
// etcd), the operator, an agent for this machine, a sample workload in
// kubelet-shaped cgroups with matching Pod objects, and the sample
// TraceProfile; then `kubectl get traceprofiles -o wide` with live results.
// Runs until Ctrl-C, then removes everything it made.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { cpSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp } from '../operator/runtime/kube-http.js';
import { ResourceClient } from '../operator/runtime/resource-client.js';
import { startControlPlane } from '../test/support/control-plane.js';
import { FakePod } from '../test/support/fake-pods.js';
import { createPod, reportRunning } from '../test/support/fake-kubelet.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node = hostname();
const namespace = 'default';
const logDir = mkdtempSync(path.join(tmpdir(), 'loupe-demo-'));
const say = (line: string) => process.stdout.write(`\x1b[1mdemo:\x1b[0m ${line}\n`);

const children: ChildProcess[] = [];
const pods: FakePod[] = [];
let cleanup: (() => Promise<void>) | undefined;
let stopping = false;

/** Runs `loupe <command>` with its JSON logs in logDir/<command>.log. */
function loupe(command: string, args: string[]): ChildProcess {
  const logFile = path.join(logDir, `${command}.log`);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'cli/loupe.ts'), command, ...args], {
    cwd: root,
    stdio: ['ignore', 'ignore', openSync(logFile, 'w')],
    env: { ...process.env, LOUPE_LOG_LEVEL: process.env.LOUPE_LOG_LEVEL ?? 'info' },
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null) say(`${command} exited with ${code}; see ${logFile}`);
  });
  children.push(child);
  return child;
}

/** The workload of one pod: execs, file opens and TCP connects, a few a second. */
function workload(pod: FakePod, port: number): ChildProcess {
  const script = `while :; do /bin/true; cat /etc/hostname >/dev/null; (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; sleep 0.3; done`;
  const child = spawn('/bin/bash', ['-c', `echo $$ > '${pod.dir}/cgroup.procs' && exec /bin/bash -c '${script}'`], { stdio: 'ignore' });
  children.push(child);
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

  cleanup = async () => {
    for (const child of children.reverse()) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined)));
    // The workload's shells leave children (sleep) behind: empty each pod before removing it.
    for (const pod of pods) {
      await pod.killAll();
      pod.remove();
    }
    server.close();
    await cp.stop();
    rmSync(logDir, { recursive: true, force: true });
  };

  say('installing the CRDs');
  kubectl('apply', '-f', 'crds/');
  kubectl('wait', '--for=condition=Established', 'crd/traceprofiles.loupe.dev', 'crd/nodetraceplans.loupe.dev');

  say(`starting the operator and an agent for this node (${node})`);
  loupe('operator', ['--kubeconfig', cp.kubeconfigPath, '--namespace', namespace, '--health-port', '0']);
  loupe('agent', ['--kubeconfig', cp.kubeconfigPath, '--node-name', node]);
  say(`their logs: ${logDir}/{operator,agent}.log`);

  say('starting the sample workload: checkout-1, checkout-2 (app=checkout) and payments-1 (app=payments, not traced)');
  const client = new ResourceClient(new KubeHttp(loadKubeConfig(cp.kubeconfigPath)));
  for (const [name, app] of [['checkout-1', 'checkout'], ['checkout-2', 'checkout'], ['payments-1', 'payments']] as const) {
    const uid = await createPod(client, { namespace, name, node, labels: { app }, containers: ['app'] });
    const pod = new FakePod('burstable', undefined, uid);
    pods.push(pod);
    workload(pod, port);
    await reportRunning(client, namespace, name, { app: pod.containerRef });
  }

  say('applying config/samples: the TraceProfile "checkout"');
  kubectl('apply', '-n', namespace, '-f', 'config/samples/loupe_v1alpha1_traceprofile.yaml');

  // Every 5 s until Ctrl-C; the hints once the first results are in.
  let hinted = false;
  while (!stopping) {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    if (stopping) break;
    process.stdout.write(`\n$ kubectl get traceprofiles -o wide\n${kubectl('get', 'traceprofiles', '-n', namespace, '-o', 'wide')}`);
    const execs = Number(kubectl('get', 'traceprofile', 'checkout', '-n', namespace, '-o', 'jsonpath={.status.results.exec.execs}') || 0);
    if (!hinted && execs > 0) {
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

function loadKubeConfig(file: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(file);
  return kubeConfig;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    say('stopping: agent, operator, workload, control plane');
    void (cleanup?.() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}

main().catch(async (error: unknown) => {
  if (stopping) return;
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  // Keep the logs of a failed demo: they say why.
  const keepLogs = cleanup === undefined ? undefined : copyLogs();
  await cleanup?.();
  if (keepLogs !== undefined) process.stderr.write(`logs of the operator and the agent: ${keepLogs}\n`);
  process.exit(1);
});

/** Copies the logs out of logDir, which cleanup removes. */
function copyLogs(): string {
  const kept = mkdtempSync(path.join(tmpdir(), 'loupe-demo-failed-'));
  cpSync(logDir, kept, { recursive: true });
  return kept;
}
