//! The users phase (docs/behaviour.md §6) on the demo seed: duplicate emails, orgs created in the
//! same run, protected users, and the fallback where bulk user import is switched off.

use serde_json::Value;

use crate::common::{self, demo, run, start, user, users, zendesk_state};

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_emails_in_different_case_are_reported_and_dropped() {
    let sandbox = start(demo()).await;
    let r = run(&sandbox, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Carol (shared.inbox@examples.gov) and Dan (Shared.Inbox@Examples.gov): neither.
    assert!(users(&zendesk_state(&sandbox), "shared.inbox@examples.gov").is_empty());
    let dups = r.errors("duplicate_email");
    assert_eq!(dups.len(), 1, "{dups:?}");
    assert_eq!(dups[0]["email"], "shared.inbox@examples.gov");
    assert!(
        dups[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("2 contacts")),
        "{dups:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_whose_org_is_created_in_the_same_run_lands_in_it() {
    let sandbox = start(demo()).await;
    let before = zendesk_state(&sandbox);
    assert!(common::org_ids(&before, common::BUREAU_OF_TESTS).is_empty());
    let r = run(&sandbox, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = zendesk_state(&sandbox);
    for (email, account, name) in [
        (
            "grace.green@tests.gov",
            common::BUREAU_OF_TESTS,
            "Grace Green",
        ),
        (
            "laura.lane@demos.gov",
            common::OFFICE_OF_DEMOS,
            "Laura Lane",
        ),
    ] {
        let orgs = common::org_ids(&state, account);
        assert_eq!(orgs.len(), 1, "one org for {account}");
        let u = user(&state, email);
        assert_eq!(u["organization_id"].as_u64(), Some(orgs[0]), "{email}");
        assert_eq!(u["name"], name);
        assert_eq!(u["role"], "end-user");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn existing_users_are_updated_protected_and_foreign_users_untouched() {
    let sandbox = start(demo()).await;
    let before = zendesk_state(&sandbox);
    let r = run(&sandbox, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = zendesk_state(&sandbox);
    // Bob: named "Robert Baker", no org → the contact's name and account's org.
    let bob = user(&state, "bob.baker@examples.gov");
    assert_eq!(bob["name"], "Bob Baker");
    assert_eq!(bob["organization_id"], 360400000001_u64);
    // Heidi is an agent: reported, never modified. Admin, agent and the contractor
    // not in Salesforce: untouched.
    for email in [
        "heidi.hall@fixtures.gov",
        "admin@fed.sandbox.example",
        "agent@fed.sandbox.example",
        "outsider@contractor.example",
        "alice.anders@examples.gov",
    ] {
        assert_eq!(user(&state, email), user(&before, email), "{email} changed");
    }
    let protected = r.errors("protected_user");
    assert_eq!(protected.len(), 1, "{protected:?}");
    assert_eq!(protected[0]["email"], "heidi.hall@fixtures.gov");
    // Frank has no email; Judy's account is outside the accounts query; Ivan's account
    // has two Zendesk orgs.
    let invalid = r.errors("invalid_contact");
    assert_eq!(invalid.len(), 1, "{invalid:?}");
    let no_org: Vec<Value> = r.errors("no_organization");
    let emails: Vec<&str> = no_org.iter().filter_map(|e| e["email"].as_str()).collect();
    assert_eq!(emails, ["ivan.ives@seeds.gov", "judy.jones@legacy.gov"]);
    assert!(
        no_org[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("duplicate_zendesk_org")),
        "{no_org:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_import_disabled_falls_back_to_single_creates_once() {
    let sandbox = start(sandbox::SandboxConfig {
        bulk_user_create_disabled: true,
        ..demo()
    })
    .await;
    let r = run(&sandbox, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    // One refused bulk call, then one create_or_update per missing user (Grace, Laura).
    assert_eq!(r.zendesk("POST /api/v2/users/create_many"), 1);
    assert_eq!(r.zendesk("POST /api/v2/users/create_or_update"), 2);
    assert_eq!(r.zendesk("PUT /api/v2/users/update_many"), 1);
    assert_eq!(
        r.stderr.matches("bulk user import is off").count(),
        1,
        "said once: {}",
        r.stderr
    );
    assert_eq!(r.report["users"]["create"], 2);
    assert_eq!(r.report["users"]["failed"], 0);
    let state = zendesk_state(&sandbox);
    let grace = user(&state, "grace.green@tests.gov");
    assert_eq!(
        grace["organization_id"].as_u64(),
        common::org_ids(&state, common::BUREAU_OF_TESTS)
            .first()
            .copied()
    );
    // And it converges: the next run writes nothing, bulk or not.
    let second = run(&sandbox, &[]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second.zendesk_writes().is_empty(),
        "{:?}",
        second.zendesk_writes()
    );
}
