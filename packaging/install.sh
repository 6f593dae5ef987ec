#!/bin/sh
# Install a built autodeploy-netpol wheel with its locked dependencies into the Python environment
# of $PYTHON (default python3): the one install step of the release image (Containerfile), also run
# by tests/packaging on a fresh virtualenv and by bench/install_routes.py.
#   PYTHON=venv/bin/python sh packaging/install.sh requirements/runtime.txt dist/autodeploy_netpol-*.whl
set -eu
if [ "$#" -lt 2 ]; then
    echo "usage: install.sh LOCK WHEEL..." >&2
    exit 2
fi
python=${PYTHON:-python3}
lock=$1
shift
# Dependencies: exact versions and hashes from the lock, nothing resolved at install time.
"$python" -m pip install --disable-pip-version-check --quiet --require-hashes -r "$lock"
# The tool itself from the given file only: no index is asked for a package of that name.
"$python" -m pip install --disable-pip-version-check --quiet --no-deps --no-index "$@"
"$python" -m pip check --disable-pip-version-check
