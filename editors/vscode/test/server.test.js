'use strict';
// The `agentc.path` setting gives the program started as `agentc lsp`.

const test = require('node:test');
const assert = require('node:assert');
const path = require('path');
const { serverCommand } = require('../server');

test('without a setting, agentc is looked up on PATH', () => {
  assert.deepStrictEqual(serverCommand(undefined, '/work/shop'), { command: 'agentc', args: ['lsp'] });
  assert.deepStrictEqual(serverCommand('  ', '/work/shop'), { command: 'agentc', args: ['lsp'] });
});

test('a bare name stays a name for PATH', () => {
  assert.strictEqual(serverCommand('agentc-nightly', '/work/shop').command, 'agentc-nightly');
});

test('an absolute path is used as it is', () => {
  assert.strictEqual(serverCommand('/opt/agentc/bin/agentc', '/work/shop').command, '/opt/agentc/bin/agentc');
});

test('a relative path is read from the workspace folder', () => {
  assert.strictEqual(
    serverCommand('./target/debug/agentc', '/work/shop').command,
    path.resolve('/work/shop', 'target/debug/agentc'),
  );
  assert.strictEqual(
    serverCommand('target/debug/agentc', '/work/shop').command,
    path.resolve('/work/shop', 'target/debug/agentc'),
  );
});

test('a relative path without a folder is left to the system', () => {
  assert.strictEqual(serverCommand('./agentc', undefined).command, './agentc');
});
