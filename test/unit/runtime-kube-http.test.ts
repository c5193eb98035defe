// KubeHttp's watch stream against a local HTTP server that speaks the API
// server's watch protocol: events split across chunks, a refused watch, an
// idle connection, and abort().
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError, isGone } from '../../kube/api-error.js';
import { KubeHttp, watchIdleTimeoutMs } from '../../kube/kube-http.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

describe('KubeHttp.watch', () => {
  let handler: Handler = (_req, res) => res.end();
  const server = http.createServer((req, res) => handler(req, res));
  let kube: KubeHttp;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const config = new KubeConfig();
    // client-node 2.x refuses a plain-HTTP server unless TLS verification is explicitly off.
    config.loadFromOptions({
      clusters: [{ name: 'local', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'me', token: 'secret' }],
      contexts: [{ name: 'local', cluster: 'local', user: 'me' }],
      currentContext: 'local',
    });
    kube = new KubeHttp(config);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  function watch(query: Record<string, string> = {}, idleTimeoutMs?: number) {
    const events: Array<[string, unknown]> = [];
    const closed = new Promise<unknown>((resolve) => {
      void kube.watch('/api/v1/pods', query, (type, object) => events.push([type, object]), resolve, idleTimeoutMs);
    });
    return { events, closed };
  }

  it('delivers each event line, however the chunks split them, and closes cleanly when the server ends the watch', async () => {
    let seen: http.IncomingMessage | undefined;
    handler = (req, res) => {
      seen = req;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MODI');
      setTimeout(() => {
        res.write('FIED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}\n\n');
        res.end('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"3"}}}\n');
      }, 20);
    };
    const { events, closed } = watch({ resourceVersion: '1' });
    assert.equal(await closed, undefined);
    assert.deepEqual(events, [
      ['ADDED', { metadata: { name: 'a' } }],
      ['MODIFIED', { metadata: { name: 'a', resourceVersion: '2' } }],
      ['BOOKMARK', { metadata: { resourceVersion: '3' } }],
    ]);
    const url = new URL(seen?.url ?? '', 'http://x');
    assert.equal(url.searchParams.get('watch'), 'true');
    assert.equal(url.searchParams.get('resourceVersion'), '1');
    assert.equal(seen?.headers.authorization, 'Bearer secret');
  });

  it('reports a refused watch as an ApiError with the Status reason (410 Gone is isGone)', async () => {
    handler = (_req, res) => {
      res.writeHead(410, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'Expired', message: 'too old resource version: 1 (5)' }));
    };
    const error = await watch().closed;
    assert.ok(error instanceof ApiError);
    assert.ok(isGone(error));
    assert.match(String(error), /410 Expired: too old resource version/);
  });

  it('gives up on a connection that sends nothing for the idle timeout, with an error', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.flushHeaders();
    };
    const error = await watch({}, 100).closed;
    assert.match(String(error), /nothing received for 100ms/);
  });

  it('by default waits for a silent watch until a little past its timeoutSeconds (client-node 2.x Watch gives up after 30 s)', () => {
    assert.equal(watchIdleTimeoutMs({ timeoutSeconds: 450 }), 480_000);
    assert.equal(watchIdleTimeoutMs({}), 3_630_000);
  });

  it('does not call onClose after abort()', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('{"type":"ADDED","object":{}}\n');
    };
    const events: string[] = [];
    let closes = 0;
    const handle = await kube.watch('/api/v1/pods', {}, (type) => events.push(type), () => closes++);
    while (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    handle.abort();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(events, ['ADDED']);
    assert.equal(closes, 0);
  });
});
