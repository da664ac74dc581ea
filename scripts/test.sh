#!/bin/sh
# The whole test suite, as CI runs it: lint, types, then pytest (PostgreSQL, Node and
# Chromium tests included). Called by `./dev test` and .ci/run after `uv sync`.
set -eu
cd "$(dirname "$0")/.."

# PostgreSQL: the machine image has a local server; start it if it is not running.
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        echo "test: starting the local PostgreSQL server" >&2
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
fi

# Node gateway dependencies are installed by tests/test_gateway_node.py itself (npm ci from
# the lock file, only when the lock changes, under a file lock).

# Headless Chromium for the Datasette page test (Debian's package; the test fails in CI without it).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "test: installing Debian's chromium for the browser test" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

echo "test: ruff" >&2
.venv/bin/ruff check bot metrics tests bench
echo "test: mypy" >&2
.venv/bin/mypy
echo "test: pytest" >&2
exec .venv/bin/pytest "$@"
