#!/usr/bin/env bash
# Make sure PostgreSQL, MariaDB and Redis answer on loopback; start any that is down.
# The start commands are the machine's own (see the env notes); idempotent.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
    local name=$1 port=$2
    for _ in $(seq 1 60); do
        if port_open "$port"; then echo "services: $name is up on :$port"; return 0; fi
        sleep 1
    done
    echo "services: $name did not come up on :$port" >&2
    return 1
}

if ! port_open 5432; then
    echo "services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
fi
if ! port_open 3306; then
    echo "services: starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi
if ! port_open 6379; then
    echo "services: starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
wait_port PostgreSQL 5432
wait_port MariaDB 3306
wait_port Redis 6379

# The test database exists on these machines; create it if a server was set up from scratch.
psql -h 127.0.0.1 -U root -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U root -d postgres -c "CREATE DATABASE test"
mysql -h 127.0.0.1 -uroot -e "CREATE DATABASE IF NOT EXISTS test CHARACTER SET utf8mb4"
