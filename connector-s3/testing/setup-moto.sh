#!/usr/bin/env bash
# Create the Python virtualenv with the pinned moto server the connector-s3
# tests and benchmark run against, unless it is already there and complete.
#
#   bash connector-s3/testing/setup-moto.sh [VENV_DIR]
#
# VENV_DIR defaults to $CONNECTOR_S3_VENV, then `.venv` at the workspace root.
# The venv is built in a temporary folder and renamed into place, so two
# processes running this at once cannot leave a half-installed venv behind.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${1:-${CONNECTOR_S3_VENV:-$root/.venv}}"
python="${PYTHON:-python3}"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import moto.server, boto3" 2>/dev/null; then
    exit 0
fi
tmp="$venv.tmp-$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp"
"$tmp/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$here/requirements.txt"
"$tmp/bin/python" -c "import moto.server, boto3"
# Another process may have finished first; either venv is complete.
if [ ! -e "$venv" ] || ! "$venv/bin/python" -c "import moto.server" 2>/dev/null; then
    rm -rf "$venv"
    mv "$tmp" "$venv"
fi
echo "moto server ready in $venv" >&2
