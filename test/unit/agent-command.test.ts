import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAgentOptions } from '../../agent/agent-command.js';

describe('loupe agent options', () => {
  it('takes the node name from --node-name, else from NODE_NAME (the downward API)', () => {
    assert.deepEqual(parseAgentOptions(['--node-name', 'node-a', '--kubeconfig', '/k'], { NODE_NAME: 'other' }), { nodeName: 'node-a', kubeconfig: '/k', profilePort: 9464 });
    assert.deepEqual(parseAgentOptions([], { NODE_NAME: 'node-b' }), { nodeName: 'node-b', profilePort: 9464 });
  });

  it('serves profile downloads on --profile-port, off with 0', () => {
    assert.deepEqual(parseAgentOptions(['--profile-port', '0'], { NODE_NAME: 'a' }), { nodeName: 'a', profilePort: 0 });
    assert.deepEqual(parseAgentOptions(['--profile-port', '8090'], { NODE_NAME: 'a' }), { nodeName: 'a', profilePort: 8090 });
    assert.equal(parseAgentOptions(['--profile-port', 'http'], { NODE_NAME: 'a' }), '--profile-port "http": expected a port number from 0 to 65535');
  });

  it('says what is missing or wrong in one line', () => {
    assert.match(parseAgentOptions([], {}) as string, /^no node name: pass --node-name or set NODE_NAME/);
    assert.match(parseAgentOptions(['--nodes', 'x'], { NODE_NAME: 'a' }) as string, /Unknown option '--nodes'/);
    assert.equal(parseAgentOptions(['--help'], {}), 'help');
  });
});
