# Run by .ci/run in the background: Python packages the tests use as independent real
# servers, and the VS Code extension's npm tools.
set -euo pipefail
cd "$(dirname "$0")/.."
# aiosmtpd: a real SMTP server for the smtp executor's tests (tests/support/smtp_server.py).
python3 -m pip install --quiet aiosmtpd
# vscode-tmgrammar-test and @vscode/vsce, pinned by editors/vscode/package-lock.json, for
# tests/it/editors.rs (the grammar's scope tests and snapshots, `vsce package`).
npm ci --prefix editors/vscode --no-audit --no-fund --loglevel=error
