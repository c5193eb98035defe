// What the tls probe's uprobes cost per SSL call: a loop of SSL_write_ex and
// SSL_read_ex (test/bench/ssl-loop.py) through the system libssl, bare, with
// the probe attached to that libssl while the loop's cgroup is not targeted
// (every process on the node mapping the same file pays this: the uprobes are
// attached for all pids), and with it targeted (the HTTP parser runs too).
// Interleaved rounds; each variant's cost is the median over rounds of its
// time minus bare's in the same round.
//
//   npx tsx test/bench/tls-overhead.ts [rounds] [SSL round trips per run]
//
// Needs root, openssl, /usr/bin/python3, `make -C bpf` and the native addon.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeObjectDirectory } from '../../engine/probe-objects.js';
import { TARGETS_MAP } from '../../engine/probes/probe.js';
import { parseProcMaps } from '../../engine/symbolize/proc-maps.js';
import { encodeTargetKey, encodeTargetValue } from '../../engine/probe-manager.js';
import { libsslPaths } from '../../probes/tls/libssl-discovery.js';
import { attachSslUprobes } from '../../probes/tls/ssl-uprobes.js';
import { BpfObject } from '../../native/index.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { selfSignedCertificate } from '../support/app-workloads.js';
import { median, requireFairBpfBenchmark } from './bench-support.js';

const rounds = Number(process.argv[2] ?? 7);
const trips = Number(process.argv[3] ?? 100_000);
const LOOP = fileURLToPath(new URL('./ssl-loop.py', import.meta.url));
/** One SSL_write_ex and one SSL_read_ex per round trip. */
const CALLS_PER_TRIP = 2;

requireFairBpfBenchmark();
const dir = mkdtempSync(path.join(tmpdir(), 'loupe-tls-bench-'));
const { cert, key } = selfSignedCertificate(dir);
const targeted = new LocalPod();
const untargeted = new LocalPod();
const obj = BpfObject.open(path.join(probeObjectDirectory(), 'tls.bpf.o'));
try {
  await obj.loadAsync();
  obj.map(TARGETS_MAP).update(encodeTargetKey(targeted.cgroupId), encodeTargetValue({ mask: 1n, slot: 0, flags: 0 }));
  // The libssl python3 maps once it imports ssl: the file the loop calls into.
  const maps = execFileSync('/usr/bin/python3', ['-c', 'import ssl; print(open("/proc/self/maps").read())'], { encoding: 'utf8' });
  const systemLibssl = libsslPaths(parseProcMaps(maps))[0];
  if (systemLibssl === undefined) throw new Error('/usr/bin/python3 maps no libssl');
  const run = (pod: LocalPod) =>
    Number(execFileSync('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', pod.dir, '/usr/bin/python3', LOOP, cert, key, String(trips)], { encoding: 'utf8' }).trim());
  const costs = { untargeted: [] as number[], targeted: [] as number[] };
  const bare: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const base = run(untargeted);
    bare.push(base);
    const links = attachSslUprobes(obj, systemLibssl);
    try {
      costs.untargeted.push(run(untargeted) - base);
      costs.targeted.push(run(targeted) - base);
    } finally {
      for (const link of links) link.destroy();
    }
  }
  const perCall = (xs: number[]) => Math.round(median(xs) / CALLS_PER_TRIP);
  console.log(`libssl: ${systemLibssl}; ${rounds} rounds of ${trips} round trips`);
  console.log(`bare:                    ${Math.round(median(bare) / CALLS_PER_TRIP)} ns per SSL call`);
  console.log(`attached, not targeted: +${perCall(costs.untargeted)} ns per SSL call`);
  console.log(`attached, targeted:     +${perCall(costs.targeted)} ns per SSL call`);
} finally {
  obj.close();
  targeted.remove();
  untargeted.remove();
  rmSync(dir, { recursive: true, force: true });
}
