#!/usr/bin/env bash
# What the state backends' tests need besides the pip packages of the `test` extra (moto[server],
# gcp-storage-emulator, secantusdb) and the Redis that .ci/services.sh starts. Idempotent.
# Network: Debian archive only.
#
# The firestore tests run Google's Cloud Firestore emulator, a Java program. It ships in this
# machine image (Debian package google-cloud-cli-firestore-emulator, from Google's apt source,
# which cannot be reached from here); Java comes from Debian if it is missing. Without the
# emulator jar this script only warns: the firestore tests then fail under CI, naming what is missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

if ! command -v java >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless
fi
jar="${PRAISONAI_TEST_FIRESTORE_EMULATOR_JAR:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar}"
if [ -f "$jar" ]; then
    echo "firestore emulator: $jar ($(java -version 2>&1 | head -n1))"
else
    echo "WARNING: no Cloud Firestore emulator at $jar; the firestore tests will fail under CI" >&2
fi
