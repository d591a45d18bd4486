"""The CI configuration itself: GitLab's schema, the jobs each binary must have, environments per
instance, no secret echoed, tag patterns and versions, rules:changes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import tomllib
import unittest
from pathlib import Path

from ruamel.yaml import YAML

from helpers import BINARIES, INSTANCES, ROOT, SYNC_INSTANCE

import release  # noqa: E402
import run_sync  # noqa: E402

CI_FILES = sorted((ROOT / "ci").glob("*.yml"))
RESERVED = {"variables", "stages", "workflow", "include", "default", "spec", "image", "services",
            "cache", "before_script", "after_script"}
# Secret variables: none may appear in a job's script, or be mapped through `variables:`.
SECRET_VARS = set(run_sync.CREDENTIAL_VARS) | {"SYNC_BOT_TOKEN", "SLACK_WEBHOOK_URL", "CI_JOB_TOKEN",
                                               "CI_JOB_JWT", "CI_REGISTRY_PASSWORD"}
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PRIVATE_KEY|WEBHOOK)")


def checker() -> str:
    found = os.environ.get("CHECK_JSONSCHEMA") or shutil.which("check-jsonschema")
    if not found:
        raise unittest.SkipTest("check-jsonschema is not installed (ci/tests/run.sh installs it)")
    return found


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([checker(), "--builtin-schema", "vendor.gitlab-ci", "--data-transform",
                           "gitlab-ci", str(path)], capture_output=True, text=True)


def load_all() -> tuple[dict, dict[str, dict], dict[str, Path]]:
    """(root header, every job and template by name, the file each came from)."""
    yaml = YAML(typ="safe")
    docs = list(yaml.load_all((ROOT / ".gitlab-ci.yml").read_text()))
    header, body = (docs[0], docs[1]) if len(docs) == 2 else ({}, docs[0])
    jobs: dict[str, dict] = {}
    origin: dict[str, Path] = {}
    for path, doc in [(ROOT / ".gitlab-ci.yml", body)] + [(p, yaml.load(p.read_text())) for p in CI_FILES]:
        for name, value in (doc or {}).items():
            if name in RESERVED:
                continue
            assert name not in jobs, f"{name} defined twice"
            jobs[name] = value
            origin[name] = path
    return header, jobs, origin


def resolved(jobs: dict, name: str) -> dict:
    """A job with its `extends` chain merged the way GitLab does (deep merge of hashes)."""
    job = jobs[name]
    parents = job.get("extends", [])
    parents = [parents] if isinstance(parents, str) else parents
    merged: dict = {}
    for parent in parents:
        merged = deep_merge(merged, resolved(jobs, parent))
    return deep_merge(merged, {k: v for k, v in job.items() if k != "extends"})


def deep_merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def script_lines(job: dict) -> list[str]:
    lines = []
    for key in ("before_script", "script", "after_script"):
        value = job.get(key, [])
        lines += [value] if isinstance(value, str) else [str(x) for x in value]
    return lines


def echoes_secret(line: str) -> str | None:
    """Why this script line could print a secret, or None."""
    if re.search(r"(^|[;&|]\s*)(env|printenv|export\s+-p|set\s+-x|set\s+-o\s+xtrace)\b", line.strip()):
        return "prints the environment"
    for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", line):
        if var in SECRET_VARS or SECRET_NAME.search(var):
            return f"uses the secret variable {var}"
    if re.search(r"curl\b.*(-v\b|--verbose|--trace)", line):
        return "curl --verbose prints headers"
    return None


class SchemaTests(unittest.TestCase):
    def test_every_file_validates_against_gitlabs_schema(self):
        with tempfile.TemporaryDirectory() as tmp:
            # check-jsonschema reads one YAML document: the root file's header (spec:inputs) and
            # body are validated apart, each against the same schema.
            header, body = (ROOT / ".gitlab-ci.yml").read_text().split("\n---\n", 1)
            parts = [Path(tmp) / "root-header.yml", Path(tmp) / "root-body.yml"]
            parts[0].write_text(header)
            parts[1].write_text(body)
            for path in parts + CI_FILES:
                out = validate(path)
                self.assertEqual(out.returncode, 0, f"{path.name}: {out.stdout}{out.stderr}")

    def test_jobs_with_their_templates_merged_validate(self):
        # The schema does not look inside hidden templates (`.rust`, `.dry-run` …): validate
        # every job again with its `extends` chain merged in, as GitLab will run it.
        import json
        _, jobs, _ = load_all()
        merged = {n: {k: v for k, v in resolved(jobs, n).items()} for n in jobs if not n.startswith(".")}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "merged-jobs.json"
            path.write_text(json.dumps(merged))
            out = validate(path)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_the_validation_really_runs(self):
        # Negative controls: an unknown job keyword, a bad `when`, a bad input type must fail,
        # so a green schema test means the files were checked.
        cases = {
            "unknown-key.yml": "job:\n  script: [echo]\n  environmnet: global/production\n",
            "bad-when.yml": "job:\n  script: [echo]\n  when: sometimes\n",
            "bad-input.yml": "spec:\n  inputs:\n    ticket_id:\n      type: integer\n",
            "bad-access.yml": "job:\n  script: [echo]\n  artifacts:\n    access: everyone\n    paths: [a]\n",
        }
        with tempfile.TemporaryDirectory() as tmp:
            for name, text in cases.items():
                path = Path(tmp) / name
                path.write_text(text)
                out = validate(path)
                self.assertNotEqual(out.returncode, 0, f"{name} was accepted: {out.stdout}")

    def test_inputs_are_typed_and_defaulted(self):
        header, _, _ = load_all()
        inputs = header["spec"]["inputs"]
        self.assertEqual(set(inputs), {"sync_job", "ticket_id", "ticket_event", "cases_instance"})
        for name, spec in inputs.items():
            self.assertIn("default", spec, f"{name}: merge request pipelines need a default")
            self.assertTrue(re.fullmatch(spec["regex"], spec["default"]), name)
        self.assertTrue(re.fullmatch(inputs["ticket_id"]["regex"], "123"))
        for bad in ("0", "12a", "1;x", "-1"):
            self.assertFalse(re.fullmatch(inputs["ticket_id"]["regex"], bad), bad)
        self.assertFalse(re.fullmatch(inputs["ticket_event"]["regex"], "deleted"))
        self.assertFalse(re.fullmatch(inputs["cases_instance"]["regex"], "emea"))


class StructureTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.header, cls.jobs, cls.origin = load_all()
        cls.real = {n: resolved(cls.jobs, n) for n in cls.jobs if not n.startswith(".")}

    def names(self, binary: str) -> list[str]:
        return [n for n in self.real if n.startswith(binary + ":")]

    def test_every_binary_has_build_test_dry_run_scheduled_and_release_jobs(self):
        for binary in BINARIES:
            names = self.names(binary)
            for kind in ("build", "test", "dry-run:sandbox", "dry-run:production", "scheduled",
                         "release:check", "release:build", "release:publish", "release"):
                self.assertTrue(any(n == f"{binary}:{kind}" or n.startswith(f"{binary}:{kind}:") for n in names),
                                f"{binary} has no {kind} job")
            self.assertEqual(self.origin[f"{binary}:build"].name, f"{binary}.yml")
            self.assertIn("release", self.real[f"{binary}:release"])
            self.assertEqual(self.real[f"{binary}:release"]["release"]["tag_name"], "$CI_COMMIT_TAG")

    def test_tag_patterns_match_their_binary_and_version_only(self):
        tag_rule = re.compile(r"\$CI_COMMIT_TAG =~ /(.+)/$")
        for binary in BINARIES:
            version = release.crate_version((ROOT / "bins" / binary / "Cargo.toml").read_text(), binary)
            for name in self.names(binary):
                if ":release" not in name:
                    continue
                patterns = [tag_rule.match(r["if"]).group(1) for r in self.real[name]["rules"]
                            if tag_rule.match(r.get("if", ""))]
                self.assertEqual(len(patterns), 1, name)
                pattern = patterns[0]
                self.assertTrue(re.fullmatch(pattern, f"{binary}-v{version}"), name)
                self.assertTrue(re.fullmatch(pattern, f"{binary}-v{version}-rc.1"), name)
                self.assertEqual(release.parse_tag(f"{binary}-v{version}"), (binary, version))
                for other in BINARIES:
                    if other != binary:
                        self.assertFalse(re.fullmatch(pattern, f"{other}-v{version}"), (name, other))
                self.assertFalse(re.fullmatch(pattern, f"{binary}-{version}"))
                self.assertFalse(re.fullmatch(pattern, f"{binary}-v{version}x"))

    def test_pinned_versions_are_released_versions(self):
        variables = {}
        for path in CI_FILES:
            variables.update(YAML(typ="safe").load(path.read_text()).get("variables", {}))
        for binary in BINARIES:
            manifest = tomllib.loads((ROOT / "bins" / binary / "Cargo.toml").read_text())
            cargo = manifest["package"]["version"]
            self.assertIsInstance(cargo, str, f"{binary} needs its own version")
            pinned = variables[run_sync.version_var(binary)]
            self.assertTrue(run_sync.SEMVER.fullmatch(pinned), pinned)
            self.assertLessEqual(release.version_key(pinned), release.version_key(cargo),
                                 f"{binary}: the pinned {pinned} is newer than the crate's {cargo}")
            for name in self.names(binary):
                for line in script_lines(self.real[name]):
                    if "--mode scheduled" in line or "--mode event" in line or "--mode approve" in line:
                        self.assertIn(f'--version "${run_sync.version_var(binary)}"', line, name)

    def test_runs_use_released_binaries_and_fixed_images(self):
        for name, job in self.real.items():
            image = job.get("image")
            image = image.get("name") if isinstance(image, dict) else image
            if image:
                self.assertNotIn("$", image, f"{name}: an image chosen by a variable")
            for line in script_lines(job):
                if "run_sync.py run" in line and ("--mode scheduled" in line or "--mode event" in line
                                                  or "--mode approve" in line):
                    self.assertNotIn("--binary-path", line, name)
                    self.assertEqual(image, "python:3.12-slim-bookworm", name)
                    self.assertFalse([n for n in job.get("needs", []) if ":build" in str(n)], name)
                if "--mode" in line:
                    # Nothing is installed at run time.
                    self.assertNotRegex(" ".join(script_lines(job)), r"apt-get|apk add|pip install", name)

    def test_no_job_echoes_a_secret(self):
        self.assertIsNotNone(echoes_secret('echo "$ZD_API_TOKEN"'))  # the check can fail
        self.assertIsNotNone(echoes_secret("printenv"))
        self.assertIsNotNone(echoes_secret("curl -v -H x ${SYNC_BOT_TOKEN}"))
        self.assertIsNone(echoes_secret('echo "Releasing $RELEASE_VERSION"'))
        for name, job in self.real.items():
            for line in script_lines(job):
                self.assertIsNone(echoes_secret(line), f"{name}: {line}")

    def test_no_variables_map_credentials_or_destinations(self):
        # The old cases template mapped FED_ZD_* onto ZD_* in `variables:`, which project
        # variables override; instances are kept apart by environments instead.
        forbidden = SECRET_VARS | set(run_sync.DESTINATION_VARS)
        blocks = [("root", self.real.get("variables", {}))]
        for path in [ROOT / ".gitlab-ci.yml"] + CI_FILES:
            docs = list(YAML(typ="safe").load_all(path.read_text()))
            blocks.append((path.name, docs[-1].get("variables", {}) or {}))
        blocks += [(n, j.get("variables", {}) or {}) for n, j in self.real.items()]
        for where, variables in blocks:
            for key, value in variables.items():
                self.assertNotIn(key, forbidden, f"{where} sets {key}")
                refs = re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", str(value))
                self.assertFalse([r for r in refs if r in forbidden or SECRET_NAME.search(r)], f"{where}: {key}")

    def runs(self):
        """(job name, binary, instance, mode) of every job that runs a binary."""
        found = []
        for name, job in self.real.items():
            text = " ".join(script_lines(job))
            m = re.search(r"run_sync\.py run --binary (\S+) --instance (\S+)\s+--mode (\S+)", text)
            if m:
                found.append((name, *m.groups()))
        return found

    def test_every_job_of_each_sync_declares_its_instances_environment(self):
        runs = self.runs()
        self.assertEqual(len(runs), 15)  # 4 per sync binary, 7 for the cases
        expected = {"scheduled": "production", "event": "production", "approve": "production",
                    "dry-run-production": "read-only", "dry-run-sandbox": "sandbox"}
        for name, binary, instance, mode in runs:
            job = self.real[name]
            self.assertEqual(self.origin[name].name, f"{binary}.yml", name)
            if binary in SYNC_INSTANCE:
                self.assertEqual(instance, SYNC_INSTANCE[binary], name)
            env = job.get("environment")
            self.assertIsInstance(env, dict, f"{name} declares no environment")
            self.assertEqual(env["name"], f"{instance}/{expected[mode]}", name)
            action = env.get("action", "start")
            if mode == "dry-run-production":
                self.assertEqual(action, "prepare", name)  # protected like a deployment, no deployment
                rules = job["rules"]
                self.assertTrue(all(r.get("when") == "manual" for r in rules), name)
                self.assertIn("--zd-rate-limit", " ".join(script_lines(job)), name)
            if mode in ("scheduled", "event", "approve"):
                self.assertEqual(action, "start", name)
        # Nothing in a sync's file reaches the other instance's environments.
        for name, job in self.real.items():
            env = job.get("environment")
            env_name = env["name"] if isinstance(env, dict) else env
            for binary, instance in SYNC_INSTANCE.items():
                if self.origin[name].name == f"{binary}.yml" and env_name:
                    self.assertTrue(env_name.startswith(instance + "/"), f"{name}: {env_name}")
            if env_name:
                self.assertIn(env_name.split("/")[0], INSTANCES, name)

    def test_cases_jobs_cover_both_instances(self):
        runs = {(instance, mode) for _, binary, instance, mode in self.runs() if binary == "salesforce-cases"}
        for instance in INSTANCES:
            for mode in ("event", "scheduled", "dry-run-production"):
                self.assertIn((instance, mode), runs)
        invalid = self.real["salesforce-cases:event:invalid"]
        self.assertNotIn("environment", invalid)

    def test_schedules_alerts_approvals_timeouts_and_resource_groups(self):
        for name, binary, instance, mode in self.runs():
            job = self.real[name]
            self.assertIn("timeout", job, f"{name} has no timeout")
            if mode in ("scheduled", "approve", "event"):
                self.assertIn("resource_group", job, name)
            if mode == "scheduled":
                self.assertEqual(job["allow_failure"], {"exit_codes": [3]}, name)
                self.assertEqual(job["artifacts"]["when"], "always", name)
                alerts = [n for n, j in self.real.items() if any(
                    (d.get("job") if isinstance(d, dict) else d) == name for d in j.get("needs", []))
                    and "alert.py" in " ".join(script_lines(j))]
                self.assertEqual(len(alerts), 1, f"{name}: one alert job")
                alert_job = self.real[alerts[0]]
                self.assertTrue(all(r.get("when") == "always" for r in alert_job["rules"]), alerts[0])
                self.assertEqual([r["if"] for r in alert_job["rules"]], [r["if"] for r in job["rules"]])
                if binary in SYNC_INSTANCE:
                    approve = self.real[f"{binary}:approve-mass-change"]
                    self.assertEqual(approve["resource_group"], job["resource_group"])
                    self.assertEqual(approve["environment"], job["environment"])
                    self.assertTrue(all(r.get("when") == "manual" for r in approve["rules"]))
                    self.assertEqual([r["if"] for r in approve["rules"]], [r["if"] for r in job["rules"]])
                    self.assertEqual(approve["needs"], [{"job": name, "artifacts": True}])
        self.assertEqual(self.real["zd-sfdc-sync-global:scheduled"]["resource_group"], "zd-sfdc-sync-global")

    def test_reports_are_artifacts_for_members_only(self):
        for name, binary, instance, mode in self.runs():
            artifacts = self.real[name]["artifacts"]
            self.assertEqual(artifacts["access"], "developer", name)
            self.assertEqual(artifacts["when"], "always", name)
            if mode.startswith("dry-run"):
                self.assertIn("expose_as", artifacts, name)
                self.assertIn("report.md", artifacts["paths"], name)
                self.assertIn("mr_note.py", " ".join(script_lines(self.real[name])), name)

    def test_merge_request_jobs_follow_their_binarys_files(self):
        for binary in BINARIES:
            build = self.real[f"{binary}:build"]["rules"][0]
            self.assertEqual(build["if"], '$CI_PIPELINE_SOURCE == "merge_request_event"')
            paths = build["changes"]
            for wanted in (f"bins/{binary}/**/*", "crates/sync-core/src/**/*", "crates/sync-jobs/**/*",
                           "crates/api-transport/**/*", "crates/sfdc-client/**/*", "crates/zendesk-client/**/*",
                           "Cargo.lock"):
                self.assertIn(wanted, paths, binary)
            for other in BINARIES:
                if other != binary:
                    self.assertFalse([p for p in paths if other in p], binary)
            if binary in SYNC_INSTANCE:
                self.assertIn(f"crates/sync-core/mappings/{SYNC_INSTANCE[binary]}.toml", paths)
                other_instance = [i for i in INSTANCES if i != SYNC_INSTANCE[binary]][0]
                self.assertNotIn(f"crates/sync-core/mappings/{other_instance}.toml", paths)
            # The test and dry-run jobs run exactly when the build does (a dry run needs the build).
            for name in self.names(binary):
                job = self.real[name]
                if name.endswith(":test") or ":dry-run:" in name:
                    mr_rules = [r for r in job["rules"] if "merge_request_event" in r.get("if", "")]
                    self.assertEqual([r["changes"] for r in mr_rules], [paths], name)

    def test_check_runs_the_full_gate_on_the_default_branch(self):
        check = self.real["check"]
        self.assertIn("bash .ci/run", script_lines(check))
        self.assertEqual(check["rules"][0]["if"],
                         '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"')
        run = (ROOT / ".ci" / "run").read_text()
        self.assertIn("cargo test --workspace --locked", run)
        self.assertIn("ci/tests/run.sh", run)

    def test_merge_request_template_asks_for_the_review_material(self):
        template = (ROOT / ".gitlab" / "merge_request_templates" / "Default.md").read_text()
        for wanted in ("Support-Ops-Category::Sync", "snapshot", "dry-run", "riticality"):
            self.assertIn(wanted, template)


if __name__ == "__main__":
    unittest.main()
