#!/usr/bin/env bash
# Install the pgvector extension into the local PostgreSQL and enable it in the test database.
#
# Idempotent. Network: Debian archive only (deb.debian.org).
#   1. If the extension is already installed for this server, do nothing but CREATE EXTENSION.
#   2. Else, if apt knows postgresql-<major>-pgvector (e.g. a PGDG or backports source), install it.
#   3. Else (Debian bookworm: pgvector is not packaged for PostgreSQL 15), fetch pgvector's source
#      package from Debian trixie with `apt-get source` (hash-checked against the signed Sources
#      index), through a private apt state directory that leaves the system's sources untouched,
#      and build it against postgresql-server-dev-<major>.
#
# Environment: PGVECTOR_PG_MAJOR (default: the running server's major version),
# PGVECTOR_DSN (default: postgresql://root@127.0.0.1:5432/test).
set -euo pipefail

DSN="${PGVECTOR_DSN:-postgresql://root@127.0.0.1:5432/test}"
MAJOR="${PGVECTOR_PG_MAJOR:-$(psql "$DSN" -Atc 'SHOW server_version_num' | cut -c1-2)}"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

extension_dir="/usr/share/postgresql/${MAJOR}/extension"

if [ ! -f "${extension_dir}/vector.control" ]; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    if apt-cache policy "postgresql-${MAJOR}-pgvector" | grep -q 'Candidate: [0-9]'; then
        $SUDO apt-get install -y -qq "postgresql-${MAJOR}-pgvector"
    else
        $SUDO apt-get install -y -qq "postgresql-server-dev-${MAJOR}" make gcc
        work="$(mktemp -d)"
        trap 'rm -rf "$work"' EXIT
        mkdir -p "$work/sources.d" "$work/lists/partial"
        cat > "$work/sources.d/trixie-src.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
        apt_opts=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$work/sources.d"
                  -o "Dir::State::Lists=$work/lists" -o "APT::Sandbox::User=root")
        apt-get "${apt_opts[@]}" update -qq
        (cd "$work" && apt-get "${apt_opts[@]}" --download-only source pgvector)
        tar -xzf "$work"/pgvector_*.orig.tar.gz -C "$work"
        src="$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -n1)"
        # OPTFLAGS="": portable code; with_llvm=no: no JIT bitcode (needs clang otherwise).
        make -C "$src" -s PG_CONFIG="/usr/lib/postgresql/${MAJOR}/bin/pg_config" OPTFLAGS="" with_llvm=no
        $SUDO make -C "$src" -s PG_CONFIG="/usr/lib/postgresql/${MAJOR}/bin/pg_config" OPTFLAGS="" with_llvm=no install
    fi
fi

PGOPTIONS="-c client_min_messages=warning" psql "$DSN" -v ON_ERROR_STOP=1 -qc 'CREATE EXTENSION IF NOT EXISTS vector'
psql "$DSN" -Atc "SELECT 'pgvector ' || extversion || ' enabled' FROM pg_extension WHERE extname = 'vector'"
