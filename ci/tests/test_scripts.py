"""The scripts that talk to GitLab, against a mock GitLab API on loopback; release notes against
a temporary tagged git repository; run_sync.py against a fake binary."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from helpers import ROOT, capture, git
from mock_gitlab import MockGitLab

import alert  # noqa: E402
import cilib  # noqa: E402
import mr_note  # noqa: E402
import release  # noqa: E402
import run_sync  # noqa: E402
import sync_label_check  # noqa: E402

TOKEN = "glpat-test-token"
SECRETS = {
    "SYNC_BOT_TOKEN": TOKEN,
    "CI_JOB_TOKEN": "job-token-test",
    "SFDC_CLIENT_SECRET": "sf-client-secret-XYZ",
    "ZD_API_TOKEN": "zd-api-token-XYZ",
    "ZD_OAUTH_TOKEN": "zd-oauth-token-XYZ",
    "SLACK_WEBHOOK_URL": "",  # set per test to the mock's URL
}
REPORT = "# Report\n\n| org | sold-to |\n|---|---|\n| Acme | jane.doe@acme.example.com |\n"


def ci_env(mock: MockGitLab, **extra) -> dict:
    env = {
        "CI_API_V4_URL": mock.api, "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "5",
        "CI_PIPELINE_URL": "https://gitlab.example/p/1", "CI_JOB_URL": "https://gitlab.example/j/2",
        "CI_PIPELINE_ID": "1", "CI_COMMIT_SHORT_SHA": "abc1234", "SYNC_BOT_TOKEN": TOKEN,
        "CI_JOB_TOKEN": mock.job_token,
    }
    env.update(extra)
    return env


class TempDir(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = Path(self._tmp.name)

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, name: str, text: str) -> str:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return str(path)

    def status(self, code: int, name: str = "run-status.json") -> str:
        return self.write(name, json.dumps({"exit_code": code}))


# ---------------------------------------------------------------------------------------------


class MaskingTests(unittest.TestCase):
    def test_emails_are_masked_and_other_text_kept(self):
        text = "Jane <jane.doe+x@acme.example.com>, ops@sub.acme.co.uk; not an email: a@b, @team"
        masked = cilib.mask_emails(text)
        self.assertNotIn("jane.doe", masked)
        self.assertNotIn("ops@", masked)
        self.assertEqual(masked.count(cilib.EMAIL_MASK), 2)
        self.assertIn("not an email: a@b, @team", masked)

    def test_tokens_only_over_https_or_loopback(self):
        cilib.require_safe_url("https://gitlab.example/api/v4", "x")
        cilib.require_safe_url("http://127.0.0.1:9/api/v4", "x")
        for bad in ("http://gitlab.example/api/v4", "ftp://x", "", "http://10.0.0.1/api"):
            with self.assertRaises(cilib.GitLabError):
                cilib.require_safe_url(bad, "x")


class MergeRequestNoteTests(TempDir):
    def run_note(self, mock, target="sandbox", report=REPORT, code=0, **env):
        md = self.write("report.md", report)
        st = self.status(code)
        return capture(mr_note.main, ["--binary", "zd-sfdc-sync-global", "--instance", "global",
                                      "--target", target, "--report-md", md, "--status", st],
                       ci_env(mock, **env))

    def test_one_note_per_sync_and_target_updated_not_duplicated(self):
        with MockGitLab() as mock:
            # Someone else's note quoting our marker must not be edited.
            marker = mr_note.marker("zd-sfdc-sync-global", "sandbox", "global")
            mock.notes["5"] = [{"id": i, "body": f"chatter {i}", "author": {"id": 99}} for i in range(1, 5)]
            mock.notes["5"].append({"id": 50, "body": marker + " quoted", "author": {"id": 99}})
            rc, out = self.run_note(mock)
            self.assertEqual(rc, 0, out)
            self.assertIn("created", out)
            rc, out = self.run_note(mock, code=3, report=REPORT + "\nsecond run\n")
            self.assertEqual(rc, 0, out)
            self.assertIn("updated", out)
            ours = [n for n in mock.notes["5"] if n["author"]["id"] == mock.user_id]
            self.assertEqual(len(ours), 1)
            self.assertIn("second run", ours[0]["body"])
            self.assertIn("exit 3", ours[0]["body"])
            self.assertEqual(mock.notes["5"][4]["body"], marker + " quoted")
            # Pagination was followed (7 notes at 2 a page).
            self.assertGreaterEqual(len(mock.calls("GET", r".*/merge_requests/5/notes")), 3)
            # The production target gets its own note.
            self.run_note(mock, target="production")
            ours = [n for n in mock.notes["5"] if n["author"]["id"] == mock.user_id]
            self.assertEqual(len(ours), 2)

    def test_emails_masked_in_the_note(self):
        with MockGitLab() as mock:
            self.run_note(mock)
            body = mock.notes["5"][-1]["body"]
            self.assertNotIn("jane.doe@acme.example.com", body)
            self.assertIn(cilib.EMAIL_MASK, body)
            self.assertIn("| Acme |", body)

    def test_no_token_or_no_merge_request_does_nothing(self):
        with MockGitLab() as mock:
            rc, out = self.run_note(mock, SYNC_BOT_TOKEN="")
            self.assertEqual(rc, 0)
            self.assertIn("SYNC_BOT_TOKEN is not set", out)
            rc, out = self.run_note(mock, CI_MERGE_REQUEST_IID="")
            self.assertEqual(rc, 0)
            self.assertEqual(mock.requests, [])

    def test_api_failure_is_reported_without_the_token(self):
        with MockGitLab() as mock:
            mock.fail[("POST", r".*/merge_requests/5/notes")] = 500
            rc, out = self.run_note(mock)
            self.assertEqual(rc, 1)
            self.assertIn("HTTP 500", out)
            self.assertNotIn(TOKEN, out)

    def test_missing_report_still_notes_the_outcome(self):
        with MockGitLab() as mock:
            st = self.write("run-status.json", "{}")
            rc, out = capture(mr_note.main, ["--binary", "salesforce-cases", "--instance", "us-federal",
                                             "--target", "production", "--report-md", str(self.tmp / "none.md"),
                                             "--status", st], ci_env(mock))
            self.assertEqual(rc, 0, out)
            self.assertIn("no Markdown report", mock.notes["5"][0]["body"])
            self.assertIn("no exit status", mock.notes["5"][0]["body"])


class AlertTests(TempDir):
    def run_alert(self, mock, code, sync="zd-sfdc-sync-global", report=REPORT, **env):
        md = self.write("report.md", report)
        st = self.status(code) if code is not None else str(self.tmp / "missing.json")
        return capture(alert.main, ["--sync", sync, "--status", st, "--report-md", md],
                       ci_env(mock, SLACK_WEBHOOK_URL=mock.slack_url, **env))

    def test_open_update_close_one_confidential_issue(self):
        with MockGitLab() as mock:
            rc, out = self.run_alert(mock, 3)
            self.assertEqual(rc, 0, out)
            self.assertEqual(len(mock.issues), 1)
            issue = mock.issues[0]
            self.assertTrue(issue["confidential"])
            self.assertIn(alert.LABEL, issue["labels"])
            self.assertIn("exit 3", issue["description"])
            self.assertNotIn("jane.doe@acme.example.com", issue["description"])
            # A second failure updates the same issue and comments.
            rc, out = self.run_alert(mock, 1, report="# Report\n\nwrite failed for bob@x.example.org\n")
            self.assertEqual(rc, 0, out)
            self.assertEqual(len(mock.issues), 1)
            self.assertIn("exit 1", mock.issues[0]["description"])
            self.assertNotIn("bob@x.example.org", mock.issues[0]["description"])
            self.assertEqual(len(mock.issue_notes[1]), 1)
            # Another sync's failure is another issue.
            self.run_alert(mock, 4, sync="zd-sfdc-sync-us-federal")
            self.assertEqual(len(mock.issues), 2)
            # Green: comment and close; a second green run does nothing.
            rc, out = self.run_alert(mock, 0)
            self.assertEqual(rc, 0, out)
            self.assertEqual(mock.issues[0]["state"], "closed")
            self.assertEqual(mock.issues[1]["state"], "opened")
            self.assertIn("Recovered", mock.issue_notes[1][-1]["body"])
            before = len(mock.requests)
            rc, out = self.run_alert(mock, 0)
            self.assertIn("no open alert", out)
            self.assertEqual([r for r in mock.requests[before:] if r[0] != "GET"], [])
            # Slack: one line when an alert opened (twice) and when it closed; not on updates.
            texts = [m["text"] for m in mock.slack]
            self.assertEqual(len(texts), 3, texts)
            self.assertTrue(all("\n" not in t for t in texts))
            self.assertIn("recovered", texts[-1])

    def test_a_new_failure_after_recovery_opens_a_new_issue(self):
        with MockGitLab() as mock:
            self.run_alert(mock, 2)
            self.run_alert(mock, 0)
            self.run_alert(mock, 2)
            self.assertEqual([i["state"] for i in mock.issues], ["closed", "opened"])

    def test_no_status_counts_as_failure(self):
        with MockGitLab() as mock:
            rc, out = self.run_alert(mock, None)
            self.assertEqual(rc, 0, out)
            self.assertEqual(len(mock.issues), 1)
            self.assertIn("timed out", mock.issues[0]["description"])

    def test_no_token_does_nothing_and_no_secret_printed(self):
        with MockGitLab() as mock:
            rc, out = self.run_alert(mock, 1, SYNC_BOT_TOKEN="")
            self.assertEqual(rc, 0)
            self.assertEqual(mock.requests, [])
            mock.fail[("GET", r".*/issues")] = 403
            rc, out = self.run_alert(mock, 1)
            self.assertEqual(rc, 1)
            self.assertNotIn(TOKEN, out)
            self.assertNotIn(mock.slack_url, out)


class SyncLabelTests(TempDir):
    def test_sensitive_files_need_the_label(self):
        files = ["crates/sync-core/src/snapshots/sync_core__soql__tests__global_accounts.snap",
                 "crates/sync-core/mappings/us-federal.toml", "README.md"]
        rc, out = capture(sync_label_check.main, ["--labels", "docs,backend", "--files", *files], {})
        self.assertEqual(rc, 1)
        self.assertIn("global_accounts.snap", out)
        self.assertIn("mappings/us-federal.toml", out)
        self.assertNotIn("README.md", out)
        rc, _ = capture(sync_label_check.main,
                        ["--labels", "docs,Support-Ops-Category::Sync", "--files", *files], {})
        self.assertEqual(rc, 0)
        rc, _ = capture(sync_label_check.main, ["--labels", "", "--files", "README.md", "ci/common.yml"], {})
        self.assertEqual(rc, 0)
        rc, out = capture(sync_label_check.main, ["--labels", "", "--files", "crates/sync-core/src/soql.rs"], {})
        self.assertEqual(rc, 1)
        # A label that only contains the name is not the label.
        rc, _ = capture(sync_label_check.main,
                        ["--labels", "Support-Ops-Category::Sync-old", "--files", "x/a.snap"], {})
        self.assertEqual(rc, 1)

    def test_changed_files_from_git(self):
        repo = self.tmp / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        (repo / "README.md").write_text("x\n")
        git(repo, "add", ".")
        git(repo, "commit", "-qm", "base")
        base = git(repo, "rev-parse", "HEAD").strip()
        (repo / "t.snap").write_text("snap\n")
        git(repo, "add", ".")
        git(repo, "commit", "-qm", "snapshot")
        cwd = os.getcwd()
        os.chdir(repo)
        try:
            rc, out = capture(sync_label_check.main, ["--base", base, "--labels", ""], {})
        finally:
            os.chdir(cwd)
        self.assertEqual(rc, 1)
        self.assertIn("t.snap", out)


# ---------------------------------------------------------------------------------------------


def manifest(name: str, deps: str = "", version: str = 'version = "1.0.0"') -> str:
    return f'[package]\nname = "{name}"\n{version}\n\n[dependencies]\n{deps}\n'


class ReleaseTests(TempDir):
    def make_repo(self) -> Path:
        repo = self.tmp / "repo"
        files = {
            "Cargo.toml": textwrap.dedent("""\
                [workspace]
                members = ["crates/*", "bins/*"]
                [workspace.dependencies]
                sync-core = { path = "crates/sync-core" }
                zendesk-client = { path = "crates/zendesk-client" }
                sandbox = { path = "crates/sandbox" }
                serde = "1"
                """),
            "Cargo.lock": "# lock\n",
            "README.md": "readme\n",
            "bins/zd-sfdc-sync-global/Cargo.toml": manifest(
                "zd-sfdc-sync-global", "sync-core = { workspace = true }\nsandbox = { workspace = true, optional = true }\nserde = { workspace = true }"),
            "bins/zd-sfdc-sync-global/src/main.rs": "fn main() {}\n",
            "bins/salesforce-cases/Cargo.toml": manifest(
                "salesforce-cases", "sync-core = { workspace = true }\nzendesk-client = { workspace = true }"),
            "bins/salesforce-cases/src/main.rs": "fn main() {}\n",
            "crates/sync-core/Cargo.toml": manifest("sync-core", 'sfdc-client = { path = "../sfdc-client" }'),
            "crates/sync-core/src/lib.rs": "\n",
            "crates/sfdc-client/Cargo.toml": manifest("sfdc-client"),
            "crates/sfdc-client/src/lib.rs": "\n",
            "crates/zendesk-client/Cargo.toml": manifest("zendesk-client"),
            "crates/zendesk-client/src/lib.rs": "\n",
            "crates/sandbox/Cargo.toml": manifest("sandbox"),
            "crates/sandbox/src/lib.rs": "\n",
        }
        for path, text in files.items():
            p = repo / path
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", ".")
        git(repo, "commit", "-qm", "initial")
        git(repo, "tag", "zd-sfdc-sync-global-v1.0.0")
        git(repo, "tag", "salesforce-cases-v1.0.0")

        def change(path, subject):
            (repo / path).write_text((repo / path).read_text() + subject + "\n")
            git(repo, "commit", "-qam", subject)

        change("crates/sfdc-client/src/lib.rs", "sfdc-client: retry on lock")
        change("crates/zendesk-client/src/lib.rs", "zendesk-client: cursor pages")
        change("bins/salesforce-cases/src/main.rs", "cases: close at merge")
        git(repo, "tag", "salesforce-cases-v2.0.0")
        change("README.md", "readme: wording")
        change("bins/zd-sfdc-sync-global/src/main.rs", "global: progress lines")
        change("Cargo.lock", "bump a dependency")
        return repo

    def test_notes_list_the_binary_and_its_crates_since_its_previous_tag(self):
        repo = self.make_repo()
        git(repo, "tag", "zd-sfdc-sync-global-v1.1.0")
        text = release.notes(repo, "zd-sfdc-sync-global-v1.1.0")
        self.assertIn("since `zd-sfdc-sync-global-v1.0.0`", text)
        for wanted in ("sfdc-client: retry on lock", "global: progress lines", "bump a dependency"):
            self.assertIn(wanted, text)
        for unwanted in ("zendesk-client: cursor pages", "cases: close at merge", "readme: wording", "initial"):
            self.assertNotIn(unwanted, text)
        self.assertIn("`crates/sandbox`", text)  # optional dependencies count
        self.assertIn("(crates/sfdc-client)", text)

        cases = release.notes(repo, "salesforce-cases-v2.0.0")
        self.assertIn("since `salesforce-cases-v1.0.0`", cases)
        self.assertIn("zendesk-client: cursor pages", cases)
        self.assertIn("cases: close at merge", cases)
        self.assertNotIn("global: progress lines", cases)

    def test_first_release_lists_everything_it_is_built_from(self):
        repo = self.make_repo()
        git(repo, "tag", "zd-sfdc-sync-us-federal-v1.0.0")
        with self.assertRaises(release.ReleaseError):  # no such binary in this repository
            release.notes(repo, "zd-sfdc-sync-us-federal-v1.0.0")
        text = release.notes(repo, "zd-sfdc-sync-global-v1.0.0")
        self.assertIn("First release", text)
        self.assertIn("initial", text)

    def test_previous_tag_is_numeric_and_per_binary(self):
        tags = ["zd-sfdc-sync-global-v1.9.0", "zd-sfdc-sync-global-v1.10.0", "zd-sfdc-sync-global-v1.10.1-rc.1",
                "zd-sfdc-sync-global-v2.0.0", "salesforce-cases-v1.10.0", "zd-sfdc-sync-global-vX"]
        self.assertEqual(release.previous_tag("zd-sfdc-sync-global", "1.10.1", tags),
                         "zd-sfdc-sync-global-v1.10.1-rc.1")
        self.assertEqual(release.previous_tag("zd-sfdc-sync-global", "1.10.0", tags),
                         "zd-sfdc-sync-global-v1.9.0")
        self.assertIsNone(release.previous_tag("zd-sfdc-sync-us-federal", "1.0.0", tags))

    def test_check_tag_and_version_agree(self):
        root = self.tmp
        self.write("bins/zd-sfdc-sync-global/Cargo.toml", manifest("zd-sfdc-sync-global", version='version = "1.4.0"'))
        self.write("bins/salesforce-cases/Cargo.toml", manifest("salesforce-cases", version="version.workspace = true"))
        self.assertEqual(release.check("zd-sfdc-sync-global-v1.4.0", root), ("zd-sfdc-sync-global", "1.4.0"))
        for bad in ("zd-sfdc-sync-global-v1.4.1", "zd-sfdc-sync-global-1.4.0", "v1.4.0",
                    "zd-sfdc-sync-globalx-v1.4.0", "salesforce-cases-v1.0.0"):
            with self.assertRaises(release.ReleaseError, msg=bad):
                release.check(bad, root)
        dotenv = self.tmp / "release.env"
        rc, out = capture(release.main, ["check", "--tag", "zd-sfdc-sync-global-v1.4.0", "--root", str(root),
                                         "--dotenv", str(dotenv)], {})
        self.assertEqual(rc, 0, out)
        self.assertEqual(dotenv.read_text(), "RELEASE_BINARY=zd-sfdc-sync-global\nRELEASE_VERSION=1.4.0\n")

    def test_the_repository_binaries_carry_their_own_versions(self):
        for binary in release.BINARIES:
            text = (ROOT / "bins" / binary / "Cargo.toml").read_text()
            version = release.crate_version(text, binary)
            self.assertEqual(release.check(f"{binary}-v{version}", ROOT), (binary, version))

    def test_publish_then_fetch_checks_the_digest(self):
        binary = self.write("dist/zd-sfdc-sync-global", "#!/bin/sh\necho fake\n")
        with MockGitLab() as mock:
            env = ci_env(mock)
            rc, out = capture(release.main, ["publish", "--binary", "zd-sfdc-sync-global", "--version", "1.4.0",
                                             "--file", binary], env)
            self.assertEqual(rc, 0, out)
            digest = hashlib.sha256(Path(binary).read_bytes()).hexdigest()
            self.assertEqual(mock.packages["zd-sfdc-sync-global/1.4.0/zd-sfdc-sync-global.sha256"].split()[0].decode(), digest)
            puts = mock.calls("PUT", r".*/packages/generic/zd-sfdc-sync-global/1\.4\.0/.*")
            self.assertEqual(len(puts), 2)
            self.assertTrue(all(h.get("job-token") == mock.job_token for _, _, h, _ in puts))
            self.assertTrue(all(h.get("content-type") == "application/octet-stream" for _, _, h, _ in puts))
            self.assertNotIn(mock.job_token, out)

            got = run_sync.fetch("zd-sfdc-sync-global", "1.4.0", self.tmp / "bin", env)
            self.assertEqual(got.read_bytes(), Path(binary).read_bytes())
            self.assertTrue(got.stat().st_mode & stat.S_IXUSR)

            mock.packages["zd-sfdc-sync-global/1.4.0/zd-sfdc-sync-global"] = b"tampered"
            with self.assertRaisesRegex(run_sync.Refused, "SHA-256 mismatch"):
                run_sync.fetch("zd-sfdc-sync-global", "1.4.0", self.tmp / "bin2", env)
            with self.assertRaisesRegex(run_sync.Refused, "package registry"):
                run_sync.fetch("zd-sfdc-sync-global", "9.9.9", self.tmp / "bin3", env)
            with self.assertRaisesRegex(run_sync.Refused, "released version"):
                run_sync.fetch("zd-sfdc-sync-global", "latest", self.tmp / "bin4", env)


# ---------------------------------------------------------------------------------------------

FAKE_BINARY = """#!{python}
import json, os, sys
keep = ("ZD_URL", "ZD_SUBDOMAIN", "SFDC_LOGIN_URL", "HTTPS_PROXY", "TICKET_ID", "ZD_API_TOKEN",
        "SFDC_CLIENT_SECRET", "SSL_CERT_FILE")
with open("fake-call.json", "w") as f:
    json.dump({{"argv": sys.argv[1:], "env": {{k: os.environ.get(k) for k in keep}}}}, f)
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


class RunSyncTests(TempDir):
    def setUp(self):
        super().setUp()
        self.fake = self.tmp / "fake-binary"
        self.fake.write_text(FAKE_BINARY.format(python=sys.executable))
        self.fake.chmod(0o755)
        self.work = self.tmp / "work"
        self.work.mkdir()

    def attacker_env(self, **extra):
        env = {"PATH": os.environ.get("PATH", ""), "ZD_URL": "https://evil.example", "ZD_SUBDOMAIN": "evil",
               "SFDC_LOGIN_URL": "https://evil.example", "HTTPS_PROXY": "https://proxy.evil.example",
               "SSL_CERT_FILE": "/tmp/evil.pem", "ZD_API_TOKEN": SECRETS["ZD_API_TOKEN"],
               "SFDC_CLIENT_SECRET": SECRETS["SFDC_CLIENT_SECRET"]}
        env.update(extra)
        return env

    def call(self):
        return json.loads((self.work / "fake-call.json").read_text())

    def run_main(self, args, env):
        return capture(run_sync.main, ["run", *args, "--binary-path", str(self.fake)], env, self.work)

    def test_instance_files_decide_the_destinations(self):
        urls = {}
        for instance in ("global", "us-federal"):
            values = run_sync.load_instance_file(instance)
            self.assertTrue(values["ZD_URL"].startswith("https://"))
            urls[instance] = values["ZD_URL"]
        self.assertNotEqual(urls["global"], urls["us-federal"])
        rc, out = self.run_main(["--binary", "zd-sfdc-sync-us-federal", "--instance", "us-federal",
                                 "--mode", "scheduled"], self.attacker_env(FAKE_EXIT="0"))
        self.assertEqual(rc, 0, out)
        env = self.call()["env"]
        self.assertEqual(env["ZD_URL"], urls["us-federal"])
        self.assertIsNone(env["ZD_SUBDOMAIN"])
        self.assertIsNone(env["HTTPS_PROXY"])
        self.assertIsNone(env["SSL_CERT_FILE"])
        self.assertNotEqual(env["SFDC_LOGIN_URL"], "https://evil.example")
        self.assertEqual(env["ZD_API_TOKEN"], SECRETS["ZD_API_TOKEN"])  # credentials pass through
        self.assertNotIn(SECRETS["ZD_API_TOKEN"], out)
        self.assertNotIn(SECRETS["SFDC_CLIENT_SECRET"], out)

    def test_bad_instance_files_are_refused(self):
        root = self.tmp / "root"
        for text, why in (("ZD_URL=http://x.example\n", "https"),
                          ("ZD_URL=https://x.example\nSFDC_CLIENT_SECRET=x\n", "only"),
                          ("SFDC_LOGIN_URL=https://login.example\n", "neither")):
            (root / "ci" / "instances").mkdir(parents=True, exist_ok=True)
            (root / "ci" / "instances" / "global.env").write_text(text)
            with self.assertRaisesRegex(run_sync.Refused, why):
                run_sync.load_instance_file("global", root)
        with self.assertRaises(run_sync.Refused):
            run_sync.load_instance_file("../global")

    def test_sandbox_runs_get_no_credentials(self):
        rc, out = self.run_main(["--binary", "zd-sfdc-sync-global", "--instance", "global",
                                 "--mode", "dry-run-sandbox"], self.attacker_env())
        self.assertEqual(rc, 0, out)
        call = self.call()
        self.assertIn("--sandbox", call["argv"])
        self.assertIn("--dry-run", call["argv"])
        self.assertIsNone(call["env"]["ZD_API_TOKEN"])
        self.assertIsNone(call["env"]["ZD_URL"])

    def test_production_dry_run_is_rate_limited(self):
        rc, out = self.run_main(["--binary", "zd-sfdc-sync-global", "--instance", "global",
                                 "--mode", "dry-run-production"], self.attacker_env())
        self.assertEqual(rc, 2)
        self.assertIn("--zd-rate-limit", out)
        rc, out = self.run_main(["--binary", "zd-sfdc-sync-global", "--instance", "global",
                                 "--mode", "dry-run-production", "--zd-rate-limit", "60"], self.attacker_env())
        self.assertEqual(rc, 0, out)
        argv = self.call()["argv"]
        self.assertEqual(argv[argv.index("--zd-rate-limit") + 1], "60")
        self.assertIn("--dry-run", argv)
        self.assertNotIn("--sandbox", argv)

    def test_trigger_values_are_validated(self):
        good = {"TICKET_ID": "12345", "TICKET_EVENT": "closed", "CASES_INSTANCE": "us-federal"}
        self.assertEqual(run_sync.validate_event(good, "us-federal"), ("12345", "closed"))
        bad_cases = [dict(good, TICKET_ID=v) for v in ("", "0", "012", "12a", "1;rm -rf /", "1 2", "9" * 20)]
        bad_cases += [dict(good, TICKET_EVENT=v) for v in ("", "deleted", "Created")]
        bad_cases += [dict(good, CASES_INSTANCE=v) for v in ("", "global", "usfed")]
        for env in bad_cases:
            with self.assertRaises(run_sync.Refused, msg=str(env)):
                run_sync.validate_event(env, "us-federal")

    def test_event_runs_with_validated_flags_only(self):
        env = self.attacker_env(TICKET_ID="42", TICKET_EVENT="created", CASES_INSTANCE="global", FAKE_EXIT="1")
        rc, out = self.run_main(["--binary", "salesforce-cases", "--instance", "global", "--mode", "event"], env)
        self.assertEqual(rc, 1, out)
        call = self.call()
        self.assertEqual(call["argv"][:7], ["event", "--ticket-id", "42", "--event", "created", "--instance", "global"])
        self.assertIsNone(call["env"]["TICKET_ID"])
        status = json.loads((self.work / "run-status.json").read_text())
        self.assertEqual(status["exit_code"], 1)
        # A bad trigger never starts the binary.
        (self.work / "fake-call.json").unlink()
        env["TICKET_ID"] = "42; curl evil"
        rc, out = self.run_main(["--binary", "salesforce-cases", "--instance", "global", "--mode", "event"], env)
        self.assertEqual(rc, 2)
        self.assertIn("TICKET_ID", out)
        self.assertFalse((self.work / "fake-call.json").exists())
        self.assertEqual(json.loads((self.work / "run-status.json").read_text())["exit_code"], 2)

    def test_scheduled_cases_run_reconciles_a_day(self):
        rc, out = self.run_main(["--binary", "salesforce-cases", "--instance", "us-federal", "--mode", "scheduled"],
                                self.attacker_env())
        self.assertEqual(rc, 0, out)
        argv = self.call()["argv"]
        self.assertEqual(argv[:5], ["reconcile", "--since", "24h", "--instance", "us-federal"])
        self.assertNotIn("--dry-run", argv)

    def test_a_sync_binary_refuses_the_other_instance(self):
        rc, out = self.run_main(["--binary", "zd-sfdc-sync-global", "--instance", "us-federal",
                                 "--mode", "scheduled"], self.attacker_env())
        self.assertEqual(rc, 2)
        self.assertFalse((self.work / "fake-call.json").exists())

    def test_approve_applies_exactly_the_stopped_plan(self):
        (self.work / "run-status.json").write_text(json.dumps({"exit_code": 3}))
        (self.work / "report.json").write_text(json.dumps({"plan_hash": "sha256:0123456789abcdef", "guards": []}))
        rc, out = self.run_main(["--binary", "zd-sfdc-sync-global", "--instance", "global", "--mode", "approve"],
                                self.attacker_env(FAKE_EXIT="0"))
        self.assertEqual(rc, 0, out)
        argv = self.call()["argv"]
        self.assertIn("--allow-mass-changes", argv)
        self.assertEqual(argv[argv.index("--expect-plan") + 1], "sha256:0123456789abcdef")
        self.assertEqual(argv[argv.index("--report") + 1], "report-approved.json")
        self.assertEqual(json.loads((self.work / "run-status.json").read_text())["exit_code"], 3)
        self.assertEqual(json.loads((self.work / "run-status-approved.json").read_text())["exit_code"], 0)

    def test_approve_refuses_without_a_stopped_plan(self):
        cases = [({"exit_code": 0}, {"plan_hash": "sha256:0123456789abcdef"}, "nothing to approve"),
                 ({"exit_code": 1}, {"plan_hash": "sha256:0123456789abcdef"}, "nothing to approve"),
                 ({"exit_code": 3}, {"guards": []}, "plan_hash"),
                 ({"exit_code": 3}, {"plan_hash": "x; rm -rf /"}, "plan_hash")]
        for status, report, why in cases:
            (self.work / "run-status.json").write_text(json.dumps(status))
            (self.work / "report.json").write_text(json.dumps(report))
            rc, out = self.run_main(["--binary", "zd-sfdc-sync-us-federal", "--instance", "us-federal",
                                     "--mode", "approve"], self.attacker_env())
            self.assertEqual(rc, 2, out)
            self.assertIn(why, out)
            self.assertFalse((self.work / "fake-call.json").exists())
        with self.assertRaises(run_sync.Refused):
            run_sync.command("x", "salesforce-cases", "global", "approve")

    def test_run_downloads_the_pinned_release(self):
        with MockGitLab() as mock:
            body = self.fake.read_bytes()
            mock.packages["zd-sfdc-sync-global/1.2.3/zd-sfdc-sync-global"] = body
            mock.packages["zd-sfdc-sync-global/1.2.3/zd-sfdc-sync-global.sha256"] = (
                hashlib.sha256(body).hexdigest() + "  zd-sfdc-sync-global\n").encode()
            env = self.attacker_env(CI_API_V4_URL=mock.api, CI_PROJECT_ID="42", CI_JOB_TOKEN=mock.job_token)
            rc, out = capture(run_sync.main, ["run", "--binary", "zd-sfdc-sync-global", "--instance", "global",
                                              "--mode", "scheduled", "--version", "1.2.3"], env, self.work)
            self.assertEqual(rc, 0, out)
            self.assertTrue((self.work / "bin" / "zd-sfdc-sync-global").exists())
            self.assertEqual(json.loads((self.work / "run-status.json").read_text())["version"], "1.2.3")
            self.assertNotIn(mock.job_token, out)

    def test_exit_codes_pass_through(self):
        for code in (0, 1, 2, 3, 4):
            rc, out = self.run_main(["--binary", "zd-sfdc-sync-global", "--instance", "global", "--mode", "scheduled"],
                                    self.attacker_env(FAKE_EXIT=str(code)))
            self.assertEqual(rc, code, out)
            self.assertEqual(cilib.read_status(str(self.work / "run-status.json")), code)


if __name__ == "__main__":
    unittest.main()
