#!/usr/bin/env bash
# The whole test suite: the default tier (`pytest`, under 10 minutes), then the slow tier.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
.venv/bin/python -m pytest -m slow "$@"
