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

echo "client tools ready in $VENV"
