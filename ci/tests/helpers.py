"""Paths and small helpers shared by the CI tests."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "ci" / "scripts"
sys.path.insert(0, str(SCRIPTS))
sys.path.insert(0, str(Path(__file__).resolve().parent))

BINARIES = ("zd-sfdc-sync-global", "zd-sfdc-sync-us-federal", "salesforce-cases")
SYNC_INSTANCE = {"zd-sfdc-sync-global": "global", "zd-sfdc-sync-us-federal": "us-federal"}
INSTANCES = ("global", "us-federal")


def capture(fn, *args, **kwargs):
    """Run fn, returning (result, stdout+stderr text)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        result = fn(*args, **kwargs)
    return result, out.getvalue()


def git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid",
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_SYSTEM=os.devnull)
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise AssertionError(f"git {args}: {out.stderr}")
    return out.stdout
