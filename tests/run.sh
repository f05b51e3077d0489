#!/usr/bin/env bash
# Install everything the tests need and run the whole suite (what CI runs).
#
#   bash tests/run.sh                 # everything, slow tests included
#   bash tests/run.sh -m "not slow"   # the fast part; any pytest arguments pass through
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
# The Hardhat project of tests/clients/test_hardhat.py has a lockfile of its own (CommonJS, as
# Hardhat 2 projects are).
(cd tests/hardhat && npm ci --no-audit --no-fund --loglevel=error)
# The explorer's browser tests drive Debian's Chromium (tests/explorer/).
if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "tests/run.sh: the explorer tests need Chromium: sudo apt-get install chromium" >&2
    fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m mypy genesis state rpc node consensus attribution
.venv/bin/python -m pytest --durations=20 "$@"
