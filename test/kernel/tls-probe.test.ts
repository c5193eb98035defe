// The tls probe on the live kernel, through the ProbeManager as the agent runs
// it: real HTTPS servers and real curl clients in kubelet-shaped pods, with
// the ground truth from curl itself (statuses, connections). Every request is
// counted exactly, as http with tls, on the client (libcurl: SSL_read and
// SSL_write) and on the server (Python's ssl: SSL_read_ex and SSL_write_ex);
// an untargeted pod is never seen; the plaintext http probe, loaded beside
// it, does not take the ciphertext for requests; libssl users that start
// after the profile are picked up, each libssl file attached once; and
// nothing stays attached once the manager closes.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ProbeManager } from '../../engine/probe-manager.js';
import { probeObjectOpener } from '../../engine/probe-objects.js';
import { readProcMaps } from '../../engine/symbolize/proc-maps.js';
import { http } from '../../probes/http/http.js';
import type { HttpResult } from '../../probes/http/http-result.js';
import { libsslPaths } from '../../probes/tls/libssl-discovery.js';
import { SSL_FUNCTIONS } from '../../probes/tls/ssl-uprobes.js';
import { tls } from '../../probes/tls/tls.js';
import { BpfObject } from '../../native/index.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { bpfHandlesOf, remainingAfterRelease } from '../support/bpf-handles.js';
import { curl, PYTHON, selfSignedCertificate, startHttpServer, startInPod } from '../support/app-workloads.js';
import { requireKernel } from '../support/privileged.js';

/** An entry and a return uprobe per function, for one libssl file. */
const LINKS_PER_LIBRARY = 2 * SSL_FUNCTIONS.length;

const linkCount = () => bpfHandlesOf(process.pid).linkIds.length;

/** Requests per series key, e.g. `client GET 200 0 /ok/{id}` → 8. */
function bySeries(r: HttpResult | undefined): Record<string, number> {
  return Object.fromEntries((r?.topSeries ?? []).map((e) => [e.key, e.count]));
}

test('tls probe: HTTPS through libssl counts as http with tls, exactly, on both sides', async (t) => {
  if (!requireKernel(t)) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'loupe-tls-'));
  const { cert, key } = selfSignedCertificate(dir);
  const server = new LocalPod();
  const client = new LocalPod();
  const untargeted = new LocalPod();
  const manager = new ProbeManager({
    catalog: { tls: tls.kernel, http: http.kernel },
    openObject: probeObjectOpener((file) => BpfObject.open(file)),
  });
  try {
    assert.deepEqual(bpfHandlesOf(process.pid), { progIds: [], linkIds: [] }, 'the test starts with nothing loaded');
    const state = await manager.register('p', { probes: [{ name: 'tls' }, { name: 'http' }], targets: [server.cgroupId, client.cgroupId] });
    assert.deepEqual(state.failed, []);
    const base = linkCount(); // the http probe's; no pod runs anything yet, so tls has none

    // Started after the profile: found at the next collect.
    const https = await startHttpServer(server, [cert, key]);
    const systemLibssl = libsslPaths(readProcMaps(https.pid) ?? []);
    assert.equal(systemLibssl.length, 1, 'the server maps one libssl');
    manager.collect();
    assert.equal(linkCount(), base + LINKS_PER_LIBRARY, 'uprobes on that libssl');
    // Another pod's process maps the same file: nothing more to attach.
    await startInPod(client, [PYTHON, '-c', 'import os, ssl, time; print("ready", os.getpid(), flush=True); time.sleep(600)'], /ready (\d+)/);
    manager.collect();
    assert.equal(linkCount(), base + LINKS_PER_LIBRARY, 'one libssl file, however many pods map it, is attached once');

    const tlsBase = `https://127.0.0.1:${https.port}`;
    for (let i = 1; i <= 5; i++) assert.deepEqual(await curl(client, tlsBase, [`/ok/${i}`]), { statuses: [200], connects: 1 });
    assert.deepEqual(await curl(client, tlsBase, ['/ok/11', '/ok/12', '/missing', '/ok/13']), { statuses: [200, 200, 404, 200], connects: 1 }, 'kept alive');
    assert.deepEqual(await curl(untargeted, tlsBase, ['/ok/21', '/missing']), { statuses: [200, 404], connects: 1 });
    const plain = await startHttpServer(server, []);
    assert.deepEqual(await curl(client, `http://127.0.0.1:${plain.port}`, ['/ok/31', '/missing']), { statuses: [200, 404], connects: 1 });
    manager.collect();

    const results = manager.results('p');
    const clientTls = results.tls?.get(client.cgroupId);
    assert.deepEqual(bySeries(clientTls), { 'client GET 200 0 /ok/{id}': 8, 'client GET 404 0 /missing': 1 });
    assert.equal(clientTls?.clientRequests, 9);
    assert.equal(clientTls?.clientErrors, 1, 'a client failed on its 404');
    assert.equal(clientTls?.clientLatencyNs.count, 9);
    assert.equal(clientTls?.serverRequests, 0);
    const serverTls = results.tls?.get(server.cgroupId);
    // The server is targeted, so it counts the untargeted pod's requests too.
    assert.deepEqual(bySeries(serverTls), { 'server GET 200 0 /ok/{id}': 9, 'server GET 404 0 /missing': 2 });
    assert.equal(serverTls?.serverRequests, 11);
    assert.equal(serverTls?.serverErrors, 0, 'a 404 is no server error');
    assert.equal(serverTls?.clientRequests, 0);
    assert.equal(results.tls?.has(untargeted.cgroupId), false, 'the untargeted pod is never seen');
    assert.equal(serverTls?.unmatchedResponses, 0);

    // The plaintext probe saw the sockets of the same connections: only the plain HTTP requests are requests to it.
    assert.deepEqual(bySeries(results.http?.get(client.cgroupId)), {
      [`client GET 200 ${plain.port} /ok/{id}`]: 1,
      [`client GET 404 ${plain.port} /missing`]: 1,
    });
    assert.equal(results.http?.get(server.cgroupId)?.serverRequests, 2);
    assert.equal(results.http?.get(client.cgroupId)?.unmatchedResponses, 0);

    // OpenTelemetry: the http metrics, with url.scheme https.
    const schemes = tls.instruments(serverTls!).flatMap((i) => (i.kind === 'histogram' && 'points' in i ? i.points : []).map((p) => p.attributes?.['url.scheme']));
    assert.ok(schemes.length > 0 && schemes.every((s) => s === 'https'), `schemes ${schemes}`);

    // A process that starts later with its own libssl file (another image's, here a copy) gets uprobes of its own.
    const lib = path.join(dir, 'lib');
    mkdirSync(lib);
    copyFileSync(path.join(`/proc/${https.pid}/root`, systemLibssl[0]!), path.join(lib, path.basename(systemLibssl[0]!)));
    const copied = await startHttpServer(server, [cert, key], [`LD_LIBRARY_PATH=${lib}`]);
    assert.deepEqual(libsslPaths(readProcMaps(copied.pid) ?? []), [path.join(lib, path.basename(systemLibssl[0]!))]);
    manager.collect();
    assert.equal(linkCount(), base + 2 * LINKS_PER_LIBRARY);
    assert.deepEqual(await curl(client, `https://127.0.0.1:${copied.port}`, ['/ok/41', '/ok/42']), { statuses: [200, 200], connects: 1 });
    manager.collect();
    assert.equal(manager.results('p').tls?.get(server.cgroupId)?.serverRequests, 13, 'its two requests, through the copy');
    assert.equal(manager.results('p').tls?.get(client.cgroupId)?.clientRequests, 11);

    const held = bpfHandlesOf(process.pid);
    manager.close();
    assert.deepEqual(bpfHandlesOf(process.pid), { progIds: [], linkIds: [] }, 'closing detaches every uprobe');
    assert.deepEqual(await remainingAfterRelease(held), { progIds: [], linkIds: [] }, 'and the kernel has freed them');
  } finally {
    manager.close();
    for (const pod of [server, client, untargeted]) {
      await pod.killAll().catch(() => undefined);
      pod.remove();
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tls probe: a client against openssl s_server -WWW is counted exactly; s_server itself reads through BIO_f_ssl, which the probe does not see', async (t) => {
  if (!requireKernel(t)) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'loupe-tls-'));
  selfSignedCertificate(dir); // cert.pem and key.pem, which s_server reads from its directory
  writeFileSync(path.join(dir, 'hello.txt'), 'hello\n');
  const server = new LocalPod();
  const client = new LocalPod();
  const manager = new ProbeManager({ catalog: { tls: tls.kernel }, openObject: probeObjectOpener((file) => BpfObject.open(file)) });
  try {
    await manager.register('p', { probes: [{ name: 'tls' }], targets: [server.cgroupId, client.cgroupId] });
    const script = `cd '${dir}' && exec openssl s_server -WWW -accept 127.0.0.1:0 -cert cert.pem -key key.pem`;
    const { values } = await startInPod(server, ['/bin/sh', '-c', script], /ACCEPT 127\.0\.0\.1:(\d+)/);
    manager.collect();
    // s_server -WWW answers HTTP/1.0 and closes: one connection per request.
    assert.deepEqual(await curl(client, `https://127.0.0.1:${values[0]}`, ['/hello.txt', '/hello.txt', '/hello.txt']), { statuses: [200, 200, 200], connects: 3 });
    manager.collect();
    assert.deepEqual(bySeries(manager.results('p').tls?.get(client.cgroupId)), { 'client GET 200 0 /hello.txt': 3 });
    // OpenSSL's SSL BIO calls ssl_read_internal/ssl_write_internal, not the exported SSL_read*/SSL_write*.
    assert.equal(manager.results('p').tls?.has(server.cgroupId), false);
  } finally {
    manager.close();
    for (const pod of [server, client]) {
      await pod.killAll().catch(() => undefined);
      pod.remove();
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
