// A real Kubernetes control plane on this machine, for the demo, `npm run
// controlplane` and the cluster tests: etcd and kube-apiserver as processes on
// loopback, flags modelled on controller-runtime's envtest (RBAC on,
// service-account keys, self-signed serving cert, no controllers). The admin
// is a static token in group system:masters; service accounts get tokens from
// the TokenRequest API, so the operator and agents can run with the RBAC they
// really get.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { controlPlaneBinary } from './control-plane-binaries.js';
import { freeLoopbackPorts } from './loopback-ports.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

export interface ControlPlane {
  /** Admin kubeconfig (system:masters), usable by kubectl and KubeConfig.loadFromFile. */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:PORT */
  readonly server: string;
  readonly pids: { readonly etcd: number; readonly apiserver: number };
  /** Where etcd.log and kube-apiserver.log are written (removed by stop()). */
  readonly workDir: string;
  /** The API server's serving certificate followed by its CA: what clients and pods trust. */
  readonly caFile: string;
  /** The key service-account tokens are signed with (kube-controller-manager's token controller needs it). */
  readonly serviceAccountSigningKeyFile: string;
  /** Stops kube-apiserver then etcd, waits for both to exit, removes workDir. */
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** How long to wait for /readyz. */
  readyTimeoutMs?: number;
  /**
   * Admit pods through the ServiceAccount plugin (default service account, token
   * volume). Only with a kube-controller-manager running (a real node starts one):
   * without it no namespace gets the `default` service account the plugin requires.
   */
  serviceAccountAdmission?: boolean;
}

const ADMIN_USER = 'loupe-admin';

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const workDir = await mkdtemp(join(tmpdir(), 'loupe-control-plane-'));
  const started: ServerProcess[] = [];
  const stopAll = async () => {
    // Reverse start order: the apiserver first, so it does not log etcd errors while dying.
    for (const server of [...started].reverse()) await server.stop();
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    const [etcdClientPort, etcdPeerPort, securePort] = (await freeLoopbackPorts(3)) as [number, number, number];
    const server = `https://127.0.0.1:${securePort}`;

    const etcd = startServerProcess('etcd', controlPlaneBinary('etcd'), [
      `--data-dir=${join(workDir, 'etcd')}`,
      `--listen-client-url=http://127.0.0.1:${etcdClientPort}`,
      `--listen-peer-url=http://127.0.0.1:${etcdPeerPort}`,
    ], join(workDir, 'etcd.log'));
    started.push(etcd);

    const token = randomBytes(24).toString('hex');
    const certDir = join(workDir, 'certs');
    await mkdir(certDir);
    const tokenFile = join(workDir, 'tokens.csv');
    await writeFile(tokenFile, `${token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, { mode: 0o600 });
    const serviceAccountKeys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const publicKeyFile = join(workDir, 'sa.pub');
    const signingKeyFile = join(workDir, 'sa.key');
    await writeFile(publicKeyFile, serviceAccountKeys.publicKey);
    await writeFile(signingKeyFile, serviceAccountKeys.privateKey, { mode: 0o600 });

    const apiserver = startServerProcess('kube-apiserver', controlPlaneBinary('kube-apiserver'), [
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // The endpoint reconciler (the `kubernetes` Service's endpoints) refuses a loopback address.
      '--endpoint-reconciler-type=none',
      `--secure-port=${securePort}`,
      `--cert-dir=${certDir}`,
      `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
      '--authorization-mode=RBAC',
      `--token-auth-file=${tokenFile}`,
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${publicKeyFile}`,
      `--service-account-signing-key-file=${signingKeyFile}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      // Without a controller-manager nothing would create the default service accounts it waits for.
      ...(options.serviceAccountAdmission ? [] : ['--disable-admission-plugins=ServiceAccount']),
      '--allow-privileged=true',
    ], join(workDir, 'kube-apiserver.log'));
    started.push(apiserver);

    const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
    // kube-apiserver writes its self-signed serving cert (followed by its CA) before it
    // serves; it is read again on each try so a half-written file cannot stick.
    const servingCertFile = join(certDir, 'apiserver.crt');
    const ca = await waitFor(deadline, [etcd, apiserver], async () => {
      if (!existsSync(servingCertFile)) return undefined;
      const pem = await readFile(servingCertFile, 'utf8');
      return (await httpsStatus(`${server}/readyz`, pem, token)) === 200 ? pem : undefined;
    });

    const kubeconfigPath = join(workDir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, { server, caPem: ca, user: ADMIN_USER, token, namespace: 'default' });

    let stopping: Promise<void> | undefined;
    return {
      kubeconfigPath,
      server,
      pids: { etcd: etcd.pid, apiserver: apiserver.pid },
      workDir,
      caFile: servingCertFile,
      serviceAccountSigningKeyFile: signingKeyFile,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (err) {
    const logs = started.map((p) => `--- ${p.name} (${p.logFile}):\n${p.logTail()}`).join('\n');
    await stopAll();
    throw new Error(`control plane did not start: ${(err as Error).message}\n${logs}`);
  }
}

/**
 * Creates the service account if needed, asks the TokenRequest API for a token
 * and writes a kubeconfig that acts as it. Returns the kubeconfig's path (inside
 * the control plane's workDir, so stop() removes it).
 */
export async function serviceAccountKubeconfig(controlPlane: ControlPlane, namespace: string, name: string): Promise<string> {
  const admin = new KubeConfig();
  admin.loadFromFile(controlPlane.kubeconfigPath);
  const core = admin.makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
  const tokenRequest = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = tokenRequest.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  const caData = admin.getCurrentCluster()?.caData;
  if (!caData) throw new Error('admin kubeconfig has no certificate-authority-data');
  const path = join(dirname(controlPlane.kubeconfigPath), `kubeconfig-${namespace}-${name}`);
  await writeKubeconfig(path, {
    server: controlPlane.server,
    caPem: Buffer.from(caData, 'base64').toString('utf8'),
    user: `system:serviceaccount:${namespace}:${name}`,
    token,
    namespace,
  });
  return path;
}

interface KubeconfigIdentity { server: string; caPem: string; user: string; token: string; namespace: string }

async function writeKubeconfig(path: string, { server, caPem, user, token, namespace }: KubeconfigIdentity): Promise<void> {
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'loupe-local', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'loupe-local', context: { cluster: 'loupe-local', user, namespace } }],
    'current-context': 'loupe-local',
  };
  await writeFile(path, stringify(kubeconfig), { mode: 0o600 });
}

/** Polls check until it returns a value; fails early when a server process has exited. */
async function waitFor<T>(deadline: number, servers: ServerProcess[], check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const dead = servers.find((server) => server.exitStatus() !== undefined);
    if (dead) throw new Error(`${dead.name} exited (${dead.exitStatus()})`);
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for kube-apiserver to be ready');
    await sleep(250);
  }
}

function httpsStatus(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}
