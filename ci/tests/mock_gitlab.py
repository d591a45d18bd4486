"""A small in-memory GitLab API on 127.0.0.1 for the script tests (loopback only).

It serves what the CI scripts call: GET /user, merge request notes (list with X-Next-Page
pagination, create, edit), issues (list with state/labels/search, create, edit with
state_event), issue notes, and generic package files (PUT, GET). Every request is recorded;
a token other than the expected one gets 401. A route can be told to fail with a status.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = 2  # small pages, so pagination is exercised


class MockGitLab:
    def __init__(self, token: str = "glpat-test-token", job_token: str = "job-token-test",
                 user_id: int = 7):
        self.token, self.job_token, self.user_id = token, job_token, user_id
        self.requests: list[tuple[str, str, dict, bytes]] = []
        self.notes: dict[str, list[dict]] = {}      # mr iid -> notes
        self.issues: list[dict] = []
        self.issue_notes: dict[int, list[dict]] = {}
        self.packages: dict[str, bytes] = {}
        self.fail: dict[tuple[str, str], int] = {}   # (method, path regex) -> status
        self.slack: list[dict] = []
        self._next_id = 100
        self._lock = threading.Lock()
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status, body=b"", ctype="application/json", headers=None):
                if not isinstance(body, (bytes, bytearray)):
                    body = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _handle(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parsed = urllib.parse.urlsplit(self.path)
                path = urllib.parse.unquote(parsed.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                with mock._lock:
                    mock.requests.append((method, path, {k.lower(): v for k, v in self.headers.items()}, raw))
                    for (m, pattern), status in mock.fail.items():
                        if m == method and re.fullmatch(pattern, path):
                            return self._send(status, {"message": "injected failure"})
                    try:
                        return mock._route(self, method, path, query, raw)
                    except Exception as e:  # a bug in the mock shows as a 500
                        return self._send(500, {"message": f"mock error: {e}"})

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PUT(self):
                self._handle("PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -----------------------------------------------------------------------------------------

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v4"

    @property
    def slack_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/slack/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def calls(self, method: str, pattern: str) -> list:
        return [r for r in self.requests if r[0] == method and re.fullmatch(pattern, r[1])]

    # -----------------------------------------------------------------------------------------

    def _authorized(self, h, job=False) -> bool:
        if job:
            return h.headers.get("JOB-TOKEN") == self.job_token
        return h.headers.get("PRIVATE-TOKEN") == self.token

    def _page(self, h, items, query):
        page = int(query.get("page", "1"))
        start = (page - 1) * PAGE
        chunk = items[start:start + PAGE]
        headers = {"X-Next-Page": str(page + 1) if start + PAGE < len(items) else ""}
        return h._send(200, chunk, headers=headers)

    def _route(self, h, method, path, query, raw):
        body = json.loads(raw) if raw and h.headers.get("Content-Type", "").startswith("application/json") else {}
        if path == "/slack/hook" and method == "POST":
            self.slack.append(body)
            return h._send(200, b"ok", ctype="text/plain")
        m = re.fullmatch(r"/api/v4/projects/([^/]+)/packages/generic/([^/]+)/([^/]+)/([^/]+)", path)
        if m:
            if not self._authorized(h, job=True):
                return h._send(401, {"message": "401 Unauthorized"})
            key = "/".join(m.groups()[1:])
            if method == "PUT":
                self.packages[key] = raw
                return h._send(201, {"message": "201 Created"})
            if key not in self.packages:
                return h._send(404, {"message": "404 Not Found"})
            return h._send(200, self.packages[key], ctype="application/octet-stream")
        if not self._authorized(h):
            return h._send(401, {"message": "401 Unauthorized"})
        if path == "/api/v4/user":
            return h._send(200, {"id": self.user_id, "username": "sync-bot"})
        m = re.fullmatch(r"/api/v4/projects/[^/]+/merge_requests/(\d+)/notes(?:/(\d+))?", path)
        if m:
            notes = self.notes.setdefault(m[1], [])
            if method == "GET":
                return self._page(h, notes, query)
            if method == "POST":
                note = {"id": self.new_id(), "body": body["body"], "author": {"id": self.user_id}}
                notes.append(note)
                return h._send(201, note)
            note = next(n for n in notes if n["id"] == int(m[2]))
            if note["author"]["id"] != self.user_id:
                return h._send(403, {"message": "403 Forbidden"})
            note["body"] = body["body"]
            return h._send(200, note)
        m = re.fullmatch(r"/api/v4/projects/[^/]+/issues/(\d+)/notes", path)
        if m and method == "POST":
            note = {"id": self.new_id(), "body": body["body"]}
            self.issue_notes.setdefault(int(m[1]), []).append(note)
            return h._send(201, note)
        if re.fullmatch(r"/api/v4/projects/[^/]+/issues", path):
            if method == "GET":
                found = [i for i in self.issues
                         if (query.get("state") != "opened" or i["state"] == "opened")
                         and all(lbl in i["labels"] for lbl in query.get("labels", "").split(",") if lbl)
                         and query.get("search", "").lower() in i["title"].lower()]
                return self._page(h, found, query)
            iid = len(self.issues) + 1
            issue = {"iid": iid, "title": body["title"], "description": body["description"],
                     "confidential": bool(body.get("confidential")), "state": "opened",
                     "labels": [x for x in str(body.get("labels", "")).split(",") if x],
                     "web_url": f"https://gitlab.example/issues/{iid}"}
            self.issues.append(issue)
            return h._send(201, issue)
        m = re.fullmatch(r"/api/v4/projects/[^/]+/issues/(\d+)", path)
        if m and method == "PUT":
            issue = next(i for i in self.issues if i["iid"] == int(m[1]))
            if body.get("state_event") == "close":
                issue["state"] = "closed"
            if "description" in body:
                issue["description"] = body["description"]
            if "confidential" in body:
                issue["confidential"] = bool(body["confidential"])
            return h._send(200, issue)
        return h._send(404, {"message": f"no route {method} {path}"})
