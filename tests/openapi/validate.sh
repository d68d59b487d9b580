#!/usr/bin/env bash
# Validates the committed OpenAPI document with a standard validator (openapi-spec-validator,
# pinned in tests/setup-clients.sh, which this script runs first; it is idempotent).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/setup-clients.sh >/dev/null
.venv-tests/bin/openapi-spec-validator openapi/openapi.json
