# Sourced by .ci/run: installs PostgreSQL if needed, starts a throw-away cluster on
# 127.0.0.1:54329 (or AGENTC_CI_POSTGRES_PORT, so a second run on the same machine does not
# collide) owned by the `postgres` user, and sets AGENTC_TEST_POSTGRES_URL.
pg_port=${AGENTC_CI_POSTGRES_PORT:-54329}
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
pg_bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
pg_dir=$(mktemp -d /tmp/agentc-pg.XXXXXX)
chown postgres "$pg_dir"
su postgres -c "$pg_bin/initdb -D $pg_dir/data -U postgres --auth=trust -E UTF8" >/dev/null
su postgres -c "$pg_bin/pg_ctl -D $pg_dir/data -o '-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1' -l $pg_dir/log -w start" >/dev/null
pg_stop() { su postgres -c "$pg_bin/pg_ctl -D $pg_dir/data -m immediate stop" >/dev/null 2>&1 || true; }
trap pg_stop EXIT
AGENTC_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
