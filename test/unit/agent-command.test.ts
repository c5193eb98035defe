import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAgentOptions } from '../../cli/agent-command.js';

describe('loupe agent options', () => {
  it('takes the node name from --node-name, else from NODE_NAME (the downward API)', () => {
    assert.deepEqual(parseAgentOptions(['--node-name', 'node-a', '--kubeconfig', '/k'], { NODE_NAME: 'other' }), { nodeName: 'node-a', namespace: 'loupe-system', kubeconfig: '/k', profilePort: 9464 });
    assert.deepEqual(parseAgentOptions([], { NODE_NAME: 'node-b' }), { nodeName: 'node-b', namespace: 'loupe-system', profilePort: 9464 });
  });

  it('serves profile downloads on --profile-port, off with 0', () => {
    assert.deepEqual(parseAgentOptions(['--profile-port', '0'], { NODE_NAME: 'a' }), { nodeName: 'a', namespace: 'loupe-system', profilePort: 0 });
    assert.deepEqual(parseAgentOptions(['--profile-port', '8090'], { NODE_NAME: 'a' }), { nodeName: 'a', namespace: 'loupe-system', profilePort: 8090 });
    assert.equal(parseAgentOptions(['--profile-port', 'http'], { NODE_NAME: 'a' }), '--profile-port "http": expected a port number from 0 to 65535');
  });

  it('takes Loupe\'s namespace, where the operator copies OTLP Secrets, from --namespace, else POD_NAMESPACE', () => {
    assert.equal((parseAgentOptions(['--namespace', 'obs'], { NODE_NAME: 'a', POD_NAMESPACE: 'x' }) as { namespace: string }).namespace, 'obs');
    assert.equal((parseAgentOptions([], { NODE_NAME: 'a', POD_NAMESPACE: 'x' }) as { namespace: string }).namespace, 'x');
  });

  it('says what is missing or wrong in one line', () => {
    assert.match(parseAgentOptions([], {}) as string, /^no node name: pass --node-name or set NODE_NAME/);
    assert.match(parseAgentOptions(['--nodes', 'x'], { NODE_NAME: 'a' }) as string, /Unknown option '--nodes'/);
    assert.equal(parseAgentOptions(['--help'], {}), 'help');
  });
});
