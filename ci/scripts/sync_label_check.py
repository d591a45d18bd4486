#!/usr/bin/env python3
"""Merge requests that change what the syncs write need the Support-Ops-Category::Sync label.

    sync_label_check.py [--base SHA] [--labels "a,b"] [--files FILE...]

Sensitive files: snapshots (`*.snap`), the mapping files (`crates/sync-core/mappings/*.toml`)
and the SOQL queries (`crates/sync-core/src/soql.rs`). When the merge request changes any of
them and its labels (CI_MERGE_REQUEST_LABELS) lack the label, the job fails naming the files.
Changed files come from `git diff --name-only <base>...HEAD` (base: CI_MERGE_REQUEST_DIFF_BASE_SHA).
Adding the label does not start a pipeline: run the pipeline again after labelling.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import subprocess
import sys

LABEL = "Support-Ops-Category::Sync"
SENSITIVE = ("*.snap", "crates/sync-core/mappings/*.toml", "crates/sync-core/src/soql.rs")


def sensitive(files: list[str]) -> list[str]:
    return sorted(f for f in set(files)
                  if any(fnmatch.fnmatchcase(f, pat) or fnmatch.fnmatchcase(os.path.basename(f), pat)
                         for pat in SENSITIVE))


def has_label(labels: str) -> bool:
    return LABEL in [label.strip() for label in labels.split(",")]


def changed_files(base: str) -> list[str]:
    out = subprocess.run(["git", "diff", "--name-only", f"{base}...HEAD"], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"git diff against {base}: {out.stderr.strip()}")
    return [line for line in out.stdout.splitlines() if line]


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    env = dict(os.environ if environ is None else environ)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default=env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA", ""))
    p.add_argument("--labels", default=env.get("CI_MERGE_REQUEST_LABELS", ""))
    p.add_argument("--files", nargs="*", help="changed files (default: git diff against --base)")
    args = p.parse_args(argv)
    try:
        files = args.files if args.files is not None else changed_files(args.base)
    except RuntimeError as e:
        print(f"sync label check: {e}", file=sys.stderr)
        return 2
    hits = sensitive(files)
    if not hits:
        print("no snapshot, mapping or SOQL change: the Sync label is not required")
        return 0
    if has_label(args.labels):
        print(f"{len(hits)} sync-sensitive file(s) changed; the {LABEL} label is set")
        return 0
    print(f"This merge request changes what the syncs write, so it needs the {LABEL} label:",
          file=sys.stderr)
    for f in hits:
        print(f"  {f}", file=sys.stderr)
    print("Add the label (and the snapshot diffs and dry-run report to the description), then "
          "run the pipeline again.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
