#!/usr/bin/env python3
"""Run one of the three binaries in a CI job, the same way every time.

    run_sync.py fetch --binary NAME --version X.Y.Z
    run_sync.py run --binary NAME --instance global|us-federal --mode MODE [--binary-path P]
                    [--version X.Y.Z] [--zd-rate-limit N]

MODE is one of:
  scheduled            the hourly sync, or the cases reconcile (`reconcile --since 24h`)
  event                salesforce-cases only: one ticket event from a trigger
                       (TICKET_ID, TICKET_EVENT, CASES_INSTANCE, validated here)
  dry-run-sandbox      `--dry-run --sandbox`: the simulated APIs, no credentials
  dry-run-production   `--dry-run` with the read-only credentials and a low --zd-rate-limit
  approve              applies exactly the plan a guard stopped: reads run-status.json and
                       report.json of the stopped run, then `--allow-mass-changes
                       --expect-plan <plan_hash>`

Before it starts the binary it:
- takes every variable that decides where credentials are sent (ZD_URL, SFDC_LOGIN_URL, proxies,
  CA files …) from ci/instances/<instance>.env in the repository, and drops any value of those
  names that came from the environment: a trigger (or anyone who can set a pipeline variable)
  cannot point the job at another server;
- without --binary-path, downloads the pinned release from the project's generic package
  registry with CI_JOB_TOKEN and checks its SHA-256 (no build, no package install).

It writes run-status.json ({"exit_code": N, …}) for the alert and approval jobs and exits with
the binary's exit code. Nothing secret is printed: the command line holds no credential.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cilib  # noqa: E402

BINARIES = ("zd-sfdc-sync-global", "zd-sfdc-sync-us-federal", "salesforce-cases")
INSTANCES = ("global", "us-federal")
# The instance each sync binary serves; salesforce-cases serves both (--instance).
BINARY_INSTANCE = {"zd-sfdc-sync-global": "global", "zd-sfdc-sync-us-federal": "us-federal"}
MODES = ("scheduled", "event", "dry-run-sandbox", "dry-run-production", "approve")
EVENTS = ("created", "closed")
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
TICKET_ID = re.compile(r"^[1-9][0-9]{0,18}$")
PLAN_HASH = re.compile(r"^[A-Za-z0-9:_.\-]{8,200}$")

# Everything that decides where a request (and so a credential) goes. Only the instance file
# sets these; a value from the job's environment is dropped.
DESTINATION_VARS = (
    "ZD_URL", "ZD_SUBDOMAIN", "SFDC_LOGIN_URL", "SFDC_INSTANCE_URL", "SFDC_JWT_AUDIENCE",
    "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY",
    "https_proxy", "http_proxy", "all_proxy", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR",
)
URL_VARS = ("ZD_URL", "SFDC_LOGIN_URL", "SFDC_INSTANCE_URL", "SFDC_JWT_AUDIENCE",
            "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")
# Credentials: kept for real runs, removed for sandbox runs (which need none).
CREDENTIAL_VARS = (
    "SFDC_ACCESS_TOKEN", "SFDC_USERNAME", "SFDC_PRIVATE_KEY_FILE", "SFDC_CLIENT_ID",
    "SFDC_CLIENT_SECRET", "ZD_EMAIL", "ZD_API_TOKEN", "ZD_OAUTH_TOKEN", "ZD_WEBHOOK_SECRET",
)
# Variables a trigger passes; the binary would read TICKET_ID/TICKET_EVENT from the
# environment, so they are removed and passed as validated flags instead.
TRIGGER_VARS = ("TICKET_ID", "TICKET_EVENT", "CASES_INSTANCE")

STATUS_FILE = "run-status.json"
APPROVED_STATUS_FILE = "run-status-approved.json"
DEFAULT_REPORT = ("report.json", "report.md")
APPROVED_REPORT = ("report-approved.json", "report-approved.md")


class Refused(Exception):
    """A check failed before anything ran; the message says which (exit 2)."""


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------------
# The instance file


def load_instance_file(instance: str, root: Path | None = None) -> dict[str, str]:
    """KEY=VALUE lines of ci/instances/<instance>.env: only destination variables, URLs https."""
    if instance not in INSTANCES:
        raise Refused(f"unknown instance {instance!r} (expected one of {', '.join(INSTANCES)})")
    path = (root or repo_root()) / "ci" / "instances" / f"{instance}.env"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise Refused(f"cannot read {path}: {e.strerror}") from None
    values: dict[str, str] = {}
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in DESTINATION_VARS:
            raise Refused(f"{path.name}:{n}: only {', '.join(DESTINATION_VARS[:5])} … may be set here")
        if key in URL_VARS and not value.startswith("https://"):
            raise Refused(f"{path.name}:{n}: {key} must be an https URL")
        if key == "ZD_SUBDOMAIN" and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", value):
            raise Refused(f"{path.name}:{n}: ZD_SUBDOMAIN must be a bare subdomain")
        values[key] = value
    if "ZD_URL" not in values and "ZD_SUBDOMAIN" not in values:
        raise Refused(f"{path.name}: sets neither ZD_URL nor ZD_SUBDOMAIN")
    return values


def child_environment(base: dict[str, str], instance: str, sandbox: bool,
                      root: Path | None = None) -> dict[str, str]:
    """The binary's environment: destinations from the file, credentials only for real runs."""
    env = {k: v for k, v in base.items() if k not in DESTINATION_VARS and k not in TRIGGER_VARS}
    if sandbox:
        for key in CREDENTIAL_VARS:
            env.pop(key, None)
        return env
    env.update(load_instance_file(instance, root))
    return env


# ---------------------------------------------------------------------------------------------
# Trigger data


def validate_event(environ: dict[str, str], instance: str) -> tuple[str, str]:
    """TICKET_ID (a positive number), TICKET_EVENT (created|closed), CASES_INSTANCE (this job's)."""
    ticket = environ.get("TICKET_ID", "").strip()
    event = environ.get("TICKET_EVENT", "").strip()
    target = environ.get("CASES_INSTANCE", "").strip()
    problems = []
    if not TICKET_ID.fullmatch(ticket):
        problems.append("TICKET_ID must be a Zendesk ticket id (digits only, no leading zero)")
    if event not in EVENTS:
        problems.append(f"TICKET_EVENT must be one of {', '.join(EVENTS)}")
    if target != instance:
        problems.append(f"CASES_INSTANCE must be {instance!r} for this job "
                        f"(one of {', '.join(INSTANCES)})")
    if problems:
        raise Refused("refusing the trigger: " + "; ".join(problems))
    return ticket, event


# ---------------------------------------------------------------------------------------------
# The binary


def version_var(binary: str) -> str:
    """The CI variable that pins a binary's version: ZD_SFDC_SYNC_GLOBAL_VERSION, …"""
    return binary.upper().replace("-", "_") + "_VERSION"


def package_url(api_url: str, project_id: str, binary: str, version: str, file_name: str) -> str:
    project = urllib.parse.quote(str(project_id), safe="")
    return f"{api_url.rstrip('/')}/projects/{project}/packages/generic/{binary}/{version}/{file_name}"


def fetch(binary: str, version: str, dest_dir: Path, environ: dict[str, str]) -> Path:
    """Download the released binary and its .sha256 from the generic package registry."""
    if binary not in BINARIES:
        raise Refused(f"unknown binary {binary!r}")
    if not SEMVER.fullmatch(version or ""):
        raise Refused(f"{version_var(binary)} must be a released version like 1.4.0 (got {version!r})")
    api = environ.get("CI_API_V4_URL", "")
    project = environ.get("CI_PROJECT_ID", "")
    token = environ.get("CI_JOB_TOKEN", "")
    if not (api and project and token):
        raise Refused("CI_API_V4_URL, CI_PROJECT_ID and CI_JOB_TOKEN are needed to download a release")
    gl = cilib.GitLab(api, project, token, header="JOB-TOKEN", timeout=120)
    base = f"/projects/{gl.project}/packages/generic/{binary}/{version}"
    try:
        _, _, body = gl.call("GET", f"{base}/{binary}")
        _, _, digest = gl.call("GET", f"{base}/{binary}.sha256")
    except cilib.GitLabError as e:
        raise Refused(f"cannot download {binary} {version} from the package registry: {e}") from None
    if isinstance(digest, (bytes, bytearray)):
        digest = digest.decode("ascii", "replace")
    expected = str(digest).split()[0].lower() if str(digest).split() else ""
    actual = hashlib.sha256(body).hexdigest()
    if expected != actual:
        raise Refused(f"{binary} {version}: SHA-256 mismatch (registry says {expected[:16]}…, "
                      f"downloaded {actual[:16]}…)")
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / binary
    path.write_bytes(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    print(f"{binary} {version}: downloaded, sha256 {actual}")
    return path


def plan_to_approve(workdir: Path) -> str:
    """The plan hash of the run this pipeline's guard stopped, or Refused saying why not."""
    code = cilib.read_status(str(workdir / STATUS_FILE))
    if code != 3:
        raise Refused("nothing to approve: the scheduled run in this pipeline ended with "
                      f"{cilib.exit_words(code)}; only a run stopped by a guard (exit 3) leaves "
                      "a plan to approve")
    try:
        report = json.loads((workdir / DEFAULT_REPORT[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise Refused(f"the stopped run left no readable {DEFAULT_REPORT[0]}") from None
    plan = report.get("plan_hash") if isinstance(report, dict) else None
    if not isinstance(plan, str) or not PLAN_HASH.fullmatch(plan):
        raise Refused(f"{DEFAULT_REPORT[0]} carries no plan_hash: nothing can be approved exactly")
    return plan


def command(binary_path: str, binary: str, instance: str, mode: str, *, ticket: str = "",
            event: str = "", plan: str = "", zd_rate_limit: int | None = None,
            since: str = "24h") -> list[str]:
    """The binary's command line for a mode."""
    json_out, md_out = APPROVED_REPORT if mode == "approve" else DEFAULT_REPORT
    common = ["--log-format", "json", "--report", json_out, "--report-md", md_out]
    if mode == "dry-run-sandbox":
        common += ["--dry-run", "--sandbox"]
    elif mode == "dry-run-production":
        common += ["--dry-run"]
    if zd_rate_limit is not None:
        common += ["--zd-rate-limit", str(zd_rate_limit)]
    if binary == "salesforce-cases":
        if mode == "approve":
            raise Refused("salesforce-cases has no mass-change guard to approve")
        if mode == "event":
            sub = ["event", "--ticket-id", ticket, "--event", event]
        else:
            sub = ["reconcile", "--since", since]
        return [binary_path, *sub, "--instance", instance, *common]
    if mode == "event":
        raise Refused(f"{binary} has no ticket events")
    if BINARY_INSTANCE[binary] != instance:
        raise Refused(f"{binary} serves {BINARY_INSTANCE[binary]}, not {instance}")
    if mode == "approve":
        common += ["--allow-mass-changes", "--expect-plan", plan]
    return [binary_path, *common]


def write_status(workdir: Path, mode: str, **fields) -> None:
    """run-status.json (run-status-approved.json for an approval, which keeps the stopped
    run's file intact)."""
    name = APPROVED_STATUS_FILE if mode == "approve" else STATUS_FILE
    fields["mode"] = mode
    (workdir / name).write_text(json.dumps(fields, indent=2) + "\n", encoding="utf-8")


def run(args: argparse.Namespace, environ: dict[str, str], workdir: Path) -> int:
    binary, instance, mode = args.binary, args.instance, args.mode
    if binary not in BINARIES:
        raise Refused(f"unknown binary {binary!r}")
    if instance not in INSTANCES:
        raise Refused(f"unknown instance {instance!r}")
    ticket = event = plan = ""
    if mode == "event":
        ticket, event = validate_event(environ, instance)
    if mode == "approve":
        plan = plan_to_approve(workdir)
        print(f"approving plan {plan} (the plan in report.json of the stopped run)")
    if mode == "dry-run-production" and args.zd_rate_limit is None:
        raise Refused("a production dry run needs --zd-rate-limit (it spends the shared budget)")
    sandbox = mode == "dry-run-sandbox"
    env = child_environment(environ, instance, sandbox)
    # Build the command line before downloading, so a refused mode costs no download.
    argv = command("PLACEHOLDER", binary, instance, mode, ticket=ticket, event=event, plan=plan,
                   zd_rate_limit=args.zd_rate_limit)
    version = args.version or ""
    if args.binary_path:
        path = Path(args.binary_path)
    else:
        path = fetch(binary, version, workdir / "bin", environ)
    argv[0] = str(path)
    print("running: " + " ".join(argv), flush=True)
    started = time.time()
    try:
        code = subprocess.run(argv, env=env, cwd=workdir, check=False).returncode
    except OSError as e:
        print(f"cannot start {path}: {e.strerror}", file=sys.stderr)
        code = 2
    if code < 0:  # killed by a signal
        code = 128 - code
    write_status(workdir, mode, binary=binary, instance=instance, version=version or None,
                 exit_code=code, seconds=round(time.time() - started, 1),
                 pipeline_id=environ.get("CI_PIPELINE_ID"), job_url=environ.get("CI_JOB_URL"))
    print(f"{binary} ({instance}, {mode}): {cilib.exit_words(code)}")
    return code


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None,
         workdir: Path | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="download a released binary into bin/")
    f.add_argument("--binary", required=True, choices=BINARIES)
    f.add_argument("--version", required=True)
    r = sub.add_parser("run", help="run a binary")
    r.add_argument("--binary", required=True, choices=BINARIES)
    r.add_argument("--instance", required=True, choices=INSTANCES)
    r.add_argument("--mode", required=True, choices=MODES)
    r.add_argument("--binary-path", help="a binary built in this pipeline (merge requests)")
    r.add_argument("--version", help="the released version to download (the pinned variable)")
    r.add_argument("--zd-rate-limit", type=int)
    args = parser.parse_args(argv)
    environ = dict(os.environ if environ is None else environ)
    workdir = workdir or Path.cwd()
    try:
        if args.cmd == "fetch":
            fetch(args.binary, args.version, workdir / "bin", environ)
            return 0
        return run(args, environ, workdir)
    except (Refused, cilib.GitLabError) as e:
        print(f"run_sync: {e}", file=sys.stderr)
        if args.cmd == "run":
            write_status(workdir, args.mode, binary=args.binary, instance=args.instance,
                         exit_code=2, refused=str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
