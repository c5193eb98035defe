// The operator runtime against a real kube-apiserver + etcd: informers,
// watch resumption, leader election, server-side apply, finalizers, status
// and events, end to end. Waits are bounded but generous; nothing is timed.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { EventRecorder } from '../../kube/event-recorder.js';
import { Informer, type InformerEvent } from '../../kube/informer.js';
import { KubeHttp } from '../../kube/kube-http.js';
import type { KubeObject } from '../../kube/kube-object.js';
import { KubeLeaseStore } from '../../kube/lease-store.js';
import { LeaderElector } from '../../kube/leader-election.js';
import { kubeListWatch } from '../../kube/list-watch.js';
import { Operator, type ResourceEvent } from '../../kube/operator.js';
import { ResourceClient } from '../../kube/resource-client.js';
import type { ResourceType } from '../../kube/resource-type.js';
import { startControlPlane } from '../../hack/local-cluster/control-plane.js';
import { requireControlPlane } from '../support/control-plane-blocker.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'error' });
const configMaps: ResourceType = { group: '', version: 'v1', plural: 'configmaps' };
const leases: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };
const widgets: ResourceType = { group: 'runtime-test.loupe.dev', version: 'v1', plural: 'widgets' };

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function kubeConfigFor(kubeconfigPath: string, server?: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  if (server !== undefined) {
    const clusters = kubeConfig.clusters.map((cluster) => (cluster.name === kubeConfig.getCurrentCluster()?.name ? { ...cluster, server } : cluster));
    kubeConfig.loadFromOptions({ clusters, users: kubeConfig.users, contexts: kubeConfig.contexts, currentContext: kubeConfig.currentContext });
  }
  return kubeConfig;
}

/** A TCP relay in front of the API server whose connections the test can cut, as a flaky network would. */
async function startCuttableProxy(target: URL): Promise<{ url: string; accepted: () => number; cutAll: () => void; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(Number(target.port || 443), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    accepted: () => accepted,
    cutAll: () => sockets.forEach((socket) => socket.destroy()),
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}

async function createNamespace(client: ResourceClient, name: string): Promise<void> {
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: 'runtime-test' });
}

function recordingInformer(client: ResourceClient, namespace: string) {
  const informer = new Informer<KubeObject>(kubeListWatch(client, configMaps, { namespace }), { logger, resyncPeriodMs: 0 });
  const seen: string[] = [];
  informer.on((event: InformerEvent<KubeObject>) => seen.push(`${event.type} ${event.object.metadata?.name} ${JSON.stringify((event.object as { data?: unknown }).data ?? {})}`));
  return { informer, seen };
}

test('operator runtime against a real API server', async (t) => {
  if (!(await requireControlPlane(t))) return;
  const controlPlane = await startControlPlane();
  // Subtests clean up after themselves, so this runs once nothing uses the API server.
  t.after(() => controlPlane.stop());
  const kubeConfig = kubeConfigFor(controlPlane.kubeconfigPath);
  const client = new ResourceClient(new KubeHttp(kubeConfig));

  await t.test('an informer sees ConfigMaps created, updated and deleted', async (st) => {
    await createNamespace(client, 'rt-informer');
    const { informer, seen } = recordingInformer(client, 'rt-informer');
    informer.start();
    st.after(() => informer.stop());
    await informer.waitForSync();
    await client.create(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one', namespace: 'rt-informer' }, data: { v: '1' } });
    await client.mergePatch(configMaps, { namespace: 'rt-informer', name: 'one' }, { data: { v: '2' } });
    await client.delete(configMaps, { namespace: 'rt-informer', name: 'one' });
    await waitFor('three events', () => seen.length >= 3);
    assert.deepEqual(seen, ['added one {"v":"1"}', 'modified one {"v":"2"}', 'deleted one {"v":"2"}']);
    assert.equal(informer.get('one', 'rt-informer'), undefined);
  });

  await t.test('the cache serves reads by namespace and labels', async (st) => {
    await createNamespace(client, 'rt-cache');
    for (const [name, app] of [['a', 'checkout'], ['b', 'cart'], ['c', 'checkout']] as const) {
      await client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'rt-cache', labels: { app } } }, { fieldManager: 'runtime-test' });
    }
    const informer = new Informer<KubeObject>(kubeListWatch(client, configMaps), { logger, resyncPeriodMs: 0 });
    informer.start();
    st.after(() => informer.stop());
    await informer.waitForSync();
    const names = informer.list({ namespace: 'rt-cache', labelSelector: { matchLabels: { app: 'checkout' } } }).map((o) => o.metadata?.name);
    assert.deepEqual(names.sort(), ['a', 'c']);
    assert.equal(informer.get('b', 'rt-cache')?.kind, 'ConfigMap', 'list items get their kind back');
  });

  await t.test('a watch whose connection drops resumes and misses nothing', async (st) => {
    await createNamespace(client, 'rt-resume');
    const proxy = await startCuttableProxy(new URL(controlPlane.server));
    st.after(() => proxy.close());
    const viaProxy = new ResourceClient(new KubeHttp(kubeConfigFor(controlPlane.kubeconfigPath, proxy.url)));
    const { informer, seen } = recordingInformer(viaProxy, 'rt-resume');
    informer.start();
    st.after(() => informer.stop());
    await informer.waitForSync();
    await client.create(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before', namespace: 'rt-resume' } });
    await waitFor('the first event', () => seen.length === 1);
    const connectionsBefore = proxy.accepted();
    proxy.cutAll();
    // Changes made while the watch is down must still arrive.
    await client.create(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'during', namespace: 'rt-resume' } });
    await client.delete(configMaps, { namespace: 'rt-resume', name: 'before' });
    await waitFor('events after the cut', () => seen.length >= 3);
    assert.deepEqual(seen, ['added before {}', 'added during {}', 'deleted before {}']);
    assert.ok(proxy.accepted() > connectionsBefore, 'the informer reconnected');
  });

  await t.test('server-side apply: a no-op re-apply leaves resourceVersion alone', async () => {
    await createNamespace(client, 'rt-apply');
    const desired = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: 'rt-apply', labels: { owner: 'loupe' } }, data: { a: '1' } };
    const first = await client.apply(desired, { fieldManager: 'loupe-test' });
    const again = await client.apply(desired, { fieldManager: 'loupe-test' });
    assert.equal(again.metadata?.resourceVersion, first.metadata?.resourceVersion);
    const changed = await client.apply({ ...desired, data: { a: '2' } }, { fieldManager: 'loupe-test' });
    assert.notEqual(changed.metadata?.resourceVersion, first.metadata?.resourceVersion);
    assert.deepEqual((changed as { data?: unknown }).data, { a: '2' });
    assert.equal(await client.delete(configMaps, { namespace: 'rt-apply', name: 'applied' }), true);
    assert.equal(await client.delete(configMaps, { namespace: 'rt-apply', name: 'applied' }), false, 'deleting a missing object is not an error');
  });

  await t.test('events are recorded once and then counted', async () => {
    await createNamespace(client, 'rt-events');
    const subject = await client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'subject', namespace: 'rt-events' } }, { fieldManager: 'runtime-test' });
    const recorder = new EventRecorder(client, { reportingController: 'loupe.dev/runtime-test', reportingInstance: 'test-1', logger });
    await recorder.record(subject, 'Warning', 'Flaky', 'something went wrong');
    await recorder.record(subject, 'Warning', 'Flaky', 'something went wrong');
    await recorder.record(subject, 'Normal', 'Fine', 'all good');
    const list = await client.list<KubeObject & { reason?: string; series?: { count: number }; regarding?: { uid?: string } }>(
      { group: 'events.k8s.io', version: 'v1', plural: 'events' },
      { namespace: 'rt-events' },
    );
    const about = list.items.filter((event) => event.regarding?.uid === subject.metadata?.uid);
    assert.deepEqual(about.map((event) => [event.reason, event.series?.count ?? 1]).sort(), [
      ['Fine', 1],
      ['Flaky', 2],
    ]);
  });

  await t.test('two runtimes contend for one Lease: one leads, and the other takes over when it stops', async (st) => {
    await createNamespace(client, 'rt-lease');
    const timing = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };
    const electors = ['a', 'b'].map(
      (identity) => new LeaderElector({ identity, store: new KubeLeaseStore(client, 'rt-lease', 'runtime-test'), logger, ...timing }),
    );
    electors.forEach((elector) => elector.start());
    st.after(() => Promise.all(electors.map((elector) => elector.stop())));
    const leader = await waitFor('a leader', () => electors.find((elector) => elector.isLeader));
    const follower = electors.find((elector) => elector !== leader)!;
    // Several renewals later there is still exactly one leader.
    for (let i = 0; i < 10; i++) {
      assert.equal(electors.filter((elector) => elector.isLeader).length, 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const lease = await client.get<KubeObject & { spec?: { holderIdentity?: string } }>(leases, { namespace: 'rt-lease', name: 'runtime-test' });
    assert.equal(lease?.spec?.holderIdentity, leader.identity);
    await leader.stop();
    await waitFor('the follower to take over', () => follower.isLeader, 15_000);

    // Someone else takes the Lease (as after a network partition): the holder must notice and step down.
    const taken = await client.get<KubeObject & { spec?: Record<string, unknown> }>(leases, { namespace: 'rt-lease', name: 'runtime-test' });
    await client.replace(leases, { ...taken, spec: { ...taken?.spec, holderIdentity: 'intruder', leaseDurationSeconds: 3600 } });
    await waitFor('the old holder to step down', () => !follower.isLeader, 15_000);
  });

  await t.test('Operator: finalizers, status and delete through watchResource, reconciling only while leading', async (st) => {
    await installWidgetCrd(client);
    await createNamespace(client, 'rt-operator');
    const operators = ['op-a', 'op-b'].map((identity) => new WidgetOperator(kubeConfig, identity));
    await Promise.all(operators.map((operator) => operator.start()));
    st.after(() => Promise.all(operators.map((operator) => operator.stop())));
    const leader = await waitFor('a leading operator', () => operators.find((operator) => operator.isLeader));
    const follower = operators.find((operator) => operator !== leader)!;

    await client.create(widgets, { apiVersion: `${widgets.group}/v1`, kind: 'Widget', metadata: { name: 'w1', namespace: 'rt-operator' }, spec: { size: 3 } });
    const reconciled = await waitFor('status written by the leader', async () => {
      const widget = await client.get<KubeObject & { status?: { observedSize?: number; by?: string } }>(widgets, { namespace: 'rt-operator', name: 'w1' });
      return widget?.status?.observedSize === 3 ? widget : undefined;
    });
    assert.equal(reconciled.status?.by, leader.identity);
    assert.deepEqual(reconciled.metadata?.finalizers, ['runtime-test.loupe.dev/cleanup']);
    assert.equal(follower.handled.length, 0, 'a runtime that does not lead does not reconcile');

    await client.delete(widgets, { namespace: 'rt-operator', name: 'w1' });
    await waitFor('the object to be gone', async () => (await client.get(widgets, { namespace: 'rt-operator', name: 'w1' })) === undefined);
    assert.deepEqual(leader.cleanedUp, ['rt-operator/w1']);
    await waitFor('the deleted event', () => leader.handled.includes('deleted w1'));

    await leader.stop();
    await waitFor('the other operator to lead', () => follower.isLeader, 15_000);
    await client.create(widgets, { apiVersion: `${widgets.group}/v1`, kind: 'Widget', metadata: { name: 'w2', namespace: 'rt-operator' }, spec: { size: 5 } });
    await waitFor('the new leader to reconcile', async () => {
      const widget = await client.get<KubeObject & { status?: { observedSize?: number; by?: string } }>(widgets, { namespace: 'rt-operator', name: 'w2' });
      return widget?.status?.observedSize === 5 && widget.status.by === follower.identity;
    });
  });
});

class WidgetOperator extends Operator {
  readonly handled: string[] = [];
  readonly cleanedUp: string[] = [];

  constructor(kubeConfig: KubeConfig, identity: string) {
    super({
      name: 'runtime-test',
      kubeConfig,
      identity,
      logger,
      leaderElection: { namespace: 'rt-operator', leaseName: 'widget-operator', leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 },
      drainTimeoutMs: 5_000,
    });
  }

  protected async init(): Promise<void> {
    await this.watchResource(widgets.group, widgets.version, widgets.plural, (event) => this.onWidget(event), 'rt-operator');
  }

  private async onWidget(event: ResourceEvent): Promise<void> {
    this.handled.push(`${event.type} ${event.meta.name}`);
    const consumed = await this.handleResourceFinalizer(event, 'runtime-test.loupe.dev/cleanup', async (deleting) => {
      this.cleanedUp.push(`${deleting.meta.namespace}/${deleting.meta.name}`);
    });
    if (consumed || event.type === 'deleted') return;
    const size = (event.object as { spec?: { size?: number } }).spec?.size;
    await this.patchResourceStatus(event.meta, { observedSize: size, by: this.identity });
  }
}

async function installWidgetCrd(client: ResourceClient): Promise<void> {
  await client.apply(
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${widgets.plural}.${widgets.group}` },
      spec: {
        group: widgets.group,
        scope: 'Namespaced',
        names: { plural: widgets.plural, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { size: { type: 'integer' } } },
                  status: { type: 'object', properties: { observedSize: { type: 'integer' }, by: { type: 'string' } } },
                },
              },
            },
          },
        ],
      },
    },
    { fieldManager: 'runtime-test' },
  );
  await waitFor('the Widget CRD to be served', async () => {
    try {
      await client.list(widgets);
      return true;
    } catch {
      return false;
    }
  });
}
