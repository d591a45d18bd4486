#!/usr/bin/env python3
"""Put a dry run's Markdown report in the merge request: one note per sync and target, updated.

    mr_note.py --binary NAME --target sandbox|production [--instance I]
               [--report-md report.md] [--status run-status.json]

Needs SYNC_BOT_TOKEN (a project access token, role Reporter, scope `api`); without it, or
outside a merge request pipeline, it says so and does nothing. The note starts with a hidden
marker; the note of this token's user that carries the marker is edited in place on each
pipeline, so a merge request has one note per sync and target however often it is pushed.
Email addresses are masked: the report names customers' contacts.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cilib  # noqa: E402

# GitLab refuses notes over 1,000,000 characters; the report is bounded far below that.
MAX_REPORT_CHARS = 300_000
TARGET_WORDS = {
    "sandbox": "against the sandbox (simulated Salesforce and Zendesk)",
    "production": "against production, read-only credentials",
}


def marker(binary: str, target: str, instance: str) -> str:
    return f"<!-- zd-sfdc-sync dry-run: {binary} {instance} {target} -->"


def note_body(binary: str, target: str, instance: str, report: str | None, code: int | None,
              environ: dict[str, str]) -> str:
    pipeline = environ.get("CI_PIPELINE_URL", "")
    job = environ.get("CI_JOB_URL", "")
    commit = environ.get("CI_COMMIT_SHORT_SHA", "")
    lines = [
        marker(binary, target, instance),
        f"### Dry run of `{binary}` ({instance}) {TARGET_WORDS[target]}",
        "",
        f"Commit `{commit}` · [pipeline]({pipeline}) · [job]({job}) · {cilib.exit_words(code)}. "
        "Nothing was written. The JSON report is in the job's artifacts. "
        "This note is replaced on every pipeline.",
        "",
    ]
    if report is None:
        lines.append("_The run wrote no Markdown report; see the job log._")
    else:
        lines.append(cilib.truncate(cilib.mask_emails(report), MAX_REPORT_CHARS, "the job's artifacts"))
    return "\n".join(lines) + "\n"


def upsert_note(gl: cilib.GitLab, mr_iid: str, mark: str, body: str) -> str:
    """Edit this user's note carrying `mark`, or create it. Returns 'updated' or 'created'."""
    _, _, me = gl.call("GET", "/user")
    my_id = me.get("id") if isinstance(me, dict) else None
    path = gl.project_path(f"/merge_requests/{mr_iid}/notes")
    notes = gl.get_all(path, {"sort": "asc", "order_by": "created_at"})
    for note in notes:
        author = (note.get("author") or {}).get("id")
        if author == my_id and mark in (note.get("body") or ""):
            gl.call("PUT", f"{path}/{note['id']}", body={"body": body})
            return "updated"
    gl.call("POST", path, body={"body": body})
    return "created"


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", required=True)
    p.add_argument("--target", required=True, choices=sorted(TARGET_WORDS))
    p.add_argument("--instance", required=True)
    p.add_argument("--report-md", default="report.md")
    p.add_argument("--status", default="run-status.json")
    args = p.parse_args(argv)
    env = dict(os.environ if environ is None else environ)
    token = env.get("SYNC_BOT_TOKEN", "")
    mr_iid = env.get("CI_MERGE_REQUEST_IID", "")
    if not token:
        print("SYNC_BOT_TOKEN is not set: no merge request note (the report is in the artifacts)")
        return 0
    if not mr_iid:
        print("not a merge request pipeline: no note")
        return 0
    body = note_body(args.binary, args.target, args.instance, cilib.read_text(args.report_md),
                     cilib.read_status(args.status), env)
    try:
        gl = cilib.GitLab(env.get("CI_API_V4_URL", ""), env.get("CI_PROJECT_ID", ""), token)
        what = upsert_note(gl, mr_iid, marker(args.binary, args.target, args.instance), body)
    except cilib.GitLabError as e:
        print(f"merge request note not posted: {e}", file=sys.stderr)
        return 1
    print(f"merge request !{mr_iid}: dry-run note {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
