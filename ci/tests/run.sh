#!/usr/bin/env bash
# The CI's own tests: installs check-jsonschema (PyPI) into a virtualenv under target/, then
# runs ci/tests with that interpreter (it also brings ruamel.yaml, used to read the YAML).
# Works on a fresh clone, without standard input. CI_TEST_VENV overrides the venv's place.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv="${CI_TEST_VENV:-target/ci-venv}"
# Pinned: the schema GitLab's keywords are checked against ships inside this package.
pkg="check-jsonschema==0.39.0"
if [ ! -x "$venv/bin/check-jsonschema" ] || ! "$venv/bin/python" -c 'import ruamel.yaml' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$pkg" </dev/null
fi
"$venv/bin/check-jsonschema" --version
export CHECK_JSONSCHEMA="$venv/bin/check-jsonschema"
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" ci/tests/run_tests.py
