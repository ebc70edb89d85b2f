# Sourced by .ci/run: Python packages the tests use as independent real servers, and the
# VS Code extension's npm tools.
# aiosmtpd: a real SMTP server for the smtp executor's tests (tests/support/smtp_server.py).
python3 -m pip install --quiet aiosmtpd
export AGENTC_REQUIRE_SMTP=1
# vscode-tmgrammar-test and @vscode/vsce, pinned by editors/vscode/package-lock.json, for
# tests/it/editors.rs (the grammar's scope tests and snapshots, `vsce package`).
npm ci --prefix editors/vscode --no-audit --no-fund --loglevel=error
export AGENTC_REQUIRE_NPM=1
