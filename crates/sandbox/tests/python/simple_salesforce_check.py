#!/usr/bin/env python3
"""Drives the simulated Salesforce with simple-salesforce (a real third-party client),
library code unchanged.

simple-salesforce builds ``https://{instance}/services/...`` URLs. A requests transport
adapter mounted on its session sends every https:// request to the sandbox's plain-HTTP
address and keeps the original ``Host`` header, so the sandbox sees the host the
library meant (``acme.my.salesforce.com``, ``login.salesforce.com``) and answers with
an ``instance_url`` on that host, which the adapter routes back to the sandbox again.

Every check names what it exercises; the script stops with a non-zero exit on the first
failure and prints a summary of the requests it sent.

Run (see README.md next to this file):

    pip install simple-salesforce
    cargo run -p sandbox --bin zd-sfdc-sandbox -- serve > /tmp/sbx.json &
    python3 crates/sandbox/tests/python/simple_salesforce_check.py "$(head -1 /tmp/sbx.json)"
"""

import json
import sys
import uuid
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.login import token_login

SEEN = Counter()  # "METHOD /path-prefix status" -> count


class ToSandbox(HTTPAdapter):
    """Sends https:// requests to the sandbox over plain HTTP, keeping the Host header."""

    def __init__(self, sandbox_url):
        super().__init__()
        self.target = urlsplit(sandbox_url)

    def send(self, request, **kwargs):
        original = urlsplit(request.url)
        request.headers["Host"] = original.netloc
        request.url = urlunsplit(
            ("http", self.target.netloc, original.path, original.query, original.fragment)
        )
        response = super().send(request, **kwargs)
        parts = original.path.rstrip("/").split("/")
        if len(parts) > 5 and parts[4] in ("query", "queryAll"):
            parts = parts[:5] + ["<locator>"]  # queryMore
        SEEN[f"{request.method} {'/'.join(parts[:6])} {response.status_code}"] += 1
        return response


def session_for(sandbox_url):
    s = requests.Session()
    s.mount("https://", ToSandbox(sandbox_url))
    return s


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok  {what}")


def expect_error(cls, fn, what):
    try:
        fn()
    except cls as e:
        print(f"ok  {what}: {cls.__name__}")
        return e
    except Exception as e:  # noqa: BLE001 - report which class came instead
        raise AssertionError(f"{what}: expected {cls.__name__}, got {type(e).__name__}: {e}")
    raise AssertionError(f"{what}: expected {cls.__name__}, nothing was raised")


def admin(sandbox_url, path):
    r = requests.post(f"{sandbox_url}{path}", timeout=10)
    r.raise_for_status()


def logins(sandbox_url):
    """The OAuth helpers simple-salesforce has: client credentials, JWT bearer, password."""
    sf = Salesforce(
        consumer_key="3MVG9-sandbox",
        consumer_secret="secret",
        domain="acme.my",
        session=session_for(sandbox_url),
    )
    check(sf.auth_type == "client-credentials", "client-credentials login (Basic auth, My Domain)")
    check(sf.sf_instance == "acme.my.salesforce.com", f"instance_url host used: {sf.sf_instance}")
    check(sf.query("SELECT Id FROM User")["totalSize"] >= 1, "a query with the issued token")

    # The flow is refused on the generic login host (reference §2.1).
    e = expect_error(
        SalesforceAuthenticationFailed,
        lambda: token_login(
            "https://login.salesforce.com/services/oauth2/token",
            {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
            "login",
            "a",
            None,
            None,
            session_for(sandbox_url),
        ),
        "client credentials on login.salesforce.com",
    )
    check(e.code == "invalid_grant" and e.auth_message == "request not supported on this domain",
          f"token error shape {{error, error_description}}: {e.code} / {e.auth_message}")

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    sf = Salesforce(
        username="integration@acme.example",
        consumer_key="3MVG9-sandbox",
        privatekey=pem,
        session=session_for(sandbox_url),
    )
    check(sf.auth_type == "jwt-bearer", "JWT bearer login (string exp, https:// aud)")
    check(sf.query("SELECT Id FROM User")["done"] is True, "a query with the JWT-issued token")

    sf = Salesforce(
        username="integration@acme.example",
        password="pw",
        consumer_key="3MVG9-sandbox",
        consumer_secret="secret",
        session=session_for(sandbox_url),
    )
    check(sf.auth_type == "password", "username-password OAuth login")
    return sf


def crud(sf, run):
    key = f"ssf-{run}"
    created = sf.Case.create({"Subject": "Printer on fire", "Origin": "Web",
                              "Zendesk_Support_Ticket_ID__c": key})
    check(created["success"] is True and created["errors"] == [] and len(created["id"]) == 18,
          f"Case.create → {created}")
    case = sf.Case.get(created["id"])
    check(case["attributes"]["type"] == "Case"
          and case["attributes"]["url"].endswith(f"/sobjects/Case/{created['id']}"),
          "Case.get has attributes{type,url}")
    check(case["Status"] == "New" and case["IsClosed"] is False and case["ClosedDate"] is None,
          "explicit nulls and a never-null boolean")
    check(sf.Case.update(created["id"], {"Status": "Closed"}) == 204, "Case.update → 204")
    case = sf.Case.get(created["id"])
    check(case["IsClosed"] is True and case["ClosedDate"].endswith("+0000"),
          f"closing derives IsClosed/ClosedDate ({case['ClosedDate']})")

    check(sf.Case.upsert(f"Zendesk_Support_Ticket_ID__c/{key}-u", {"Subject": "new"}) == 201,
          "upsert by external id, no match → 201")
    r = sf.Case.upsert(f"Zendesk_Support_Ticket_ID__c/{key}-u", {"Subject": "again"},
                       raw_response=True)
    check(r.status_code == 200 and r.json()["created"] is False, "upsert, one match → 200 created:false (v59)")
    got = sf.Case.get_by_custom_id("Zendesk_Support_Ticket_ID__c", f"{key}-u")
    check(got["Subject"] == "again", "get_by_custom_id")

    # Two Cases with one (non-unique) external id → 300 on upsert and on GET by it.
    for _ in range(2):
        sf.Case.create({"Subject": "dup", "Zendesk_Support_Ticket_ID__c": f"{key}-dup"})
    e = expect_error(SalesforceMoreThanOneRecord,
                     lambda: sf.Case.upsert(f"Zendesk_Support_Ticket_ID__c/{key}-dup", {"Subject": "x"}),
                     "upsert matching two records")
    check(isinstance(e.content, list) and len(e.content) == 2
          and all(u.startswith("/services/data/v") for u in e.content), "300 body is a list of record URLs")
    expect_error(SalesforceMoreThanOneRecord,
                 lambda: sf.Case.get_by_custom_id("Zendesk_Support_Ticket_ID__c", f"{key}-dup"),
                 "get_by_custom_id matching two records")

    e = expect_error(SalesforceResourceNotFound, lambda: sf.Case.get("500000000000000AAA"),
                     "get of a missing record")
    check(e.content[0]["errorCode"] == "NOT_FOUND", "404 body is the REST error array")
    e = expect_error(SalesforceMalformedRequest, lambda: sf.Case.create({"Bogus__c": 1}),
                     "create with an unknown field")
    check(e.content[0]["errorCode"] == "INVALID_FIELD", "400 INVALID_FIELD")
    e = expect_error(SalesforceMalformedRequest, lambda: sf.query("SELEKT Id FROM Case"),
                     "malformed SOQL")
    check(e.content == [{"message": "unexpected token: SELEKT", "errorCode": "MALFORMED_QUERY"}],
          "query error has no fields key")
    expect_error(SalesforceResourceNotFound,
                 lambda: sf.Case.upsert("No_Such_Field__c/1", {"Subject": "x"}),
                 "upsert by an unknown external id field")
    # sObject Collections through the generic REST helper: create, then upsert by key.
    path = "composite/sobjects"
    recs = [{"attributes": {"type": "Case"}, "Subject": f"coll {i}",
             "Zendesk_Support_Ticket_ID__c": f"{key}-c{i}"} for i in range(2)]
    made = sf.restful(path, method="POST", json={"allOrNone": False, "records": recs})
    check([r["success"] for r in made] == [True, True], "collections create: per-record results in order")
    ups = sf.restful(f"{path}/Case/Zendesk_Support_Ticket_ID__c", method="PATCH",
                     json={"records": recs + [{"attributes": {"type": "Case"}, "Subject": "no key"}]})
    check([(r["id"], r["created"]) for r in ups[:2]] == [(m["id"], False) for m in made]
          and ups[2]["success"] is False and "statusCode" in ups[2]["errors"][0],
          "collections upsert by external id: created:false for matches, statusCode in item errors")

    check(sf.Case.delete(created["id"]) == 204, "Case.delete → 204")
    e = expect_error(SalesforceResourceNotFound, lambda: sf.Case.get(created["id"]), "get of a deleted record")
    check(e.content[0]["errorCode"] == "ENTITY_IS_DELETED", "404 ENTITY_IS_DELETED")
    deleted = sf.query_all(f"SELECT Id FROM Case WHERE Id = '{created['id']}'", include_deleted=True)
    check(deleted["totalSize"] == 1, "queryAll returns the deleted row")
    check(sf.query(f"SELECT Id FROM Case WHERE Id = '{created['id']}'")["totalSize"] == 0,
          "query does not")


def paging(sf, run):
    n = 450
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    for i in range(n):
        sf.Case.create({"Subject": f"page {run} {i}", "AccountId": account,
                        "Zendesk_Support_Ticket_ID__c": f"pg-{run}-{i}"})
    soql = f"SELECT Id, Subject, Account.Name FROM Case WHERE Zendesk_Support_Ticket_ID__c LIKE 'pg-{run}-%'"
    batch = {"Sforce-Query-Options": "batchSize=200"}
    first = sf.query(soql, headers=batch)
    check(first["totalSize"] == n and first["done"] is False and len(first["records"]) == 200,
          "first page: totalSize is the total, done:false, 200 rows")
    check("/query/" in first["nextRecordsUrl"], f"nextRecordsUrl {first['nextRecordsUrl']}")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True, headers=batch)
    check(second["totalSize"] == n, "totalSize repeated on page 2")
    everything = sf.query_all(soql, headers=batch)
    ids = {r["Id"] for r in everything["records"]}
    check(len(everything["records"]) == n and len(ids) == n, f"query_all followed nextRecordsUrl: {n} distinct rows")
    check(all(r["Account"]["attributes"]["type"] == "Account" for r in everything["records"]),
          "parent relationship nested with its own attributes")
    more = sum(c for k, c in SEEN.items() if "/query/<locator> 200" in k)
    check(more >= 3, f"queryMore calls were made ({more})")

    # A child set larger than the inline child page has its own nextRecordsUrl;
    # simple-salesforce's query_all does not follow it (its issue #311), query_more can.
    soql = f"SELECT Id, (SELECT Id FROM Cases WHERE Zendesk_Support_Ticket_ID__c LIKE 'pg-{run}-%') FROM Account WHERE Id = '{account}'"
    parent = sf.query_all(soql)["records"][0]
    child = parent["Cases"]
    check(child["totalSize"] == n and child["done"] is False and len(child["records"]) < n,
          f"child set pages: {len(child['records'])} of {n} inline, done:false")
    rows = list(child["records"])
    url = child["nextRecordsUrl"]
    while url:
        page = sf.query_more(url, identifier_is_url=True)
        rows += page["records"]
        url = page.get("nextRecordsUrl") if not page["done"] else None
    check(len({r["Id"] for r in rows}) == n, "following the child nextRecordsUrl yields every child")
    none = sf.query(f"SELECT Id, (SELECT Id FROM Cases WHERE Subject = 'no such {run}') FROM Account WHERE Id = '{account}'")
    check(none["records"][0]["Cases"] is None, "an empty child set is null")


def sessions(sandbox_url, sf_login):
    """401 handling: the library re-logs in on INVALID_SESSION_ID; a bare token cannot."""
    admin(sandbox_url, "/__admin/tokens/expire")
    check(sf_login.query("SELECT Id FROM User LIMIT 1")["done"] is True,
          "after expiry the library re-authenticated once and repeated the call")
    direct = Salesforce(instance_url=sandbox_url, session_id="00Dbogus!token",
                        session=session_for(sandbox_url))
    e = expect_error(SalesforceExpiredSession, lambda: direct.query("SELECT Id FROM User"),
                     "a bad session id")
    check(e.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
          "401 body")
    usage = sf_login.api_usage.get("api-usage")
    check(usage is not None and usage.total > 0, f"Sforce-Limit-Info parsed: {usage}")
    admin(sandbox_url, f"/__admin/limits?daily={usage.used}")
    try:
        e = expect_error(SalesforceRefusedRequest, lambda: sf_login.query("SELECT Id FROM User"),
                         "daily limit reached")
        check(e.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED", "403 REQUEST_LIMIT_EXCEEDED")
    finally:
        admin(sandbox_url, "/__admin/limits?daily=100000")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: simple_salesforce_check.py '<first line printed by zd-sfdc-sandbox serve>'")
    sandbox_url = json.loads(sys.argv[1])["salesforce"]
    run = uuid.uuid4().hex[:8]
    sf = logins(sandbox_url)
    crud(sf, run)
    paging(sf, run)
    sessions(sandbox_url, sf)
    print("\nrequests sent (method, path prefix, status):")
    for k, c in sorted(SEEN.items()):
        print(f"  {c:4}  {k}")
    print("\nall simple-salesforce checks passed")


if __name__ == "__main__":
    main()
