// Everything a test node leaves on the machine outside its own directory, found
// and removed: kubelet and containerd still write fixed host paths, runc puts
// pods in the `kubepods` cgroup of every hierarchy (outside this session's own
// memory cgroup), shims outlive containerd, and CNI leaves network namespaces and
// a bridge, and the test's stand-in for kube-proxy leaves iptables rules. Run at a node's stop, and at a node's start in case an earlier run
// crashed. Only one test node runs on a machine at a time.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readdir, readFile, readlink, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { removeServiceRoute, serviceRouteLeftovers } from './node-service-proxy.js';
import { restoreSavedSysctls } from './node-sysctls.js';

const run = promisify(execFile);

/** Every node's work directory is tmpdir()/NODE_DIR_PREFIX<random>. */
export const NODE_DIR_PREFIX = 'loupe-real-node-';
/** The CNI network's name and its bridge on the host (at most 15 characters). */
export const CNI_NETWORK = 'loupe-test';
export const CNI_BRIDGE = 'loupe0';
/** Where the sysctls saved before kubelet started are kept until they are restored. */
export const SAVED_SYSCTLS_FILE = join(tmpdir(), 'loupe-node-sysctls.json');

const KUBEPODS = 'kubepods';
const NETNS_DIR = '/run/netns';
const SHIM_SOCKET_DIR = '/run/containerd/s';
/** Paths kubelet 1.37 writes whatever its --root-dir says. */
const DEVICE_PLUGINS_DIR = '/var/lib/kubelet/device-plugins';
const CONTAINER_LOGS_DIR = '/var/log/containers';
const POD_LOGS_DIR = '/var/log/pods';
/** libcni's cache of ADD results (containerd 1.6 has no setting for it). */
const CNI_STATE_DIR = '/var/lib/cni';

export function nodeWorkDirs(): string[] {
  return readdirSync(tmpdir())
    .filter((name) => name.startsWith(NODE_DIR_PREFIX))
    .map((name) => join(tmpdir(), name));
}

interface Mount { mountPoint: string; root: string; fsType: string }

/** /proc/self/mountinfo; fields are octal-escaped (a space is \040). */
export async function mounts(): Promise<Mount[]> {
  const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.trim().split('\n').map((line) => {
    const [before, after] = line.split(' - ');
    const fields = (before ?? '').split(' ');
    return { root: unescape(fields[3] ?? ''), mountPoint: unescape(fields[4] ?? ''), fsType: (after ?? '').split(' ')[0] ?? '' };
  });
}

const under = (path: string, dirs: string[]) => dirs.some((dir) => path === dir || path.startsWith(`${dir}/`));

/** The `kubepods` directory of every cgroup hierarchy (v1 controllers and cgroup2) that has one. */
export async function kubepodsCgroups(): Promise<string[]> {
  const found = new Set<string>();
  for (const mount of await mounts()) {
    if (mount.fsType !== 'cgroup' && mount.fsType !== 'cgroup2') continue;
    const dir = join(mount.mountPoint, KUBEPODS);
    if (existsSync(dir)) found.add(dir);
  }
  return [...found];
}

/** Processes whose command line names one of dirs: containerd, kubelet, shims (-address <dir>/...). */
async function processesUsing(dirs: string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').some((arg) => dirs.some((dir) => arg.includes(dir)))) pids.push(pid);
  }
  return pids;
}

async function cgroupTree(dir: string): Promise<string[]> {
  const dirs = [dir];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) dirs.push(...(await cgroupTree(join(dir, entry.name))));
  }
  return dirs;
}

async function cgroupPids(dirs: string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const dir of dirs) {
    const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line) pids.push(Number(line));
  }
  return pids;
}

function kill(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Kills every process in each kubepods tree, then removes the trees, deepest first. */
async function removeKubepods(timeoutMs: number): Promise<void> {
  const roots = await kubepodsCgroups();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let left = 0;
    for (const root of roots) {
      const tree = await cgroupTree(root);
      if (!existsSync(root)) continue;
      // cgroup2 kills a whole subtree at once; v1 hierarchies are walked.
      await writeFile(join(root, 'cgroup.kill'), '1').catch(() => undefined);
      kill(await cgroupPids(tree));
      for (const dir of tree.reverse()) await rmdir(dir).catch(() => undefined);
      if (existsSync(root)) left++;
    }
    if (left === 0) return;
    if (Date.now() > deadline) throw new Error(`could not remove cgroups: ${(await kubepodsCgroups()).join(', ')}`);
    await sleep(100);
  }
}

async function unmount(path: string): Promise<void> {
  await run('umount', ['--lazy', path]).catch(() => undefined);
}

/** Bridge links CNI made on the host. */
function cniLinks(): string[] {
  return existsSync(`/sys/class/net/${CNI_BRIDGE}`) ? [CNI_BRIDGE] : [];
}

function cniNetnsFiles(): string[] {
  if (!existsSync(NETNS_DIR)) return [];
  return readdirSync(NETNS_DIR).filter((name) => name.startsWith('cni-')).map((name) => join(NETNS_DIR, name));
}

/** Unix sockets somebody listens on (/proc/net/unix of this network namespace). */
async function boundUnixSockets(): Promise<Set<string>> {
  const text = await readFile('/proc/net/unix', 'utf8');
  return new Set(text.split('\n').slice(1).map((line) => line.trim().split(/\s+/)[7]).filter((path): path is string => !!path));
}

/** Shim sockets nothing listens on any more. */
async function staleShimSockets(): Promise<string[]> {
  if (!existsSync(SHIM_SOCKET_DIR)) return [];
  const bound = await boundUnixSockets();
  return (await readdir(SHIM_SOCKET_DIR)).map((name) => join(SHIM_SOCKET_DIR, name)).filter((path) => !bound.has(path));
}

/** /var/log/containers links into a node's pod logs, dead or alive. */
async function containerLogLinks(dirs: string[]): Promise<string[]> {
  if (!existsSync(CONTAINER_LOGS_DIR)) return [];
  const links: string[] = [];
  for (const name of await readdir(CONTAINER_LOGS_DIR)) {
    const path = join(CONTAINER_LOGS_DIR, name);
    const target = await readlink(path).catch(() => '');
    if (under(target, dirs)) links.push(path);
  }
  return links;
}

/** libcni's cached results and host-local's leases for the test network. */
async function cniStateFiles(): Promise<string[]> {
  const files: string[] = [];
  const results = join(CNI_STATE_DIR, 'results');
  if (existsSync(results)) {
    for (const name of await readdir(results)) if (name.startsWith(`${CNI_NETWORK}-`)) files.push(join(results, name));
  }
  const leases = join(CNI_STATE_DIR, 'networks', CNI_NETWORK);
  if (existsSync(leases)) files.push(leases);
  return files;
}

/** Chains a kubelet makes in the host's iptables unless told not to (makeIPTablesUtilChains). */
async function kubeletIptablesChains(): Promise<string[]> {
  const chains: string[] = [];
  for (const command of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle']) {
      const { stdout } = await run(command, ['-w', '-t', table, '-S']).catch(() => ({ stdout: '' }));
      for (const line of stdout.split('\n')) if (/^-N KUBE-/.test(line)) chains.push(`${command} -t ${table} ${line.slice(3)}`);
    }
  }
  return chains;
}

async function removeIfEmpty(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    if (existsSync(dir) && (await stat(dir)).isDirectory() && (await readdir(dir)).length === 0) await rmdir(dir).catch(() => undefined);
  }
}

/**
 * Removes everything a test node leaves: its processes (and their shims), pods'
 * cgroups, network namespaces, the CNI bridge, mounts under its directories,
 * the directories, and the fixed host paths kubelet, containerd and CNI write;
 * restores the sysctls a crashed run left changed. `dirs` defaults to every
 * node directory on the machine (a crashed run's too).
 */
export async function removeNodeLeftovers(dirs: string[] = nodeWorkDirs()): Promise<void> {
  kill(await processesUsing(dirs));
  await removeKubepods(15_000);
  for (const file of cniNetnsFiles()) {
    await unmount(file);
    await rm(file, { force: true });
  }
  for (const link of cniLinks()) await run('ip', ['link', 'delete', link]).catch(() => undefined);
  await removeServiceRoute();
  const nodeMounts = (await mounts()).filter((mount) => under(mount.mountPoint, dirs));
  for (const mountPoint of [...new Set(nodeMounts.map((mount) => mount.mountPoint))].sort((a, b) => b.length - a.length)) {
    await unmount(mountPoint);
  }
  for (const dir of dirs) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  await rm(DEVICE_PLUGINS_DIR, { recursive: true, force: true });
  for (const link of await containerLogLinks(dirs)) await rm(link, { force: true });
  for (const socket of await staleShimSockets()) await rm(socket, { force: true });
  for (const file of await cniStateFiles()) await rm(file, { recursive: true, force: true });
  await removeIfEmpty([
    // ctr's fifos and runc state: only `ctr run` writes them, but a developer may have used it.
    '/var/lib/kubelet', CONTAINER_LOGS_DIR, POD_LOGS_DIR, SHIM_SOCKET_DIR, '/run/containerd/fifo',
    '/run/containerd/runc/k8s.io', '/run/containerd/runc', '/run/containerd', NETNS_DIR,
    join(CNI_STATE_DIR, 'results'), join(CNI_STATE_DIR, 'networks'), CNI_STATE_DIR,
  ]);
  await restoreSavedSysctls(SAVED_SYSCTLS_FILE);
}

/** What is left of a test node on the machine, one line per thing; empty when it is all gone. */
export async function nodeLeftovers(dirs: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const pid of await processesUsing(dirs)) left.push(`process ${pid}: ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim()}`);
  for (const cgroup of await kubepodsCgroups()) left.push(`cgroup ${cgroup}`);
  for (const mount of await mounts()) {
    if (under(mount.mountPoint, dirs) || mount.mountPoint.startsWith(`${NETNS_DIR}/cni-`)) left.push(`mount ${mount.mountPoint} (${mount.fsType})`);
  }
  for (const dir of dirs) if (existsSync(dir)) left.push(`directory ${dir}`);
  for (const file of cniNetnsFiles()) left.push(`network namespace ${file}`);
  for (const link of cniLinks()) left.push(`link ${link}`);
  if (existsSync(DEVICE_PLUGINS_DIR)) left.push(`directory ${DEVICE_PLUGINS_DIR}`);
  for (const link of await containerLogLinks(dirs)) left.push(`log link ${link}`);
  for (const socket of await staleShimSockets()) left.push(`shim socket ${socket}`);
  for (const file of await cniStateFiles()) left.push(`CNI state ${file}`);
  for (const chain of await kubeletIptablesChains()) left.push(`iptables chain ${chain}`);
  left.push(...(await serviceRouteLeftovers()));
  if (existsSync(SAVED_SYSCTLS_FILE)) left.push(`saved sysctls ${SAVED_SYSCTLS_FILE} (not restored)`);
  return left;
}
