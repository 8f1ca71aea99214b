#!/usr/bin/env bash
# Create the Python virtualenv the connector-extract benchmark uses to build
# its corpus and to run the Python peers, unless it is already complete.
#
#   bash connector-extract/testing/setup-venv.sh [VENV_DIR]
#
# VENV_DIR defaults to $CONNECTOR_EXTRACT_VENV, then testing/.venv beside
# this script. The venv is built in a temporary folder and renamed into
# place, so two processes running this at once cannot leave a half-installed
# venv behind.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-${CONNECTOR_EXTRACT_VENV:-$here/.venv}}"
python="${PYTHON:-python3}"
check='import docx, pptx, openpyxl, fpdf, pypdf, odf, bs4, striprtf'

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
    exit 0
fi
tmp="$venv.tmp-$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp"
"$tmp/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$here/requirements.txt"
"$tmp/bin/python" -c "$check"
# Another process may have finished first; either venv is complete.
if [ ! -e "$venv" ] || ! "$venv/bin/python" -c "$check" 2>/dev/null; then
    rm -rf "$venv"
    mv "$tmp" "$venv"
fi
echo "extraction benchmark venv ready in $venv" >&2
