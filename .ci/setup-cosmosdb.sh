#!/usr/bin/env bash
# What the cosmosdb knowledge backend's tests need: the npm package @vercel/cosmosdb-server, a
# third-party reimplementation of the Azure Cosmos DB for NoSQL REST API in Node.js (no Microsoft
# code; Microsoft's emulators are Windows and Docker images). tests/support/emulators.py starts it
# once per test session through tests/support/cosmosdb_server.js, on HTTPS on a free loopback port.
#
# Installed once into a cache outside the repository (PRAISONAI_TEST_COSMOSDB_SERVER_DIR, default
# ~/.cache/praisonai-persistence/cosmosdb-server; about 60 MB). Idempotent.
# Network: the npm registry (and the Debian archive for nodejs/npm if they are missing).
set -euo pipefail

COSMOSDB_SERVER_PACKAGE="@vercel/cosmosdb-server@1.0.1"
target="${PRAISONAI_TEST_COSMOSDB_SERVER_DIR:-$HOME/.cache/praisonai-persistence/cosmosdb-server}"
installed="$target/node_modules/@vercel/cosmosdb-server/package.json"

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi

version() { node -p "require(process.argv[1]).version" "$installed" 2>/dev/null || true; }
if [ "$(version)" != "${COSMOSDB_SERVER_PACKAGE##*@}" ]; then
    mkdir -p "$target"
    npm install --prefix "$target" --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
        "$COSMOSDB_SERVER_PACKAGE"
fi
if [ "$(version)" != "${COSMOSDB_SERVER_PACKAGE##*@}" ]; then
    echo "ERROR: npm did not install $COSMOSDB_SERVER_PACKAGE into $target" >&2
    exit 1
fi
# The package requires Node.js 20 or later (its engines field).
echo "cosmosdb-server: $COSMOSDB_SERVER_PACKAGE in $target (node $(node --version))"
