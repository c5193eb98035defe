// `npm run bench:footprint`: what the agent pod costs its node, read from the
// agent container's own cgroup (CPU time, memory working set and RSS, kernel
// memory, peak) as the kubelet and a memory limit see it. Loupe is deployed on
// the test cluster's real node exactly as test/images/real-node-deploy.test.ts
// deploys it (the built images, `kubectl apply -k` of the overlay). Phases,
// each sampled for the same time in one run:
//   idle         no profiles, no load;
//   busy node    20 pods at 1,000 execs/s and 100,000 syscalls/s in all (each
//                50/s and 5,000/s, images/load.c), still no profiles;
//   traced       the same with 5 TraceProfiles over the 20 pods, together
//                every probe of the catalog.
// Then the BPF maps the traced phase loaded (bpftool), with the per-CPU part
// scaled to a 192-vCPU node: the kernel charges them to the agent's memory
// cgroup, so they count against its limit.
//
//   npm run bench:footprint -- [seconds per phase]        (root; default 60)
//
// Needs what the deploy test needs: root, a real node (hack/setup.sh,
// hack/build-controlplane.sh) and the images (hack/build-images.sh).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { NodeProfileStatus, NodeTracePlan } from '../../api/nodetraceplan.js';
import type { ProbeName } from '../../probes/registry.js';
import { startControlPlane, type ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { AGENT_SELECTOR, containerPids, deployLoupe, kubectlOk, SYSTEM_NAMESPACE, workloadDeployment } from '../support/loupe-deployment.js';
import { loupeImagesBlocker } from '../support/loupe-images.js';
import { mounts } from '../support/node-leftovers.js';
import { LOAD, realNodeBlocker, startRealNode, type RealNode } from '../support/real-node.js';
import { waitFor } from '../support/wait-for.js';

const run = promisify(execFile);
const SECONDS = Number(process.argv[2] ?? 60);
const NAMESPACE = 'bench';
const PODS = 20;
const EXECS_PER_SECOND = 1_000;
const SYSCALLS_PER_SECOND = 100_000;
const TARGET_CPUS = 192;
/** Five profiles over the same pods, together every probe of the catalog. */
const PROFILES: Record<string, ProbeName[]> = {
  'exec-tcp': ['exec', 'tcp'],
  'syscalls-files': ['syscalls', 'files'],
  'exec-syscalls': ['exec', 'syscalls'],
  scheduler: ['runqlat', 'oomkill', 'biolatency'],
  everything: ['exec', 'files', 'tcp', 'netbytes', 'profile'],
};

/** One reading of a container's cgroup: cumulative CPU, and memory now. */
interface CgroupReading { cpuNs: number; usage: number; workingSet: number; rss: number; kernel: number; atMs: number }

/** Where the container's CPU and memory accounting lives: cgroup v1 controllers (hybrid nodes) or cgroup2. */
interface CgroupFiles { read(): Promise<CgroupReading> }

const statField = (text: string, key: string): number => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
const readNumber = async (path: string): Promise<number> => Number((await readFile(path, 'utf8')).trim());

async function cgroupFilesOf(pid: number): Promise<CgroupFiles> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim().split('\n').map((line) => line.split(':'));
  const all = await mounts();
  const v1 = (controller: string) => {
    const path = lines.find(([, controllers]) => controllers?.split(',').includes(controller))?.[2];
    const mount = all.find((m) => m.fsType === 'cgroup' && m.mountPoint.split('/').pop()?.split(',').includes(controller));
    return path !== undefined && mount !== undefined ? join(mount.mountPoint, path) : undefined;
  };
  const cpuacct = v1('cpuacct');
  const memory = v1('memory');
  if (cpuacct !== undefined && memory !== undefined) {
    return {
      async read() {
        const stat = await readFile(join(memory, 'memory.stat'), 'utf8');
        const usage = await readNumber(join(memory, 'memory.usage_in_bytes'));
        return {
          cpuNs: await readNumber(join(cpuacct, 'cpuacct.usage')),
          usage,
          workingSet: usage - statField(stat, 'total_inactive_file'),
          rss: statField(stat, 'total_rss'),
          kernel: await readNumber(join(memory, 'memory.kmem.usage_in_bytes')).catch(() => 0),
          atMs: Date.now(),
        };
      },
    };
  }
  const unifiedPath = lines.find(([id]) => id === '0')?.[2];
  const unified = all.find((m) => m.fsType === 'cgroup2');
  if (unifiedPath === undefined || unified === undefined) throw new Error(`no CPU and memory accounting for pid ${pid}`);
  const dir = join(unified.mountPoint, unifiedPath);
  return {
    async read() {
      const stat = await readFile(join(dir, 'memory.stat'), 'utf8');
      const usage = await readNumber(join(dir, 'memory.current'));
      return {
        cpuNs: statField(await readFile(join(dir, 'cpu.stat'), 'utf8'), 'usage_usec') * 1000,
        usage,
        workingSet: usage - statField(stat, 'inactive_file'),
        rss: statField(stat, 'anon'),
        kernel: statField(stat, 'kernel') || statField(stat, 'kernel_stack') + statField(stat, 'slab') + statField(stat, 'percpu'),
        atMs: Date.now(),
      };
    },
  };
}

interface PhaseResult { phase: string; cpuCores: number; workingSet: number; workingSetMax: number; rss: number; kernel: number }

/** Samples every second for SECONDS: CPU over the whole window, memory as mean and max. */
async function samplePhase(phase: string, files: CgroupFiles): Promise<PhaseResult> {
  const first = await files.read();
  const readings: CgroupReading[] = [first];
  while (Date.now() - first.atMs < SECONDS * 1000) {
    await sleep(1000);
    readings.push(await files.read());
  }
  const last = readings[readings.length - 1] ?? first;
  const mean = (pick: (r: CgroupReading) => number) => readings.reduce((sum, r) => sum + pick(r), 0) / readings.length;
  const result = {
    phase,
    cpuCores: (last.cpuNs - first.cpuNs) / ((last.atMs - first.atMs) * 1e6),
    workingSet: mean((r) => r.workingSet),
    workingSetMax: Math.max(...readings.map((r) => r.workingSet)),
    rss: mean((r) => r.rss),
    kernel: mean((r) => r.kernel),
  };
  console.error(`bench: ${phase}: ${(result.cpuCores * 100).toFixed(2)}% of a CPU, working set ${mib(result.workingSet)}`);
  return result;
}

interface BpfMapInfo { id: number; name?: string; type: string | number; bytes_value: number; max_entries: number; bytes_memlock: number }
/** A map and the bytes it holds per CPU: the entries in use (a per-CPU array's are all allocated) times the value rounded to 8. */
interface MapFootprint extends BpfMapInfo { entries: number; perCpuBytes: number }

/** The maps of the loaded loupe_* programs, from bpftool, with their per-CPU bytes. */
async function loupeMaps(): Promise<MapFootprint[]> {
  const bpftool = async (args: string[]) => JSON.parse((await run('bpftool', [...args, '--json'], { maxBuffer: 1 << 30 })).stdout) as unknown;
  const programs = (await bpftool(['prog', 'show'])) as { name?: string; map_ids?: number[] }[];
  const ids = new Set(programs.filter((p) => p.name?.startsWith('loupe_')).flatMap((p) => p.map_ids ?? []));
  const maps = ((await bpftool(['map', 'show'])) as BpfMapInfo[]).filter((m) => ids.has(m.id));
  const footprints: MapFootprint[] = [];
  for (const map of maps) {
    const perCpuType = String(map.type).includes('percpu');
    const entries = !perCpuType ? 0 : String(map.type) === 'percpu_array' ? map.max_entries : ((await bpftool(['map', 'dump', 'id', String(map.id)])) as unknown[]).length;
    footprints.push({ ...map, entries, perCpuBytes: Math.ceil(map.bytes_value / 8) * 8 * entries });
  }
  return footprints;
}

async function possibleCpus(): Promise<number> {
  const text = (await readFile('/sys/devices/system/cpu/possible', 'utf8')).trim();
  return text.split(',').reduce((n, range) => {
    const [from, to] = range.split('-').map(Number);
    return n + (to === undefined ? 1 : to - (from ?? 0) + 1);
  }, 0);
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const blocker = (await realNodeBlocker()) ?? (await loupeImagesBlocker());
  if (blocker !== undefined) throw new Error(`cannot run: ${blocker}`);
  let controlPlane: ControlPlane | undefined;
  let node: RealNode | undefined;
  try {
    controlPlane = await startControlPlane({ serviceAccountAdmission: true });
    node = await startRealNode(controlPlane);
    await deployLoupe(controlPlane, node);
    const cp = controlPlane;
    const admin = new KubeConfig();
    admin.loadFromFile(cp.kubeconfigPath);
    const core = admin.makeApiClient(CoreV1Api);

    const [agent] = (await core.listNamespacedPod({ namespace: SYSTEM_NAMESPACE, labelSelector: AGENT_SELECTOR })).items;
    const [agentPid] = await containerPids(agent as V1Pod, 'agent');
    if (agentPid === undefined) throw new Error('the agent container has no process');
    const files = await cgroupFilesOf(agentPid);
    await sleep(10_000); // past start-up
    const results = [await samplePhase('idle, no profiles', files)];

    await kubectlOk(cp, ['create', 'namespace', NAMESPACE]);
    const load = workloadDeployment(NAMESPACE, 'load', PODS, [LOAD, String(EXECS_PER_SECOND / PODS), String(SYSCALLS_PER_SECOND / PODS)]);
    await kubectlOk(cp, ['apply', '-f', '-'], stringify(load));
    await kubectlOk(cp, ['rollout', 'status', '-n', NAMESPACE, 'deployment/load', '--timeout=300s']);
    results.push(await samplePhase(`busy node (${PODS} pods: ${EXECS_PER_SECOND} execs/s, ${SYSCALLS_PER_SECOND} syscalls/s), no profiles`, files));

    for (const [name, probes] of Object.entries(PROFILES)) {
      await kubectlOk(cp, ['apply', '-n', NAMESPACE, '-f', '-'], stringify({
        apiVersion: 'loupe.dev/v1alpha1',
        kind: 'TraceProfile',
        metadata: { name },
        spec: { selector: { matchLabels: { app: 'load' } }, probes: probes.map((probe) => ({ name: probe })), duration: '1h' },
      }));
    }
    const nodeName = node.name;
    let entries: NodeProfileStatus[] = [];
    await waitFor(`the ${Object.keys(PROFILES).length} profiles to attach to the ${PODS} pods`, async () => {
      const plan = JSON.parse(await kubectlOk(cp, ['get', 'nodetraceplan', nodeName, '-o', 'json'])) as NodeTracePlan;
      entries = plan.status?.profiles ?? [];
      const loaded = entries.filter((e) => e.targets.resolved === PODS && e.probesLoaded.length > 0);
      return plan.status?.observedGeneration === plan.metadata.generation && loaded.length === Object.keys(PROFILES).length;
    }, { timeoutMs: 120_000, intervalMs: 1000, diagnostics: () => JSON.stringify(entries.map((e) => [e.targets, e.errors])) });
    await sleep(10_000);
    const countsAt = async () => {
      const profile = JSON.parse(await kubectlOk(cp, ['get', 'traceprofile', '-n', NAMESPACE, 'exec-syscalls', '-o', 'json'])) as {
        status?: { results?: { exec?: { execs: number }; syscalls?: { calls: number } } };
      };
      return { execs: profile.status?.results?.exec?.execs ?? 0, calls: profile.status?.results?.syscalls?.calls ?? 0, atMs: Date.now() };
    };
    const before = await countsAt();
    results.push(await samplePhase(`traced: 5 profiles on the ${PODS} pods`, files));
    const after = await countsAt();
    const maps = await loupeMaps();
    const cpus = await possibleCpus();

    console.log(`\nagent container, from its own cgroup (${SECONDS} s a phase; ${cpus} possible CPUs here)\n`);
    console.log('| phase | CPU (% of one core) | working set | max working set | RSS | kernel memory |');
    console.log('|---|---|---|---|---|---|');
    for (const r of results) {
      console.log(`| ${r.phase} | ${(r.cpuCores * 100).toFixed(2)}% | ${mib(r.workingSet)} | ${mib(r.workingSetMax)} | ${mib(r.rss)} | ${mib(r.kernel)} |`);
    }
    const seconds = (after.atMs - before.atMs) / 1000;
    console.log(`\nthe probes counted ${((after.execs - before.execs) / seconds).toFixed(0)} execs/s and ${((after.calls - before.calls) / seconds).toFixed(0)} syscalls/s in the pods while traced (status, 10 s granularity)`);

    console.log(`\nBPF maps of the loaded programs (bpftool), the per-CPU part scaled to ${TARGET_CPUS} vCPUs\n`);
    console.log('| map | type | max entries | per-CPU entries in use | per CPU | here | at 192 vCPUs |');
    console.log('|---|---|---|---|---|---|---|');
    let here = 0;
    let scaled = 0;
    for (const m of maps.sort((a, b) => b.perCpuBytes - a.perCpuBytes || b.bytes_memlock - a.bytes_memlock)) {
      const atTarget = m.bytes_memlock + m.perCpuBytes * (TARGET_CPUS - cpus);
      here += m.bytes_memlock;
      scaled += atTarget;
      const perCpuColumns = m.perCpuBytes > 0 ? `${m.entries} | ${mib(m.perCpuBytes)}` : '- | -';
      console.log(`| ${m.name ?? m.id} | ${m.type} | ${m.max_entries} | ${perCpuColumns} | ${mib(m.bytes_memlock)} | ${mib(atTarget)} |`);
    }
    console.log(`| all ${maps.length} maps | | | | | ${mib(here)} | ${mib(scaled)} |`);
    const traced = results[results.length - 1] as PhaseResult;
    const need = traced.workingSetMax - here + scaled;
    console.log(`\nmemory the agent needs at ${TARGET_CPUS} vCPUs, these profiles: max working set ${mib(traced.workingSetMax)} - maps here ${mib(here)} + maps at ${TARGET_CPUS} vCPUs ${mib(scaled)} = ${mib(need)}`);
  } finally {
    await node?.stop();
    await controlPlane?.stop();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
