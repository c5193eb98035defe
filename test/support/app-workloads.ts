// Real application workloads in kubelet-shaped pods, for the tests of the
// application probes (http, tls, dns): a fixture HTTP(S) server on Python's
// http.server and ssl (OpenSSL's libssl), curl as the client with its own
// account of what it got, and a throwaway certificate.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalPod } from '../../hack/local-cluster/local-pod.js';

const SERVER = fileURLToPath(new URL('../kernel/fixtures/http-server.py', import.meta.url));
export const PYTHON = '/usr/bin/python3';

export interface Started {
  /** The numbers the process printed on its ready line. */
  values: number[];
  /** Settles when it exits; the pods are killed at the end, so no failure. */
  exited: Promise<unknown>;
}

/** Runs argv in the pod until the test ends, once it prints a line matching `ready`. */
export async function startInPod(pod: LocalPod, argv: readonly string[], ready: RegExp): Promise<Started> {
  let out = '';
  let onReady!: (values: number[]) => void;
  const printed = new Promise<number[]>((resolve) => (onReady = resolve));
  const exited = pod
    .exec(argv, (chunk) => {
      out += chunk;
      const m = ready.exec(out);
      if (m) onReady(m.slice(1).map(Number));
    })
    .catch(() => undefined);
  const values = await Promise.race([printed, exited.then(() => Promise.reject(new Error(`${argv.join(' ')} exited before it was ready: ${out}`)))]);
  return { values, exited };
}

/** The fixture server (HTTPS given a certificate and key, else plain HTTP): its port and pid. /ok* answers 200, the rest 404. */
export async function startHttpServer(pod: LocalPod, args: readonly string[], env: readonly string[] = []): Promise<{ port: number; pid: number }> {
  const { values } = await startInPod(pod, ['env', ...env, PYTHON, SERVER, ...args], /ready (\d+) (\d+)/);
  return { port: values[0]!, pid: values[1]! };
}

/** One curl process in the pod fetching these paths in order (one connection, kept alive): the statuses and the connections it opened. */
export async function curl(pod: LocalPod, base: string, paths: readonly string[]): Promise<{ statuses: number[]; connects: number }> {
  const argv = ['curl', '-s', '-k', '-w', '%{http_code} %{num_connects}\\n'];
  for (const p of paths) argv.push('-o', '/dev/null', `${base}${p}`);
  const lines = (await pod.exec(argv)).trim().split('\n').map((line) => line.split(' ').map(Number));
  return { statuses: lines.map((l) => l[0]!), connects: lines.reduce((n, l) => n + l[1]!, 0) };
}

/** A self-signed certificate for 127.0.0.1 in dir: its cert and key files. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], {
    stdio: 'ignore',
  });
  return { cert, key };
}
