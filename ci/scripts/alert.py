#!/usr/bin/env python3
"""After a scheduled run: open or update one confidential issue per sync when it failed, close
it when the run is green again. Optionally one line to Slack.

    alert.py --sync NAME [--status run-status.json] [--report-md report.md]

A failure is any exit code other than 0 — 1, 2, 3 or 4 — or no status at all (the job timed
out, was cancelled or crashed before run_sync.py recorded one). The issue is found by its exact
title among the open issues labelled `sync-alert`; it is never duplicated: a second failure
replaces its description with the latest report and adds a comment. The next green run
comments and closes it.

Needs SYNC_BOT_TOKEN (role Reporter or more, scope `api`: confidential issues). Without it the
job says so and does nothing. SLACK_WEBHOOK_URL (optional, masked) gets a one-line summary on
a new failure and on recovery. Email addresses are masked in everything posted.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cilib  # noqa: E402

LABEL = "sync-alert"
MAX_REPORT_CHARS = 300_000


def title(sync: str) -> str:
    return f"Sync alert: {sync} scheduled run failing"


def find_open_issue(gl: cilib.GitLab, sync: str) -> dict | None:
    wanted = title(sync)
    issues = gl.get_all(gl.project_path("/issues"),
                        {"state": "opened", "labels": LABEL, "search": wanted, "in": "title"})
    matches = [i for i in issues if i.get("title") == wanted]
    # Oldest first: if two ever exist, keep updating the first one.
    matches.sort(key=lambda i: i.get("iid", 0))
    return matches[0] if matches else None


def description(sync: str, code: int | None, report: str | None, env: dict[str, str]) -> str:
    lines = [
        f"The scheduled `{sync}` run failed: {cilib.exit_words(code)}.",
        "",
        f"- Pipeline: {env.get('CI_PIPELINE_URL', '')}",
        f"- Job: {env.get('CI_JOB_URL', '')}",
        "- What to do for each exit code: `docs/runbook.md`. A run stopped by a guard (exit 3) "
        "leaves a manual `approve-mass-change` job in its pipeline.",
        "- This issue is updated by each failing run and closed by the next green one.",
        "",
        "## Latest report",
        "",
    ]
    if report is None:
        lines.append("_No Markdown report was written; see the job log._")
    else:
        lines.append(cilib.truncate(cilib.mask_emails(report), MAX_REPORT_CHARS, "the job's artifacts"))
    return "\n".join(lines) + "\n"


def handle(gl: cilib.GitLab, sync: str, code: int | None, report: str | None,
           env: dict[str, str]) -> tuple[str, str | None]:
    """Returns (what was done, the issue's web URL or None)."""
    issue = find_open_issue(gl, sync)
    pipeline = env.get("CI_PIPELINE_URL", "")
    if code == 0:
        if issue is None:
            return "green, no open alert", None
        notes = gl.project_path(f"/issues/{issue['iid']}/notes")
        gl.call("POST", notes, body={"body": f"Recovered: the scheduled run in {pipeline} was green."})
        gl.call("PUT", gl.project_path(f"/issues/{issue['iid']}"), body={"state_event": "close"})
        return "closed", issue.get("web_url")
    desc = description(sync, code, report, env)
    if issue is None:
        _, _, created = gl.call("POST", gl.project_path("/issues"), body={
            "title": title(sync), "description": desc, "confidential": True, "labels": LABEL,
        })
        return "opened", created.get("web_url") if isinstance(created, dict) else None
    gl.call("PUT", gl.project_path(f"/issues/{issue['iid']}"),
            body={"description": desc, "confidential": True})
    gl.call("POST", gl.project_path(f"/issues/{issue['iid']}/notes"),
            body={"body": f"Failed again in {pipeline}: {cilib.exit_words(code)}."})
    return "updated", issue.get("web_url")


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sync", required=True, help="e.g. zd-sfdc-sync-global, salesforce-cases-global")
    p.add_argument("--status", default="run-status.json")
    p.add_argument("--report-md", default="report.md")
    args = p.parse_args(argv)
    env = dict(os.environ if environ is None else environ)
    code = cilib.read_status(args.status)
    print(f"{args.sync}: {cilib.exit_words(code)}")
    token = env.get("SYNC_BOT_TOKEN", "")
    if not token:
        print("SYNC_BOT_TOKEN is not set: no alert issue is opened or closed")
        return 0
    try:
        gl = cilib.GitLab(env.get("CI_API_V4_URL", ""), env.get("CI_PROJECT_ID", ""), token)
        what, url = handle(gl, args.sync, code, cilib.read_text(args.report_md), env)
    except cilib.GitLabError as e:
        print(f"alert issue not updated: {e}", file=sys.stderr)
        return 1
    print(f"alert issue: {what}" + (f" ({url})" if url else ""))
    slack = env.get("SLACK_WEBHOOK_URL", "")
    if slack and what in ("opened", "closed"):
        line = (f"{args.sync} recovered: {url}" if what == "closed"
                else f"{args.sync} scheduled run failed, {cilib.exit_words(code)}: {url}")
        try:
            cilib.post_slack(slack, cilib.mask_emails(line))
            print("Slack: summary sent")
        except cilib.GitLabError as e:
            print(f"Slack summary not sent: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
