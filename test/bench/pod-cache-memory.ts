// `npm run bench:pod-cache -- [pods]`: the heap an informer cache of N Pods
// takes, the Pods kept as the API server sends them and trimmed by trimPod
// (the operator's Pod informer transform), side by side in one run (issue 14:
// the operator within 1 GiB RSS while it watches 150,000 Pods).
//
// Each Pod is a typical Deployment's pod as the kubelet leaves it (one app
// container with env, probes, resources and volume mounts, the service
// account volume, both managers' managedFields, five conditions, a full
// container status), about 5 KB of JSON, every one different (names, uids,
// container ids, IPs, nodes, namespaces). Each is parsed from its own JSON
// text, as the informer receives it, so no strings are shared between pods
// that a real cache would not share. The trimmed phase runs first, so the RSS
// printed after it is not inflated by the full phase's freed heap; it still
// holds what parsing 150,000 full pods left committed in V8's heap, as a
// relist would.
//
//   npm run bench:pod-cache -- [pods]        (default 150000)
import { createHash } from 'node:crypto';
import { ObjectCache } from '../../kube/object-cache.js';
import { trimPod } from '../../operator/pod-cache.js';
import type { Pod } from '../../operator/pod-targets.js';
import { fmt, printTable } from './bench-support.js';

const PODS = Number(process.argv[2] ?? 150_000);
const NODES = 1_000;
const NAMESPACES = 50;
const APPS = 2_000;
const MiB = 1024 * 1024;

if (globalThis.gc === undefined) throw new Error('run with node --expose-gc (npm run bench:pod-cache does)');
const gc: () => void = globalThis.gc;
if (!Number.isInteger(PODS) || PODS <= 0) throw new Error(`pods must be a positive integer, not ${process.argv[2]}`);

/** The Pod's JSON with @FIELD@ placeholders, filled per pod. */
const template = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-30T09:12:44Z', 'prometheus.io/port': '9090', 'prometheus.io/scrape': 'true' },
    creationTimestamp: '2026-12-01T08:@MM@:11Z',
    generateName: '@APP@-@HASH@-',
    generation: 1,
    labels: { app: '@APP@', 'app.kubernetes.io/name': '@APP@', 'app.kubernetes.io/part-of': '@NS@', 'pod-template-hash': '@HASH@' },
    managedFields: [
      {
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/restartedAt': {}, 'f:prometheus.io/port': {}, 'f:prometheus.io/scrape': {} },
            'f:generateName': {},
            'f:labels': { '.': {}, 'f:app': {}, 'f:app.kubernetes.io/name': {}, 'f:app.kubernetes.io/part-of': {}, 'f:pod-template-hash': {} },
            'f:ownerReferences': { '.': {}, 'k:{"uid":"@RSUID@"}': {} },
          },
          'f:spec': {
            'f:containers': {
              'k:{"name":"app"}': {
                '.': {},
                'f:env': { '.': {}, 'k:{"name":"LOG_LEVEL"}': { '.': {}, 'f:name': {}, 'f:value': {} }, 'k:{"name":"POD_NAME"}': { '.': {}, 'f:name': {}, 'f:valueFrom': { '.': {}, 'f:fieldRef': {} } } },
                'f:image': {},
                'f:imagePullPolicy': {},
                'f:livenessProbe': { '.': {}, 'f:httpGet': { '.': {}, 'f:path': {}, 'f:port': {}, 'f:scheme': {} } },
                'f:name': {},
                'f:ports': { '.': {}, 'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {}, 'f:protocol': {} } },
                'f:resources': { '.': {}, 'f:limits': { '.': {}, 'f:memory': {} }, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } },
                'f:terminationMessagePath': {},
                'f:terminationMessagePolicy': {},
              },
            },
            'f:dnsPolicy': {},
            'f:enableServiceLinks': {},
            'f:restartPolicy': {},
            'f:schedulerName': {},
            'f:securityContext': {},
            'f:serviceAccount': {},
            'f:serviceAccountName': {},
            'f:terminationGracePeriodSeconds': {},
          },
        },
        manager: 'kube-controller-manager',
        operation: 'Update',
        time: '2026-12-01T08:@MM@:11Z',
      },
      {
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:status': {
            'f:conditions': {
              'k:{"type":"ContainersReady"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} },
              'k:{"type":"Initialized"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} },
              'k:{"type":"PodReadyToStartContainers"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} },
              'k:{"type":"Ready"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} },
            },
            'f:containerStatuses': {},
            'f:hostIP': {},
            'f:hostIPs': {},
            'f:phase': {},
            'f:podIP': {},
            'f:podIPs': { '.': {}, 'k:{"ip":"@PODIP@"}': { '.': {}, 'f:ip': {} } },
            'f:startTime': {},
          },
        },
        manager: 'kubelet',
        operation: 'Update',
        subresource: 'status',
        time: '2026-12-01T08:@MM@:19Z',
      },
    ],
    name: '@APP@-@HASH@-@SUFFIX@',
    namespace: '@NS@',
    ownerReferences: [{ apiVersion: 'apps/v1', blockOwnerDeletion: true, controller: true, kind: 'ReplicaSet', name: '@APP@-@HASH@', uid: '@RSUID@' }],
    resourceVersion: '@RV@',
    uid: '@UID@',
  },
  spec: {
    containers: [
      {
        env: [
          { name: 'LOG_LEVEL', value: 'info' },
          { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
        ],
        image: 'registry.example.com/@NS@/@APP@:2.14.1',
        imagePullPolicy: 'IfNotPresent',
        livenessProbe: { failureThreshold: 3, httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, periodSeconds: 10, successThreshold: 1, timeoutSeconds: 1 },
        name: 'app',
        ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
        resources: { limits: { memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        volumeMounts: [{ mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: 'kube-api-access-@SA@', readOnly: true }],
      },
    ],
    dnsPolicy: 'ClusterFirst',
    enableServiceLinks: true,
    nodeName: '@NODE@',
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
    restartPolicy: 'Always',
    schedulerName: 'default-scheduler',
    securityContext: {},
    serviceAccount: 'default',
    serviceAccountName: 'default',
    terminationGracePeriodSeconds: 30,
    tolerations: [
      { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
      { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
    ],
    volumes: [
      {
        name: 'kube-api-access-@SA@',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { items: [{ key: 'ca.crt', path: 'ca.crt' }], name: 'kube-root-ca.crt' } },
            { downwardAPI: { items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }] } },
          ],
        },
      },
    ],
  },
  status: {
    conditions: [
      { lastProbeTime: null, lastTransitionTime: '2026-12-01T08:@MM@:14Z', status: 'True', type: 'PodReadyToStartContainers' },
      { lastProbeTime: null, lastTransitionTime: '2026-12-01T08:@MM@:11Z', status: 'True', type: 'Initialized' },
      { lastProbeTime: null, lastTransitionTime: '2026-12-01T08:@MM@:19Z', status: 'True', type: 'Ready' },
      { lastProbeTime: null, lastTransitionTime: '2026-12-01T08:@MM@:19Z', status: 'True', type: 'ContainersReady' },
      { lastProbeTime: null, lastTransitionTime: '2026-12-01T08:@MM@:11Z', status: 'True', type: 'PodScheduled' },
    ],
    containerStatuses: [
      {
        containerID: 'containerd://@CID@',
        image: 'registry.example.com/@NS@/@APP@:2.14.1',
        imageID: 'registry.example.com/@NS@/@APP@@sha256:@DIGEST@',
        lastState: {},
        name: 'app',
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: '2026-12-01T08:@MM@:13Z' } },
        volumeMounts: [{ mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: 'kube-api-access-@SA@', readOnly: true, recursiveReadOnly: 'Disabled' }],
      },
    ],
    hostIP: '@HOSTIP@',
    hostIPs: [{ ip: '@HOSTIP@' }],
    phase: 'Running',
    podIP: '@PODIP@',
    podIPs: [{ ip: '@PODIP@' }],
    qosClass: 'Burstable',
    startTime: '2026-12-01T08:@MM@:11Z',
  },
});

/** Hex digits as random as a container id, the same for the same (i, salt). */
const hex = (i: number, salt: number, length: number) => createHash('sha256').update(`${salt}/${i}`).digest('hex').slice(0, length);
const uuid = (i: number, salt: number) => {
  const h = hex(i, salt, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20)}`;
};
/** The 5-character suffix a ReplicaSet gives its pods, unique for n < 27^5 (7919 is prime to 3^15, so n → 7919n mod 27^5 is one-to-one). */
const podSuffix = (n: number) => {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let x = (n * 7919) % 27 ** 5;
  let text = '';
  for (let digit = 0; digit < 5; digit++, x = Math.floor(x / 27)) text += alphabet[x % 27];
  return text;
};
const ip = (n: number, prefix: number) => `10.${prefix}.${(n >> 8) & 255}.${n & 255}`;

/** Pod i's JSON text, as one item of a list response. */
function podJson(i: number): string {
  const app = i % APPS;
  const node = i % NODES;
  const fields: Record<string, string> = {
    APP: `service-${app}`,
    HASH: hex(app, 1, 10),
    SUFFIX: podSuffix(Math.floor(i / APPS)),
    NS: `team-${app % NAMESPACES}`,
    MM: String(i % 60).padStart(2, '0'),
    RV: String(48_000_000 + i),
    UID: uuid(i, 3),
    RSUID: uuid(app, 4),
    SA: hex(i, 5, 5),
    NODE: `node-${node}`,
    HOSTIP: ip(node, 0),
    PODIP: ip(i, 244),
    CID: hex(i, 6, 64),
    DIGEST: hex(app, 7, 64),
  };
  return template.replace(/@([A-Z]+)@/g, (_, key: string) => fields[key] ?? '');
}

/** Full collections until only what is reachable is left (the second frees what the first's weak callbacks released). */
function settle(): void {
  gc();
  gc();
}

interface Phase {
  name: string;
  pods: number;
  heapBytes: number;
  rssBytes: number;
}

/** Fills a cache with every pod, each parsed from its own text and passed through transform, as the Pod informer does; the cache is garbage once this returns. */
function measure(name: string, transform: (object: unknown) => Pod): Phase {
  settle();
  const before = process.memoryUsage().heapUsed;
  const cache = new ObjectCache<Pod>();
  for (let i = 0; i < PODS; i++) cache.put(transform(JSON.parse(podJson(i))));
  settle();
  const { heapUsed, rss } = process.memoryUsage();
  return { name, pods: cache.size, heapBytes: heapUsed - before, rssBytes: rss };
}

const jsonBytes = Array.from({ length: 100 }, (_, i) => Buffer.byteLength(podJson(i * 1_499))).reduce((a, b) => a + b, 0) / 100;
console.log(`${PODS} pods on ${NODES} nodes in ${NAMESPACES} namespaces, ${fmt(jsonBytes / 1024, 2)} KiB of JSON each (Node ${process.version})`);
console.log(`process RSS before either cache: ${fmt(process.memoryUsage().rss / MiB)} MiB`);

const trimmed = measure('trimmed (trimPod)', trimPod);
const full = measure('full (as received)', (object) => object as Pod);
printTable(
  ['cache', 'pods', 'heap bytes/pod', 'heap MiB', 'process RSS MiB'],
  [trimmed, full].map((p) => [p.name, String(p.pods), fmt(p.heapBytes / p.pods, 0), fmt(p.heapBytes / MiB), fmt(p.rssBytes / MiB)]),
);
console.log(`trimmed: ${fmt((100 * trimmed.heapBytes) / full.heapBytes)}% of the full cache's heap`);
