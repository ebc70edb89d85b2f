# Sourced by .ci/run: Python packages the tests use as independent real servers.
# aiosmtpd: a real SMTP server for the smtp executor's tests (tests/support/smtp_server.py).
python3 -m pip install --quiet aiosmtpd
export AGENTC_REQUIRE_SMTP=1
