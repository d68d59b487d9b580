#!/usr/bin/env bash
# Installs the real Graph clients the API suite drives (tests/api/clients.rs), pinned, from the
# package registries (PyPI, npm): a Python venv in .venv-tests/ and node_modules in
# tests/clients/js/. Both are git-ignored. Idempotent: a second run checks the pins and installs
# nothing. Needs python3 (with venv), node >= 18 and npm; .ci/run installs them on Debian.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv-tests/bin/python ]; then
    "$PYTHON" -m venv .venv-tests
fi
pip_install() {
    .venv-tests/bin/python -m pip install --quiet --disable-pip-version-check --no-input "$@"
}

# >>> clients: the Python Graph beta SDK and the JS Graph client (tests/clients/) >>>
# msgraph-beta-sdk 1.66.0 and its whole dependency tree, pinned in requirements.txt.
pip_install --requirement tests/clients/requirements.txt
# @microsoft/microsoft-graph-client 3.0.7, exactly as package-lock.json says.
if ! (cd tests/clients/js && npm ls --silent >/dev/null 2>&1); then
    (cd tests/clients/js && npm ci --no-audit --no-fund --loglevel=error)
fi
# <<< clients <<<
