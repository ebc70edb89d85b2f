'use strict';
// extension.js against stand-ins for the `vscode` API and the language client, which
// only exist inside VS Code: it starts `agentc lsp` for .agent files, restarts it when
// `agentc.path` changes, and says what to do when the program cannot be started.

const test = require('node:test');
const assert = require('node:assert');
const Module = require('module');

function fakes({ path, startFails } = {}) {
  const calls = { clients: [], errors: [], commands: {}, configListeners: [], settingsOpened: [] };
  const vscode = {
    workspace: {
      workspaceFolders: [{ uri: { fsPath: '/work/shop' } }],
      getConfiguration: (section) => ({ get: (key) => (section === 'agentc' && key === 'path' ? path : undefined) }),
      createFileSystemWatcher: (glob) => ({ glob }),
      onDidChangeConfiguration: (listener) => {
        calls.configListeners.push(listener);
        return { dispose() {} };
      },
    },
    window: {
      showErrorMessage: async (message, ...items) => {
        calls.errors.push({ message, items });
        return items[0];
      },
    },
    commands: {
      registerCommand: (name, run) => {
        calls.commands[name] = run;
        return { dispose() {} };
      },
      executeCommand: (...args) => calls.settingsOpened.push(args),
    },
  };
  class LanguageClient {
    constructor(id, name, server, options) {
      Object.assign(this, { id, name, server, options, started: false, stopped: false });
      calls.clients.push(this);
    }
    async start() {
      if (startFails) throw new Error('spawn agentc ENOENT');
      this.started = true;
    }
    async stop() {
      this.stopped = true;
    }
  }
  return { calls, modules: { vscode, 'vscode-languageclient/node': { LanguageClient } } };
}

/** Loads a fresh extension.js whose `require` of VS Code's modules gets the fakes. */
function load(modules) {
  const original = Module._load;
  Module._load = function (request, ...rest) {
    return request in modules ? modules[request] : original.call(this, request, ...rest);
  };
  try {
    delete require.cache[require.resolve('../extension')];
    return require('../extension');
  } finally {
    Module._load = original;
  }
}

const context = () => ({ subscriptions: [] });

test('activation starts `agentc lsp` for .agent documents', async () => {
  const { calls, modules } = fakes();
  const extension = load(modules);
  await extension.activate(context());
  assert.strictEqual(calls.clients.length, 1);
  const client = calls.clients[0];
  assert.strictEqual(client.id, 'agentc');
  assert.deepStrictEqual(client.server.run, { command: 'agentc', args: ['lsp'], options: { cwd: '/work/shop' } });
  assert.deepStrictEqual(client.server.debug, client.server.run);
  assert.deepStrictEqual(
    client.options.documentSelector.map((s) => s.language),
    ['agent', 'agent'],
  );
  assert.strictEqual(client.options.synchronize.fileEvents.glob, '**/*.agent');
  assert.ok(client.started);
  assert.deepStrictEqual(calls.errors, []);
  await extension.deactivate();
  assert.ok(client.stopped);
});

test('a relative agentc.path is the workspace build', async () => {
  const { calls, modules } = fakes({ path: './target/debug/agentc' });
  await load(modules).activate(context());
  assert.strictEqual(calls.clients[0].server.run.command, '/work/shop/target/debug/agentc');
});

test('changing agentc.path restarts the server; the command restarts it too', async () => {
  const { calls, modules } = fakes();
  await load(modules).activate(context());
  calls.configListeners[0]({ affectsConfiguration: (key) => key === 'editor.fontSize' });
  assert.strictEqual(calls.clients.length, 1);
  await calls.configListeners[0]({ affectsConfiguration: (key) => key === 'agentc.path' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.strictEqual(calls.clients.length, 2);
  assert.ok(calls.clients[0].stopped);
  assert.ok(calls.clients[1].started);
  await calls.commands['agentc.restartServer']();
  assert.strictEqual(calls.clients.length, 3);
  assert.ok(calls.clients[1].stopped);
});

test('a program that cannot start is reported with the way out', async () => {
  const { calls, modules } = fakes({ path: '/nowhere/agentc', startFails: true });
  const extension = load(modules);
  await extension.activate(context());
  assert.strictEqual(calls.errors.length, 1);
  assert.match(calls.errors[0].message, /Could not start `\/nowhere\/agentc lsp`: spawn agentc ENOENT/);
  assert.match(calls.errors[0].message, /agentc\.path/);
  assert.deepStrictEqual(calls.settingsOpened, [['workbench.action.openSettings', 'agentc.path']]);
  await extension.deactivate();
});
