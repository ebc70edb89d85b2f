'use strict';
// Which program the extension starts, from the `agentc.path` setting. Kept apart from
// extension.js, which needs VS Code, so that `npm test` can check it with node alone.

const path = require('path');

/**
 * The command that starts the language server.
 * @param {string | undefined} setting the `agentc.path` setting
 * @param {string | undefined} folder the first workspace folder's path, if any
 * @returns {{ command: string, args: string[] }}
 */
function serverCommand(setting, folder) {
  const configured = (setting || '').trim() || 'agentc';
  // A bare name is looked up on PATH by the system; a relative path such as
  // ./target/debug/agentc means the project's own build, so it is read from the folder.
  const isBareName = !configured.includes('/') && !configured.includes('\\');
  const command =
    isBareName || path.isAbsolute(configured) || !folder
      ? configured
      : path.resolve(folder, configured);
  return { command, args: ['lsp'] };
}

module.exports = { serverCommand };
