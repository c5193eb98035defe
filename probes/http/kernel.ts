// The http probe's kernel side: socket reads and writes of traced cgroups
// (http.bpf.c) parsed by http_parser.bpf.h, series drained on collect.
import { attachPrograms } from '../../engine/probes/attach-programs.js';
import type { ProbeDefinition, ProbeReader } from '../../engine/probes/probe.js';
import { kernelHasRawTracepoint, type BpfObject } from '../../native/index.js';
import { configureTargetStorage, syncTargetStorage } from '../../engine/probes/target-storage.js';
import { httpResults } from './decode.js';
import { httpForPorts } from './ports.js';
import type { HttpOptions } from './http.js';
import type { HttpResult } from './http-result.js';

/**
 * The reader of the maps http_parser.bpf.h gives every object that includes
 * it (this probe's and the tls probe's): read-and-delete makes each call a
 * delta and frees room for new series; the route cap restarts with each drain.
 */
export function httpParserReader(obj: BpfObject): ProbeReader<HttpResult> {
  const series = obj.map('http_series');
  const overflow = obj.map('http_overflow');
  const anomalies = obj.map('http_anomaly_counts');
  const routeSets = obj.map('http_route_sets');
  return {
    collect() {
      // Route sets first: the kernel asks the route cap only for a series
      // it does not find, so a series must never outlive its route's claim.
      routeSets.lookupAndDeleteBatch();
      return httpResults(series.lookupAndDeleteBatch(), overflow.lookupAndDeleteBatch(), anomalies.lookupAndDeleteBatch());
    },
    close() {},
  };
}

/**
 * The hooks the probe sees socket reads and writes through: the socket
 * layer's tracepoints (sock_recv_length, sock_send_length; kernel 6.3+),
 * which only socket I/O fires; or, on older kernels, the exit of every
 * syscall, with a memo that two more hooks keep true.
 */
export type HttpHooks = 'socket' | 'syscall';

const HOOK_PROGRAMS: Record<HttpHooks, readonly string[]> = {
  socket: ['loupe_http_recv', 'loupe_http_send'],
  // The memo's invalidations first: no memo may outlive a cgroup change unseen.
  syscall: ['loupe_http_fork', 'loupe_http_migrate', 'loupe_http_exit'],
};

let kernelHooks: HttpHooks | undefined;

/** The hooks this kernel offers: the socket tracepoints where it has both (read from its BTF once per process). */
export function kernelHttpHooks(): HttpHooks {
  kernelHooks ??= kernelHasRawTracepoint('sock_recv_length') && kernelHasRawTracepoint('sock_send_length') ? 'socket' : 'syscall';
  return kernelHooks;
}

const chosenHooks = new WeakMap<BpfObject, HttpHooks>();

/**
 * Before load: only the programs of `hooks` are loaded (the others'
 * tracepoints may not exist here). The socket hooks keep connections in the
 * sockets' storage, so the LRU the syscall hooks need shrinks to one entry
 * instead of holding memory nothing uses.
 */
export function configureHttpHooks(obj: BpfObject, hooks: HttpHooks = kernelHttpHooks()): void {
  const chosen = chosenHooks.get(obj);
  if (chosen !== undefined) throw new Error(`the http probe object is already configured for the ${chosen} hooks: configure each object once`);
  for (const [set, programs] of Object.entries(HOOK_PROGRAMS)) {
    for (const program of programs) obj.setAutoload(program, set === hooks);
  }
  if (hooks === 'socket') obj.setMaxEntries('http_conns', 1);
  chosenHooks.set(obj, hooks);
}

/** The hooks obj was configured with. */
export function httpHooksOf(obj: BpfObject): HttpHooks {
  const hooks = chosenHooks.get(obj);
  if (hooks === undefined) throw new Error('the http probe object was loaded without configureHttpHooks');
  return hooks;
}

export const httpKernel: ProbeDefinition<HttpResult, HttpOptions> = {
  objectFile: 'http.bpf.o',

  // Its hooks run on every socket read and write of the node: the filter reads cgroup storage.
  configure: (obj) => {
    configureTargetStorage(obj, {});
    configureHttpHooks(obj);
  },
  syncTarget: syncTargetStorage,

  forProfile: (spec, delta) => (spec.ports === undefined ? delta : httpForPorts(spec.ports, delta)),

  attach: (obj) => attachPrograms(obj, HOOK_PROGRAMS[httpHooksOf(obj)]),

  reader: httpParserReader,
};
