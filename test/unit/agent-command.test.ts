import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAgentOptions } from '../../agent/agent-command.js';

describe('loupe agent options', () => {
  it('takes the node name from --node-name, else from NODE_NAME (the downward API)', () => {
    assert.deepEqual(parseAgentOptions(['--node-name', 'node-a', '--kubeconfig', '/k'], { NODE_NAME: 'other' }), { nodeName: 'node-a', kubeconfig: '/k' });
    assert.deepEqual(parseAgentOptions([], { NODE_NAME: 'node-b' }), { nodeName: 'node-b' });
  });

  it('says what is missing or wrong in one line', () => {
    assert.match(parseAgentOptions([], {}) as string, /^no node name: pass --node-name or set NODE_NAME/);
    assert.match(parseAgentOptions(['--nodes', 'x'], { NODE_NAME: 'a' }) as string, /Unknown option '--nodes'/);
    assert.equal(parseAgentOptions(['--help'], {}), 'help');
  });
});
