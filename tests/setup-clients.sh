#!/usr/bin/env bash
# Installs the real Graph clients the API suite drives (tests/api/clients.rs), pinned, from the
# package registries: a Python venv in .venv-tests/ and node_modules in tests/clients/js/.
# Idempotent: re-running only installs what is missing or at another version. Both are git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv-tests/bin/python ]; then
    "$PYTHON" -m venv .venv-tests
fi

# >>> clients: real Graph SDKs (tests/clients/) >>>
.venv-tests/bin/python -m pip install --quiet --disable-pip-version-check \
    'msgraph-beta-sdk==1.66.0' 'msgraph-core==1.5.2' 'httpx==0.28.1'
(cd tests/clients/js && npm ci --no-audit --no-fund --loglevel=error)
# <<< clients <<<
