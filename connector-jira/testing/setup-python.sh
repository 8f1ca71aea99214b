#!/usr/bin/env bash
# Create the Python virtualenv with atlassian-python-api, for the Jira
# benchmark's comparison with the loop a Python user writes, unless it is
# already there and complete.
#
#   bash connector-jira/testing/setup-python.sh [VENV_DIR]
#
# VENV_DIR defaults to $CONNECTOR_JIRA_VENV, then `.venv-jira` at the
# workspace root. The venv is built in a temporary folder and renamed into
# place, so two processes running this at once cannot leave a half-installed
# venv behind.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${1:-${CONNECTOR_JIRA_VENV:-$root/.venv-jira}}"
python="${PYTHON:-python3}"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import atlassian" 2>/dev/null; then
    exit 0
fi
tmp="$venv.tmp-$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp"
"$tmp/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$here/requirements.txt"
"$tmp/bin/python" -c "import atlassian"
# Another process may have finished first; either venv is complete.
if [ ! -e "$venv" ] || ! "$venv/bin/python" -c "import atlassian" 2>/dev/null; then
    rm -rf "$venv"
    mv "$tmp" "$venv"
fi
echo "atlassian-python-api ready in $venv" >&2
