'use strict';
// Starts `agentc lsp` for .agent files: diagnostics, hover, completion, definition,
// references, rename, formatting and the rest come from the server.

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');
const { serverCommand } = require('./server');

/** @type {LanguageClient | undefined} */
let client;

function newClient(command, args, folder) {
  const server = { command, args, options: { cwd: folder } };
  return new LanguageClient(
    'agentc',
    'agentc language server',
    { run: server, debug: server },
    {
      documentSelector: [
        { scheme: 'file', language: 'agent' },
        { scheme: 'untitled', language: 'agent' },
      ],
      // Imported files the editor has not opened change on disk too (git checkout).
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.agent') },
    },
  );
}

async function start() {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const { command, args } = serverCommand(
    vscode.workspace.getConfiguration('agentc').get('path'),
    folder,
  );
  client = newClient(command, args, folder);
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    const choice = await vscode.window.showErrorMessage(
      `Could not start \`${command} ${args.join(' ')}\`: ${error.message ?? error}. ` +
        'Install agentc (`cargo install --path .` in its repository) or set `agentc.path`.',
      'Open settings',
    );
    if (choice === 'Open settings') {
      vscode.commands.executeCommand('workbench.action.openSettings', 'agentc.path');
    }
  }
}

async function restart() {
  const running = client;
  client = undefined;
  if (running) {
    await running.stop();
  }
  await start();
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('agentc.restartServer', restart),
    vscode.workspace.onDidChangeConfiguration((change) => {
      if (change.affectsConfiguration('agentc.path')) {
        restart();
      }
    }),
  );
  await start();
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
