#!/usr/bin/env bash
# Create the project's virtual environment and install the project with its dev and docs extras.
# Usage: scripts/bootstrap_venv.sh PYTHON VENV
set -euo pipefail
python="${1:-python3}"
venv="${2:-.venv}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: $python is older than Python 3.11; set PYTHON=python3.11 (or newer)" >&2
    exit 1
fi
if command -v uv >/dev/null 2>&1; then
    uv venv --allow-existing -q -p "$python" "$venv"
    uv pip install -q --python "$venv/bin/python" -e '.[dev,docs]'
else
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -e '.[dev,docs]'
fi
