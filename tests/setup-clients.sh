#!/usr/bin/env bash
# Installs the client-side tools the test suite drives, into .venv-tests/ (git-ignored).
# Idempotent: re-running only installs what is missing. Every version is pinned.
# Sections are owned by different parts of the suite; each is marked.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-tests
if [ ! -x "$VENV/bin/python" ]; then
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        # Debian splits venv/ensurepip out of python3.
        rm -rf "$VENV"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
        python3 -m venv "$VENV"
    fi
fi
PY="$VENV/bin/python"

pip_install() {
    # Installs the pinned requirements unless every one of them is already present.
    if ! "$PY" -m pip show "${@%%==*}" >/dev/null 2>&1 \
        || ! "$PY" - "$@" <<'PYEOF'
import sys
from importlib.metadata import version, PackageNotFoundError
for req in sys.argv[1:]:
    name, _, want = req.partition("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PYEOF
    then
        "$PY" -m pip install --quiet --disable-pip-version-check "$@"
    fi
}

# --- BEGIN docs: OpenAPI validation and the SDK generated from openapi/openapi.json ---
pip_install openapi-spec-validator==0.9.0 openapi-python-client==0.29.1
# --- END docs ---

# --- BEGIN clients: the real Graph clients of tests/api/clients.rs ---
# msgraph-beta-sdk 1.66.0 with its whole dependency tree (tests/clients/requirements.txt).
mapfile -t CLIENT_PINS < <(grep -E '^[A-Za-z0-9_.-]+==' tests/clients/requirements.txt)
pip_install "${CLIENT_PINS[@]}"
# @microsoft/microsoft-graph-client 3.0.7 exactly as tests/clients/js/package-lock.json says;
# needs node >= 18 and npm.
if ! (cd tests/clients/js && npm ls --silent >/dev/null 2>&1); then
    (cd tests/clients/js && npm ci --no-audit --no-fund --loglevel=error)
fi
# --- END clients ---

echo "client tools ready in $VENV"
