#!/usr/bin/env python3
"""Drives the simulated Zendesk with zenpy (a real third-party client), library code unchanged.

zenpy builds ``https://{subdomain}.zendesk.com/api/v2/...`` URLs; a requests transport
adapter mounted on its session rewrites them to the sandbox's plain-HTTP address. Every
check below names what it exercises; the script exits non-zero on the first failure.

Run (see README.md next to this file):

    pip install zenpy
    cargo run -p sandbox --bin zd-sfdc-sandbox -- serve --job-latency-ms 500 > /tmp/sbx.json &
    python3 crates/sandbox/tests/python/zenpy_check.py "$(head -1 /tmp/sbx.json)"
"""

import json
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from zenpy import Zenpy
from zenpy.lib.api_objects import Organization, Ticket, User
from zenpy.lib.exception import APIException, RecordNotFoundException, TooManyValuesException

SUBDOMAIN = "sandbox"
SEEN = []  # (method, rewritten url, status) of every request


class RewriteToSandbox(HTTPAdapter):
    """Sends https://{SUBDOMAIN}.zendesk.com/... to the sandbox's http://127.0.0.1:PORT/..."""

    def __init__(self, target):
        super().__init__()
        self.target = urlsplit(target)

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        sent = request
        if parts.hostname == f"{SUBDOMAIN}.zendesk.com":
            sent = request.copy()
            sent.url = urlunsplit(
                (self.target.scheme, self.target.netloc, parts.path, parts.query, "")
            )
        response = super().send(sent, **kwargs)
        SEEN.append((sent.method, sent.url, response.status_code))
        # zenpy picks its response handler by the URL it asked for: give it back.
        response.request = request
        return response


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok   {what}")


def wait_job(zd, job_id, timeout=60):
    """Polls job_statuses/{id} until a terminal state; returns the JobStatus."""
    states = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = zd.job_status(id=job_id)
        states.append(job.status)
        if job.status in ("completed", "failed", "killed"):
            return job, states
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {states}")


def main(sandbox_urls):
    urls = json.loads(sandbox_urls)
    session = requests.Session()
    adapter = RewriteToSandbox(urls["zendesk"])
    session.mount("https://", adapter)  # zenpy's own URLs
    session.mount("http://", adapter)  # links the sandbox hands out (its own address)
    zd = Zenpy(
        subdomain=SUBDOMAIN,
        email="ops@example.com",
        token="sandbox-token",
        session=session,
        disable_cache=True,
    )
    run = uuid.uuid4().hex[:8]

    # Organizations, cursor pagination through zenpy's generator (page[size], links.next
    # followed while meta.has_more).
    orgs = list(zd.organizations())
    check(len(orgs) > 0, f"organizations listed with cursor pagination: {len(orgs)}")
    check(len({o.id for o in orgs}) == len(orgs), "no organization listed twice")
    check(
        any("page%5Bsize%5D=100" in u or "page[size]=100" in u for _, u, _ in SEEN),
        "zenpy asked for page[size]=100",
    )
    # The same walk two at a time: several pages, each next page from links.next.
    small = list(zd.organizations(cursor_pagination=2))
    check([o.id for o in small] == [o.id for o in orgs],
          f"page[size]=2 walks the same {len(small)} organizations over several pages")
    check(sum("page%5Bafter%5D" in u for _, u, _ in SEEN) >= len(orgs) // 2 - 1,
          "later pages were asked for with page[after]")
    first = orgs[0]
    check(isinstance(first.organization_fields, dict), "organization_fields is an object")

    shown = zd.organizations(id=first.id)
    check(shown.id == first.id and shown.name == first.name, f"organization show {first.id}")

    # Users, cursor pagination.
    users = list(zd.users())
    check(len(users) > 0, f"users listed with cursor pagination: {len(users)}")
    with_email = next(u for u in users if u.email)
    check(zd.users(id=with_email.id).email == with_email.email, "user show")

    # users/search by email, in the forms zenpy and the docs use.
    found = list(zd.users.search(query=with_email.email))
    check([u.id for u in found] == [with_email.id], f"users/search?query={with_email.email}")
    found = list(zd.users.search(query=f'email:"{with_email.email}"'))
    check([u.id for u in found] == [with_email.id], 'users/search?query=email:"…"')
    found = list(zd.search(type="user", email=with_email.email))
    check([u.id for u in found] == [with_email.id], "search.json?query=type:user email:…")

    # organization_fields, with drop-down options {id, name, raw_name, value}.
    fields = list(zd.organization_fields())
    check(len(fields) > 0, f"organization_fields listed: {len(fields)}")
    dropdowns = [f for f in fields if f.type == "dropdown"]
    check(len(dropdowns) > 0, "a drop-down organization field")
    opt = dropdowns[0].custom_field_options[0]
    check(
        all(getattr(opt, k, None) is not None for k in ("id", "name", "raw_name", "value")),
        "custom_field_options carry id, name, raw_name, value",
    )
    check(zd.organization_fields(id=fields[0].id).key == fields[0].key, "organization_field show")

    # create_many organizations → queued JobStatus, polled to completed.
    new_orgs = [Organization(name=f"zenpy {run} {i}") for i in range(3)]
    job = zd.organizations.create(new_orgs)
    check(job.status == "queued" and job.total == 3 and job.progress is None,
          f"create_many answered a queued job_status {job.id}")
    check(job.id.startswith("V3-"), "job id is an opaque V3- string")
    done, states = wait_job(zd, job.id)
    check(done.status == "completed" and done.progress == 3, f"job completed via {states}")
    rows = done.results
    check(len(rows) == 3 and all(r.status == "Created" and r.id for r in rows),
          "org create rows are {status: Created, id}")
    created_ids = [r.id for r in rows]

    # job_statuses/show_many.
    many = zd.job_status(ids=[job.id])
    many = list(many) if not isinstance(many, dict) else many["job_statuses"]
    check([j.id for j in many] == [job.id], "job_statuses/show_many?ids=")

    # show_many organizations by id.
    got = list(zd.organizations(ids=created_ids))
    check(sorted(o.id for o in got) == sorted(created_ids), "organizations/show_many?ids=")

    # update_many organizations (batch form), one row failing on a duplicate name.
    taken = orgs[0].name
    updates = [Organization(id=created_ids[0], notes="updated by zenpy"),
               Organization(id=created_ids[1], name=taken)]
    job = zd.organizations.update(updates)
    done, states = wait_job(zd, job.id)
    rows = done.results
    check(done.status == "completed", f"update_many job completed despite a bad row: {states}")
    ok_row, bad_row = rows[0], rows[1]
    check(ok_row.status == "Updated" and ok_row.success is True and ok_row.action == "update",
          "update_many success row {action, id, status: Updated, success: true}")
    check(bad_row.index == 1 and bad_row.error and bad_row.details,
          f"update_many failed row {{index, error, id, details}}: {bad_row.error}")
    check(zd.organizations(id=created_ids[0]).notes == "updated by zenpy", "update applied")

    # More than 100 organizations: 400 TooManyValues (zenpy may refuse client-side).
    try:
        zd.organizations.create([Organization(name=f"zenpy {run} x{i}") for i in range(101)])
        check(False, "create_many of 101 refused")
    except (TooManyValuesException, Exception) as e:  # zenpy checks the count itself
        check("100" in str(e) or isinstance(e, TooManyValuesException),
              f"create_many of 101 refused: {type(e).__name__}")

    # Unknown id: 404 RecordNotFound.
    try:
        zd.organizations(id=9223372036854775807)
        check(False, "unknown organization is 404")
    except RecordNotFoundException:
        check(True, "unknown organization is RecordNotFound")

    # create_many users → JobStatus; update_many users.
    new_users = [User(name=f"Zenpy {run} {i}", email=f"zenpy-{run}-{i}@example.com",
                      organization_id=created_ids[0]) for i in range(2)]
    job = zd.users.create(new_users)
    check(job.status == "queued", "users/create_many answered a queued job_status")
    done, states = wait_job(zd, job.id)
    rows = done.results
    check(done.status == "completed" and [r.status for r in rows] == ["Created", "Created"],
          f"users/create_many rows Created: {states}")
    user_ids = [r.id for r in rows]
    job = zd.users.update([User(id=user_ids[0], name=f"Zenpy {run} renamed")])
    done, _ = wait_job(zd, job.id)
    check(done.results[0].status == "Updated", "users/update_many row Updated")
    check(zd.users(id=user_ids[0]).name == f"Zenpy {run} renamed", "user update applied")
    found = list(zd.users.search(query=f"zenpy-{run}-1@example.com"))
    check([u.id for u in found] == [user_ids[1]], "a new user is found by email")

    # Duplicate email on a single create: 422 RecordInvalid / DuplicateValue.
    try:
        zd.users.create(User(name="Dup", email=f"zenpy-{run}-1@example.com"))
        check(False, "duplicate email refused")
    except APIException as e:
        body = json.loads(str(e))
        check(body["details"]["email"][0]["error"] == "DuplicateValue",
              "duplicate email is 422 details.email[].error = DuplicateValue")

    # users/show_many, create_or_update (201 created, then 200 updated).
    got = list(zd.users(ids=user_ids))
    check(sorted(u.id for u in got) == sorted(user_ids), "users/show_many?ids=")
    upserted = zd.users.create_or_update(User(name="Upsert", email=f"zenpy-{run}-u@example.com"))
    check(upserted.id and SEEN[-1][2] == 201, "users/create_or_update created (201)")
    again = zd.users.create_or_update(User(name="Upsert 2", email=f"zenpy-{run}-u@example.com"))
    check(again.id == upserted.id and SEEN[-1][2] == 200, "users/create_or_update updated (200)")

    # users/me, and a single user update (PUT users/{id}).
    me = zd.users.me()
    check(me.role == "admin", f"users/me answers the agent: {me.email}")
    one = zd.users(id=user_ids[1])
    one.name = f"Zenpy {run} single"
    check(zd.users.update(one).name == one.name, "PUT users/{id} updates one user")

    # General search for an organization by name.
    found = list(zd.search(type="organization", name=f"zenpy {run} 2"))
    check([o.id for o in found] == [created_ids[2]], "search.json?query=type:organization name:…")

    # job_statuses list (offset form for zenpy) holds the jobs submitted so far.
    listed = [j.id for j in zd.job_status()["job_statuses"]]  # zenpy answers a dict here
    check(job.id in listed, f"job_statuses list holds {len(listed)} jobs")

    # A throttled request: 429 text/plain with Retry-After, zenpy waits and repeats.
    admin = urls["zendesk"] + "/__admin/faults"
    plan = {"seed": 0, "rules": [{"fault": {"kind": "rate_limited", "retry_after_secs": 1},
                                  "when": {"nth": 1}, "api": "zendesk",
                                  "endpoint": "GET /api/v2/users/{id}"}]}
    requests.put(admin, json=plan, timeout=10).raise_for_status()
    before = len(SEEN)
    check(zd.users(id=user_ids[0]).id == user_ids[0], "a 429 is waited out and repeated")
    check([st for _, _, st in SEEN[before:]] == [429, 200], "the sandbox answered 429 then 200")

    # A whole job that fails: status failed, results null, nothing created.
    plan = {"seed": 0, "rules": [{"fault": {"kind": "fail_job"}, "when": "always",
                                  "api": "zendesk",
                                  "endpoint": "POST /api/v2/organizations/create_many"}]}
    requests.put(admin, json=plan, timeout=10).raise_for_status()
    job = zd.organizations.create([Organization(name=f"zenpy {run} doomed")])
    done, states = wait_job(zd, job.id)
    check(done.status == "failed" and done.results is None, f"a failed job: {states}")
    requests.put(admin, json={"seed": 0, "rules": []}, timeout=10).raise_for_status()

    # destroy_many: a job whose rows say Deleted; the orgs are gone.
    job = zd.organizations.delete([Organization(id=i) for i in created_ids])
    done, _ = wait_job(zd, job.id)
    check(all(r.status == "Deleted" for r in done.results), "destroy_many rows Deleted")
    try:
        zd.organizations(id=created_ids[0])
        check(False, "a deleted organization is 404")
    except RecordNotFoundException:
        check(True, "a deleted organization is RecordNotFound")

    # Tickets: create (the API user is the requester), list, show, show_many.
    audit = zd.tickets.create(Ticket(subject=f"zenpy {run}", description="made by zenpy"))
    made = audit.ticket
    check(made.id and made.status == "new" and SEEN[-1][2] == 201, "ticket create is 201")
    check(made.requester_id == me.id, "a ticket without requester belongs to the API user")
    kept = zd.tickets.create(Ticket(subject=f"zenpy {run} kept", description="stays")).ticket
    tickets = list(zd.tickets())
    check({made.id, kept.id} <= {x.id for x in tickets},
          f"tickets listed with cursor pagination: {len(tickets)}")
    t = zd.tickets(id=tickets[0].id)
    check(t.status in ("new", "open", "pending", "hold", "solved", "closed"),
          f"ticket show: status {t.status}")
    check(t.requester_id is not None and t.via is not None and isinstance(t.custom_fields, list),
          "ticket carries requester_id, via and a custom_fields array")
    many = list(zd.tickets(ids=[x.id for x in tickets[:100]]))
    check(sorted(x.id for x in many) == sorted(x.id for x in tickets[:100]),
          "tickets/show_many?ids=")
    zd.tickets.delete(made)
    check(SEEN[-1][2] == 204, "ticket delete is 204")
    tickets = [x for x in tickets if x.id != made.id]

    # Incremental ticket export, cursor form, to end_of_stream.
    exported = list(zd.tickets.incremental(start_time=0))
    check({x.id for x in tickets} <= {x.id for x in exported},
          f"incremental/tickets/cursor exported {len(exported)} tickets")
    check([x.status for x in exported if x.id == made.id] == ["deleted"],
          "the deleted ticket is exported with status deleted")
    one_by_one = list(zd.tickets.incremental(start_time=0, per_page=1))
    check([x.id for x in one_by_one] == [x.id for x in exported],
          "the export one ticket a page follows after_url to end_of_stream")
    check(any("/incremental/tickets/cursor" in u for _, u, _ in SEEN),
          "the cursor export endpoint was used")
    by_time = list(zd.tickets.incremental(start_time=0, paginate_by_time=True))
    check({x.id for x in by_time} == {x.id for x in exported},
          "incremental/tickets time-based export, same tickets")
    all_users = {u.id for u in zd.users()}
    check({u.id for u in zd.users.incremental(start_time=0)} == all_users,
          "incremental/users/cursor export, every user")
    all_orgs = {o.id for o in zd.organizations()}
    check({o.id for o in zd.organizations.incremental(start_time=0)} == all_orgs,
          "incremental/organizations time-based export, every organization")

    # Every request went to the sandbox over plain HTTP.
    check(all(u.startswith(urls["zendesk"]) for _, u, _ in SEEN),
          f"all {len(SEEN)} requests reached the sandbox")
    print(f"zenpy check passed ({len(SEEN)} requests)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
