#!/usr/bin/env python3
"""Releases, one binary at a time, from tags like `zd-sfdc-sync-global-v1.4.0`.

    release.py check  --tag TAG [--dotenv release.env]
        the tag names a binary and its version equals `version` in bins/<binary>/Cargo.toml;
        writes RELEASE_BINARY / RELEASE_VERSION for the later jobs (artifacts:reports:dotenv)
    release.py notes  --tag TAG [--repo DIR] [--out release-notes.md]
        Markdown: the commits since the binary's previous tag that touch the binary, the
        workspace crates it depends on (its Cargo.toml, followed transitively) or Cargo.lock
    release.py publish --binary NAME --version X.Y.Z --file PATH
        uploads PATH and PATH.sha256 to the project's generic package registry (CI_JOB_TOKEN)

Standard library only (tomllib: Python 3.11+).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cilib  # noqa: E402

BINARIES = ("zd-sfdc-sync-global", "zd-sfdc-sync-us-federal", "salesforce-cases")
# The tag pattern, the same as the rules in ci/*.yml: <binary>-v<semver>.
TAG = re.compile(r"^(?P<binary>" + "|".join(map(re.escape, BINARIES)) +
                 r")-v(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$")
MAX_LISTED = 300


class ReleaseError(Exception):
    pass


def parse_tag(tag: str) -> tuple[str, str]:
    m = TAG.fullmatch(tag or "")
    if not m:
        raise ReleaseError(f"{tag!r} is not a release tag: expected <binary>-v<X.Y.Z> with a "
                           f"binary among {', '.join(BINARIES)}")
    return m["binary"], m["version"]


def crate_version(manifest_text: str, manifest: str) -> str:
    data = tomllib.loads(manifest_text)
    version = data.get("package", {}).get("version")
    if not isinstance(version, str):
        raise ReleaseError(f"{manifest}: the binary needs its own `version = \"X.Y.Z\"` "
                           "(not version.workspace) to be released on its own")
    return version


def check(tag: str, root: Path) -> tuple[str, str]:
    binary, version = parse_tag(tag)
    manifest = root / "bins" / binary / "Cargo.toml"
    cargo = crate_version(manifest.read_text(encoding="utf-8"), str(manifest))
    if cargo != version:
        raise ReleaseError(f"tag {tag} says {version} but {manifest.relative_to(root)} says {cargo}: "
                           "bump the version in a merge request first, then tag that commit")
    return binary, version


# ---------------------------------------------------------------------------------------------
# Notes


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def read_at(repo: Path, rev: str, path: str) -> str | None:
    out = subprocess.run(["git", "-C", str(repo), "show", f"{rev}:{path}"], capture_output=True,
                         text=True, check=False)
    return out.stdout if out.returncode == 0 else None


def version_key(version: str) -> tuple:
    core, _, pre = version.partition("-")
    nums = tuple(int(x) for x in core.split("."))
    # A pre-release sorts before its release.
    return nums + ((0, pre) if pre else (1, ""),)


def previous_tag(binary: str, version: str, tags: list[str]) -> str | None:
    """The highest tag of the same binary below `version`."""
    older = []
    for t in tags:
        m = TAG.fullmatch(t.strip())
        if m and m["binary"] == binary and version_key(m["version"]) < version_key(version):
            older.append((version_key(m["version"]), t.strip()))
    return max(older)[1] if older else None


def dependency_dirs(repo: Path, rev: str, binary: str) -> list[str]:
    """bins/<binary> and every workspace crate it depends on (normal and build dependencies,
    transitively, optional ones included), read from the Cargo.toml files at `rev`."""
    root_text = read_at(repo, rev, "Cargo.toml")
    if root_text is None:
        raise ReleaseError(f"no Cargo.toml at {rev}")
    workspace = tomllib.loads(root_text).get("workspace", {})
    paths = {name: spec["path"].rstrip("/") for name, spec in
             workspace.get("dependencies", {}).items() if isinstance(spec, dict) and "path" in spec}
    seen: list[str] = []
    todo = [f"bins/{binary}"]
    while todo:
        crate_dir = todo.pop()
        if crate_dir in seen:
            continue
        text = read_at(repo, rev, f"{crate_dir}/Cargo.toml")
        if text is None:
            raise ReleaseError(f"no {crate_dir}/Cargo.toml at {rev}")
        seen.append(crate_dir)
        manifest = tomllib.loads(text)
        for table in ("dependencies", "build-dependencies"):
            for name, spec in manifest.get(table, {}).items():
                if not isinstance(spec, dict):
                    continue
                if "path" in spec:
                    dep = os.path.normpath(f"{crate_dir}/{spec['path']}")
                elif spec.get("workspace") and name in paths:
                    dep = paths[name]
                else:
                    continue
                todo.append(dep)
    return sorted(seen)


def notes(repo: Path, tag: str, environ: dict[str, str] | None = None) -> str:
    binary, version = parse_tag(tag)
    env = environ or {}
    tags = git(repo, "tag", "--list", f"{binary}-v*").split()
    prev = previous_tag(binary, version, tags)
    dirs = dependency_dirs(repo, tag, binary)
    scope = [*dirs, "Cargo.lock"]
    rev_range = f"{prev}..{tag}" if prev else tag
    log = git(repo, "log", "--no-merges", "--format=%x1e%h%x1f%s", "--name-only", rev_range,
              "--", *scope)
    commits = []
    for chunk in log.split("\x1e"):
        if not chunk.strip():
            continue
        head, _, files = chunk.partition("\n")
        sha, _, subject = head.partition("\x1f")
        touched = sorted({next((d for d in scope if f == d or f.startswith(d + "/")), f)
                          for f in files.split() if f})
        commits.append((sha, subject.strip(), touched))
    lines = [f"## {binary} {version}", ""]
    if prev:
        lines.append(f"Changes since `{prev}` to `{binary}` and the crates it is built from "
                     f"({', '.join(f'`{d}`' for d in dirs)}, and `Cargo.lock`):")
    else:
        lines.append(f"First release of `{binary}`. Commits touching it and the crates it is "
                     f"built from ({', '.join(f'`{d}`' for d in dirs)}, and `Cargo.lock`):")
    lines.append("")
    if not commits:
        lines.append("- No change to this binary or its crates (a re-release of the same code).")
    for sha, subject, touched in commits[:MAX_LISTED]:
        lines.append(f"- {sha} {subject} ({', '.join(touched)})")
    if len(commits) > MAX_LISTED:
        lines.append(f"- … and {len(commits) - MAX_LISTED} older commits (`git log {rev_range}`).")
    api, project = env.get("CI_API_V4_URL"), env.get("CI_PROJECT_ID")
    lines += ["", "### Install", ""]
    if api and project:
        lines.append(f"The binary (Linux x86-64, glibc of Debian bookworm) and its SHA-256 are in the "
                     f"package registry: `{binary}/{version}`. Runs use it when "
                     f"`{binary.upper().replace('-', '_')}_VERSION` is `{version}`.")
    else:
        lines.append(f"Package `{binary}/{version}` in the project's generic package registry.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Publish


def publish(binary: str, version: str, file: Path, environ: dict[str, str]) -> str:
    api, project = environ.get("CI_API_V4_URL", ""), environ.get("CI_PROJECT_ID", "")
    token = environ.get("CI_JOB_TOKEN", "")
    if not (api and project and token):
        raise ReleaseError("CI_API_V4_URL, CI_PROJECT_ID and CI_JOB_TOKEN are needed to publish")
    body = file.read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    gl = cilib.GitLab(api, project, token, header="JOB-TOKEN", timeout=300)
    base = gl.project_path(f"/packages/generic/{binary}/{version}")
    # One file after the other: the registry asks for serial uploads to one package version.
    gl.call("PUT", f"{base}/{binary}", data=body)
    gl.call("PUT", f"{base}/{binary}.sha256", data=f"{digest}  {binary}\n".encode())
    return digest


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--tag", required=True)
    c.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    c.add_argument("--dotenv")
    n = sub.add_parser("notes")
    n.add_argument("--tag", required=True)
    n.add_argument("--repo", default=".")
    n.add_argument("--out", default="release-notes.md")
    u = sub.add_parser("publish")
    u.add_argument("--binary", required=True, choices=BINARIES)
    u.add_argument("--version", required=True)
    u.add_argument("--file", required=True)
    args = p.parse_args(argv)
    env = dict(os.environ if environ is None else environ)
    try:
        if args.cmd == "check":
            binary, version = check(args.tag, Path(args.root))
            print(f"{args.tag}: {binary} {version} agrees with bins/{binary}/Cargo.toml")
            if args.dotenv:
                Path(args.dotenv).write_text(
                    f"RELEASE_BINARY={binary}\nRELEASE_VERSION={version}\n", encoding="utf-8")
        elif args.cmd == "notes":
            text = notes(Path(args.repo), args.tag, env)
            Path(args.out).write_text(text, encoding="utf-8")
            print(text)
        else:
            if not cilib_semver(args.version):
                raise ReleaseError(f"bad version {args.version!r}")
            digest = publish(args.binary, args.version, Path(args.file), env)
            print(f"published {args.binary} {args.version} (sha256 {digest})")
    except (ReleaseError, cilib.GitLabError, OSError, tomllib.TOMLDecodeError) as e:
        print(f"release: {e}", file=sys.stderr)
        return 1
    return 0


def cilib_semver(version: str) -> bool:
    return re.fullmatch(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?", version or "") is not None


if __name__ == "__main__":
    sys.exit(main())
