"""Shared pieces of the CI scripts: a small GitLab REST client, email masking, exit-code words.

Python 3 standard library only: the run image (python:3.12-slim-bookworm) installs nothing at
run time. Tokens are sent in headers and never printed; an error names the method, the path
and GitLab's status, never a header.
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.error
import urllib.parse
import urllib.request

# What each exit code of the three binaries means (docs/behaviour.md; docs/runbook.md).
EXIT_MEANING = {
    0: "ok",
    1: "a write failed",
    2: "usage or configuration error",
    3: "a safety guard tripped or the plan changed; nothing written",
    4: "an API was unreachable or refused the credentials",
}


def exit_words(code: int | None) -> str:
    """`exit 3 (a safety guard tripped …)`, or what a missing status means."""
    if code is None:
        return "no exit status recorded (the job timed out, was cancelled or crashed)"
    return f"exit {code} ({EXIT_MEANING.get(code, 'unexpected exit code')})"


# An address: local part, @, a dotted domain. Over-matching is fine (we only hide text).
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
EMAIL_MASK = "[email hidden]"


def mask_emails(text: str) -> str:
    """Hide every email address: reports name customers' contacts, notes and issues must not."""
    return _EMAIL.sub(EMAIL_MASK, text)


def truncate(text: str, limit: int, where: str) -> str:
    """Cut `text` to `limit` characters, saying so and where the whole text is."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n\n… cut at {limit} characters; the whole report is in {where}.\n"


def is_loopback_http(url: str) -> bool:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "http" or not parsed.hostname:
        return False
    if parsed.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parsed.hostname).is_loopback
    except ValueError:
        return False


def require_safe_url(url: str, what: str) -> str:
    """A token goes only over https (plain http only to loopback, which the tests use)."""
    if url.startswith("https://") or is_loopback_http(url):
        return url.rstrip("/")
    raise GitLabError(f"{what} must be an https URL (got a {urllib.parse.urlsplit(url).scheme or 'bad'} URL)")


class GitLabError(Exception):
    """A failed call: method, path, status and the start of GitLab's answer."""


class GitLab:
    """The few REST calls the CI scripts make, authenticated with one token header."""

    def __init__(self, api_url: str, project_id: str, token: str, header: str = "PRIVATE-TOKEN",
                 timeout: float = 30.0):
        self.api = require_safe_url(api_url, "CI_API_V4_URL")
        self.project = urllib.parse.quote(str(project_id), safe="")
        self._headers = {header: token}
        self.timeout = timeout

    def project_path(self, path: str) -> str:
        return f"/projects/{self.project}{path}"

    def call(self, method: str, path: str, params: dict | None = None,
             body: dict | None = None, data: bytes | None = None):
        """One request; returns (status, headers, decoded JSON or raw bytes)."""
        url = self.api + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = dict(self._headers)
        payload = data
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            # A file upload (generic package): raw bytes, never parsed as a form.
            headers["Content-Type"] = "application/octet-stream"
        req = urllib.request.Request(url, data=payload, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                status, resp_headers = resp.status, resp.headers
        except urllib.error.HTTPError as e:
            text = e.read()[:300].decode("utf-8", "replace")
            raise GitLabError(f"{method} {path}: HTTP {e.code}: {text}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise GitLabError(f"{method} {path}: {reason}") from None
        ctype = resp_headers.get("Content-Type", "")
        if "json" in ctype and raw:
            return status, resp_headers, json.loads(raw)
        return status, resp_headers, raw

    def get_all(self, path: str, params: dict | None = None, max_pages: int = 50) -> list:
        """Every page of a list endpoint (GitLab's `X-Next-Page` header), bounded."""
        items: list = []
        page = "1"
        for _ in range(max_pages):
            query = dict(params or {}, per_page=100, page=page)
            _, headers, batch = self.call("GET", path, params=query)
            if not isinstance(batch, list):
                raise GitLabError(f"GET {path}: expected a list")
            items.extend(batch)
            page = headers.get("X-Next-Page", "")
            if not page:
                break
        return items


def post_slack(webhook_url: str, text: str, timeout: float = 10.0) -> None:
    """One line to a Slack incoming webhook; the URL is a secret and is never printed."""
    url = require_safe_url(webhook_url, "SLACK_WEBHOOK_URL")
    req = urllib.request.Request(url, data=json.dumps({"text": text}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
    except urllib.error.HTTPError as e:
        raise GitLabError(f"Slack webhook: HTTP {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        raise GitLabError(f"Slack webhook: {getattr(e, 'reason', e)}") from None


def read_status(path: str) -> int | None:
    """The exit code run_sync.py recorded, or None when the job left none."""
    try:
        with open(path, encoding="utf-8") as f:
            code = json.load(f).get("exit_code")
    except (OSError, ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None
