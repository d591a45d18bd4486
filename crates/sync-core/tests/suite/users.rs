//! User decisions (docs/behaviour.md §6).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use sync_core::model::{BillingAccount, Contact, FindingKind};
use sync_core::users::{
    choose_user_reads, decide_sold_to, is_new_org, is_valid_email, plan_federal_users,
    sold_to_contacts, user_read_costs, UserAction, UserReadInputs, UserReadWay,
};
use sync_core::zendesk::ZendeskUser;
use sync_core::{SalesforceId, ZendeskOrgId, ZendeskUserId};

use crate::common::{date, org};

/// A full 18-character id, parsed.
fn valid_id(id: &str) -> SalesforceId {
    SalesforceId::parse(id).unwrap_or_else(|e| panic!("{e}"))
}

fn user(id: u64, name: &str, email: &str, role: &str, org: Option<u64>) -> ZendeskUser {
    serde_json::from_value(json!({
        "id": id, "url": "https://x.zendesk.com/api/v2/users/1.json", "name": name, "email": email,
        "created_at": "2024-01-01T00:00:00Z", "role": role, "organization_id": org, "tags": [],
        "active": true, "suspended": false, "user_fields": {}
    }))
    .expect("user json")
}

fn billing(name: Option<&str>, email: &str) -> BillingAccount {
    BillingAccount {
        name: name.map(str::to_string),
        sold_to_email: Some(email.to_string()),
    }
}

fn contact(name: &str, email: &str, account: Option<&str>) -> Contact {
    Contact {
        name: Some(name.to_string()).filter(|s| !s.trim().is_empty()),
        email: Some(email.to_string()).filter(|s| !s.trim().is_empty()),
        account_id: account.map(str::to_string),
    }
}

#[test]
fn sold_to_emails_are_trimmed_lowercased_valid_and_deduplicated() {
    let contacts = sold_to_contacts(&[
        billing(Some("Billing"), " Bill@Example.COM "),
        billing(Some("Other name"), "bill@example.com"),
        billing(None, "ap@example.com"),
        billing(Some("Bad"), "not-an-email"),
        billing(Some("Bad"), "two@@example.com"),
    ]);
    let got: Vec<(&str, &str)> = contacts
        .iter()
        .map(|c| (c.email.as_str(), c.name.as_str()))
        .collect();
    assert_eq!(
        got,
        [("bill@example.com", "Billing"), ("ap@example.com", "ap")]
    );
    assert!(is_valid_email("a.b+c@sub.example.org"));
    assert!(!is_valid_email("a b@example.org"));
    assert!(!is_valid_email("@example.org"));
    assert!(!is_valid_email("a@localhost"));
}

#[test]
fn sold_to_creates_assigns_or_reports_per_email() {
    let candidates = sold_to_contacts(&[
        billing(Some("New Person"), "new@example.com"),
        billing(Some("Loose"), "loose@example.com"),
        billing(Some("Taken"), "taken@example.com"),
        billing(Some("Agent"), "agent@example.com"),
    ]);
    let known: BTreeMap<String, ZendeskUser> = [
        (
            "loose@example.com".to_string(),
            user(1, "Loose", "loose@example.com", "end-user", None),
        ),
        (
            "taken@example.com".to_string(),
            user(2, "Taken", "taken@example.com", "end-user", Some(77)),
        ),
        (
            "agent@example.com".to_string(),
            user(3, "Agent", "agent@example.com", "agent", None),
        ),
    ]
    .into();
    let plan = decide_sold_to(
        "0014M00001NewOrgAA",
        ZendeskOrgId(500),
        &candidates,
        &known,
        &BTreeSet::new(),
        &std::collections::BTreeSet::new(),
        0,
    );
    assert_eq!(
        plan.actions,
        vec![
            UserAction::Update {
                user_id: ZendeskUserId(1),
                email: "loose@example.com".into(),
                name: None,
                organization_id: Some(ZendeskOrgId(500))
            },
            UserAction::Create {
                name: "New Person".into(),
                email: "new@example.com".into(),
                organization_id: ZendeskOrgId(500)
            },
        ]
    );
    let kinds: Vec<FindingKind> = plan.findings.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [FindingKind::SoldToInOtherOrg, FindingKind::ProtectedUser]
    );
}

#[test]
fn a_new_org_without_any_user_is_reported() {
    let candidates = sold_to_contacts(&[billing(None, "taken@example.com")]);
    let known: BTreeMap<String, ZendeskUser> = [(
        "taken@example.com".to_string(),
        user(2, "T", "taken@example.com", "end-user", Some(77)),
    )]
    .into();
    let plan = decide_sold_to(
        "0014M00001NewOrgAA",
        ZendeskOrgId(500),
        &candidates,
        &known,
        &BTreeSet::new(),
        &std::collections::BTreeSet::new(),
        0,
    );
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.findings.last().map(|f| f.kind),
        Some(FindingKind::NoContactForNewOrg)
    );
    assert_eq!(
        plan.findings.last().map(|f| f.message.as_str()),
        Some(
            "new org 500 has no user: none of its 1 sold-to email(s) could be added \
             (see the findings for those emails)"
        )
    );
    let plan = decide_sold_to(
        "0014M00001NewOrgAA",
        ZendeskOrgId(500),
        &[],
        &BTreeMap::new(),
        &BTreeSet::new(),
        &std::collections::BTreeSet::new(),
        0,
    );
    assert_eq!(plan.findings[0].kind, FindingKind::NoContactForNewOrg);
    assert_eq!(
        plan.findings[0].message,
        "new org 500 has no user: its account has no valid sold-to email \
         (Zuora__SoldToWorkEmail__c of its billing accounts)"
    );
    // Already has a user (found by the org's user list): no finding.
    let plan = decide_sold_to(
        "0014M00001NewOrgAA",
        ZendeskOrgId(500),
        &[],
        &BTreeMap::new(),
        &BTreeSet::new(),
        &std::collections::BTreeSet::new(),
        1,
    );
    assert!(plan.findings.is_empty());
}

#[test]
fn an_org_counts_as_new_for_seven_days_whatever_users_it_has() {
    let o = org(1, "Fresh", json!({}), &[]); // created 2024-01-01T00:00:00Z
    assert!(is_new_org(&o, date("2024-01-01")));
    assert!(is_new_org(&o, date("2024-01-07")));
    assert!(!is_new_org(&o, date("2024-01-08")));
    // A date at the edge of the calendar is no panic.
    assert!(!is_new_org(&o, time::Date::MIN));
}

/// docs/behaviour.md §6: each sold-to email of a new org is checked on every run of its week. An org
/// that already has two of its three sold-to users gets the third created, the other two
/// untouched; an email among Zendesk's deleted users is not created again.
#[test]
fn sold_to_recovery_is_per_email_and_deleted_users_stay_deleted() {
    let candidates = sold_to_contacts(&[
        billing(Some("One"), "one@example.com"),
        billing(Some("Two"), "two@example.com"),
        billing(Some("Three"), "three@example.com"),
        billing(Some("Gone"), "gone@example.com"),
    ]);
    let known: BTreeMap<String, ZendeskUser> = [
        (
            "one@example.com".to_string(),
            user(1, "One", "one@example.com", "end-user", Some(500)),
        ),
        (
            "two@example.com".to_string(),
            user(2, "Two", "two@example.com", "end-user", Some(500)),
        ),
    ]
    .into();
    let deleted: BTreeSet<String> = ["gone@example.com".to_string()].into();
    let plan = decide_sold_to(
        "0014M00001NewOrgAA",
        ZendeskOrgId(500),
        &candidates,
        &known,
        &deleted,
        &std::collections::BTreeSet::new(),
        2,
    );
    assert_eq!(
        plan.actions,
        vec![UserAction::Create {
            name: "Three".into(),
            email: "three@example.com".into(),
            organization_id: ZendeskOrgId(500)
        }]
    );
    assert_eq!(plan.unchanged, 2);
    let findings: Vec<(FindingKind, Option<&str>)> = plan
        .findings
        .iter()
        .map(|f| (f.kind, f.email.as_deref()))
        .collect();
    assert_eq!(
        findings,
        [(
            FindingKind::DeletedUserNotRecreated,
            Some("gone@example.com")
        )]
    );
    assert_eq!(
        FindingKind::DeletedUserNotRecreated.as_str(),
        "deleted_user_not_recreated"
    );
    assert!(sync_core::report::ErrorKind::from(FindingKind::DeletedUserNotRecreated).is_finding());
}

fn reads(emails: u64, orgs: u64, users: u64, rpm: u32) -> UserReadInputs {
    UserReadInputs {
        emails,
        orgs,
        users_estimate: users,
        requests_per_minute: rpm,
    }
}

/// docs/behaviour.md §6: few emails → targeted lookups; many → one scan; the wall time at the
/// rate limits decides, fewer calls break a tie.
#[test]
fn user_reads_take_the_cheaper_way() {
    // An hourly run with three new orgs on an account of 200,000 end-users.
    let c = choose_user_reads(&reads(3, 0, 200_000, 200));
    assert_eq!((c.way, c.calls), (UserReadWay::Lookups, 3));
    // A first run creating 30,000 orgs: 2,000 list pages beat 30,000 lookups, and at
    // 200/min beat the export's 200 pages at 10/min (20 min against 10).
    let c = choose_user_reads(&reads(30_000, 0, 200_000, 200));
    assert_eq!(
        (c.way, c.calls, c.wall_ms),
        (UserReadWay::ListScan, 2_000, 600_000)
    );
    // Below 100 requests a minute the export's 1,000-record pages win.
    let c = choose_user_reads(&reads(30_000, 0, 200_000, 50));
    assert_eq!((c.way, c.calls), (UserReadWay::ExportScan, 200));
    // Emails and orgs both count as lookups: 60 + 50 > 100 pages.
    let c = choose_user_reads(&reads(60, 50, 10_000, 700));
    assert_eq!((c.way, c.calls), (UserReadWay::ListScan, 100));
    // A tie on wall time (100 lookups, 100 pages): fewer calls decide, then lookups.
    let c = choose_user_reads(&reads(100, 0, 10_000, 700));
    assert_eq!(c.way, UserReadWay::Lookups);
    let c = choose_user_reads(&reads(101, 0, 10_000, 700));
    assert_eq!(c.way, UserReadWay::ListScan);
    // An empty account still costs one page to scan; nothing to read costs nothing.
    let costs = user_read_costs(&reads(5, 0, 0, 200));
    assert_eq!(costs.map(|c| c.calls), [5, 1, 1]);
    let c = choose_user_reads(&reads(0, 0, 1_000_000, 200));
    assert_eq!((c.way, c.calls), (UserReadWay::Lookups, 0));
    // A zero rate limit is no division by zero.
    assert!(choose_user_reads(&reads(1, 0, 1, 0)).wall_ms > 0);
}

#[test]
fn federal_contacts_invalid_duplicates_orgs_creates_updates_and_protected_users() {
    let army = "0014M00002ArmyAAAA";
    let navy = "0014M00002NavyAAAA";
    let contacts = [
        contact("Alice", "alice@army.example", Some(army)),
        contact("Bob", "Bob@Navy.example", Some(navy)),
        contact("Robert", "bob@navy.EXAMPLE", Some(navy)),
        contact("Dave Agent", "dave@army.example", Some(navy)),
        contact("Erin", "erin@army.example", Some(army)),
        contact("Frank", "frank@navy.example", Some(navy)),
        contact("", "blank@army.example", Some(army)),
        contact("No Account", "noacct@army.example", None),
        contact("Bad Email", "bad-email", Some(army)),
        contact("Lost", "lost@example.com", Some("0014M00002UnknownA")),
        contact("Carol", "carol@nasa.example", Some(army)),
    ];
    let org_ids: BTreeMap<SalesforceId, ZendeskOrgId> = [
        (valid_id(army), ZendeskOrgId(100)),
        (valid_id(navy), ZendeskOrgId(200)),
    ]
    .into();
    let users = [
        user(1, "Alice A.", "ALICE@army.example", "end-user", Some(100)),
        user(2, "Dave Agent", "dave@army.example", "agent", None),
        user(3, "Erin", "erin@army.example", "end-user", Some(100)),
        user(4, "Frank", "frank@navy.example", "end-user", Some(100)),
        user(5, "Zendesk Only", "zed@army.example", "end-user", Some(100)),
    ];
    let plan = plan_federal_users(&contacts, &org_ids, &users);
    assert_eq!(
        plan.actions,
        vec![
            UserAction::Update {
                user_id: ZendeskUserId(1),
                email: "alice@army.example".into(),
                name: Some("Alice".into()),
                organization_id: None
            },
            UserAction::Create {
                name: "Carol".into(),
                email: "carol@nasa.example".into(),
                organization_id: ZendeskOrgId(100)
            },
            UserAction::Update {
                user_id: ZendeskUserId(4),
                email: "frank@navy.example".into(),
                name: None,
                organization_id: Some(ZendeskOrgId(200))
            },
        ]
    );
    assert_eq!(plan.unchanged, 1);
    let mut kinds: Vec<(FindingKind, Option<String>)> = plan
        .findings
        .iter()
        .map(|f| (f.kind, f.email.clone()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            (FindingKind::InvalidContact, Some("bad-email".into())),
            (
                FindingKind::InvalidContact,
                Some("blank@army.example".into())
            ),
            (
                FindingKind::InvalidContact,
                Some("noacct@army.example".into())
            ),
            (FindingKind::DuplicateEmail, Some("bob@navy.example".into())),
            (FindingKind::NoOrganization, Some("lost@example.com".into())),
            (FindingKind::ProtectedUser, Some("dave@army.example".into())),
        ]
    );
    assert_eq!(plan.records, contacts.len());
}

#[test]
fn a_contact_without_email_is_named_in_its_finding() {
    let frank = Contact {
        name: Some("Frank Foster".into()),
        email: None,
        account_id: Some("0018SDEMO000102QPA".into()),
    };
    let plan = plan_federal_users(&[frank], &BTreeMap::new(), &[]);
    assert_eq!(plan.findings.len(), 1);
    assert_eq!(plan.findings[0].kind, FindingKind::InvalidContact);
    assert_eq!(
        plan.findings[0].message,
        "field Email: blank (contact Frank Foster)"
    );
    assert!(plan.actions.is_empty());
}

// The steps of `plan_federal_users`, one rule each.

#[test]
fn an_invalid_contact_is_reported_with_its_first_problem() {
    let army = "0014M00002ArmyAAAA";
    let contacts = [
        contact("", "", None),
        contact("Nobody", "", Some(army)),
        contact("Odd", " not an email ", Some(army)),
        contact("Orphan", "Orphan@Army.example", None),
    ];
    let plan = plan_federal_users(&contacts, &BTreeMap::new(), &[]);
    let found: Vec<(&str, Option<&str>, Option<&str>)> = plan
        .findings
        .iter()
        .map(|f| {
            assert_eq!(f.kind, FindingKind::InvalidContact);
            (
                f.message.as_str(),
                f.email.as_deref(),
                f.salesforce_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("field Name: blank", None, None),
            ("field Email: blank (contact Nobody)", None, Some(army)),
            (
                "field Email: not a valid email",
                Some("not an email"),
                Some(army)
            ),
            (
                "field Account.Account_ID_18__c: no account",
                Some("orphan@army.example"),
                None
            ),
        ]
    );
    assert!(plan.actions.is_empty());
}

#[test]
fn a_protected_user_already_as_desired_is_unchanged_and_not_reported() {
    let army = "0014M00002ArmyAAAA";
    let org_ids: BTreeMap<SalesforceId, ZendeskOrgId> =
        [(valid_id(army), ZendeskOrgId(100))].into();
    let contacts = [contact("Ada Admin", "ada@army.example", Some(army))];
    let users = [user(
        7,
        " Ada Admin ",
        "ada@army.example",
        "admin",
        Some(100),
    )];
    let plan = plan_federal_users(&contacts, &org_ids, &users);
    assert_eq!(plan.unchanged, 1);
    assert!(plan.findings.is_empty(), "{:?}", plan.findings);
    assert!(plan.actions.is_empty());
    // Moved to another org in Salesforce: reported, never modified.
    let users = [user(7, "Ada Admin", "ada@army.example", "admin", Some(999))];
    let plan = plan_federal_users(&contacts, &org_ids, &users);
    assert_eq!(plan.unchanged, 0);
    assert!(plan.actions.is_empty());
    assert_eq!(plan.findings[0].kind, FindingKind::ProtectedUser);
}
