#!/usr/bin/env bash
# The SQL conversation stores (postgres, async_postgres, mysql, async_mysql, singlestore, supabase)
# test against the loopback PostgreSQL and MariaDB. Make sure both are running and answer queries
# (an open port is not enough: PostgreSQL refuses queries while it starts up), starting them if not.
# Idempotent; no network. The restart tests (pytest -m slow) also need pg_ctlcluster, mysqladmin
# and start-stop-daemon, which the same packages provide.
set -euo pipefail

pg_ready() { psql -h 127.0.0.1 -U root -d test -Atqc 'SELECT 1' >/dev/null 2>&1; }
mariadb_ready() { mysql -h 127.0.0.1 -uroot -e 'SELECT 1' test >/dev/null 2>&1; }

if ! pg_ready; then
    echo "setup-sql: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
fi
if ! mariadb_ready; then
    echo "setup-sql: starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi

for _ in $(seq 1 120); do
    if pg_ready && mariadb_ready; then
        echo "setup-sql: PostgreSQL and MariaDB answer queries"
        exit 0
    fi
    sleep 0.5
done
pg_ready || echo "setup-sql: PostgreSQL does not answer on 127.0.0.1:5432" >&2
mariadb_ready || echo "setup-sql: MariaDB does not answer on 127.0.0.1:3306" >&2
exit 1
