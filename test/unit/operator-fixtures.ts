// Pods, TraceProfiles and node reports for the operator's unit tests, built
// the way the API server and kubelet would present them.
import type { NodeProfileStatus } from '../../api/nodetraceplan.js';
import { parseTraceProfile, type TraceProfile, type TraceProfileSpecInput } from '../../api/traceprofile.js';
import type { Pod } from '../../operator/pod-targets.js';

export interface PodOptions {
  namespace?: string;
  node?: string;
  labels?: Record<string, string>;
  phase?: string;
  /** [container name, container id] pairs, all running. */
  containers?: [string, string][];
}

export function pod(name: string, options: PodOptions = {}): Pod {
  const { namespace = 'shop', node = 'node-a', labels = { app: 'checkout' }, phase = 'Running' } = options;
  const containers = options.containers ?? [['app', `containerd://${name}-app`]];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: `uid-${name}`, labels, resourceVersion: '1' },
    spec: { nodeName: node },
    status: {
      phase,
      containerStatuses: containers.map(([container, id]) => ({ name: container, containerID: id, state: { running: {} } })),
    },
  };
}

export interface ProfileOptions {
  namespace?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  status?: TraceProfile['status'];
  deletionTimestamp?: string;
}

export function profile(name: string, spec: Partial<TraceProfileSpecInput> = {}, options: ProfileOptions = {}): TraceProfile {
  const { namespace = 'shop', uid = `uid-${name}`, generation = 1, creationTimestamp = '2026-11-26T06:00:00Z' } = options;
  const parsed = parseTraceProfile({
    apiVersion: 'loupe.dev/v1alpha1',
    kind: 'TraceProfile',
    metadata: {
      name,
      namespace,
      uid,
      generation,
      creationTimestamp,
      resourceVersion: '1',
      ...(options.deletionTimestamp === undefined ? {} : { deletionTimestamp: options.deletionTimestamp }),
    },
    spec: { selector: { matchLabels: { app: 'checkout' } }, probes: [{ name: 'exec' }], ...spec },
    ...(options.status === undefined ? {} : { status: options.status }),
  });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

export function execReport(uid: string, execs: number, commands: [string, number][], pods: [string, number][] = []): NodeProfileStatus {
  const result = (n: number, top: [string, number][]) => ({
    exec: { execs: n, exits: n, topCommands: top.map(([key, count]) => ({ key, count })) },
  });
  return {
    uid,
    state: 'Running',
    probesLoaded: ['exec'],
    targets: { resolved: 1 },
    results: result(execs, commands),
    pods: pods.map(([name, n]) => ({ podUid: `uid-${name}`, namespace: 'shop', pod: name, results: result(n, []) })),
  };
}
