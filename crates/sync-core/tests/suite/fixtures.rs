//! The fixture data sets in fixtures/sync (Salesforce query results and Zendesk
//! lists in the real shapes) → plan → report, snapshot-tested.

use std::collections::BTreeMap;

use sync_core::diff::plan_orgs;
use sync_core::users::{decide_sold_to, plan_federal_users, UserPlan};
use sync_core::zendesk::ZendeskUser;
use sync_core::{check_guards, decode_contacts, GuardConfig, Instance, Report, ZendeskOrg};
use time::macros::datetime;

use crate::common::{date, mapping, records};

fn orgs(text: &str) -> Vec<ZendeskOrg> {
    #[derive(serde::Deserialize)]
    struct Page {
        organizations: Vec<ZendeskOrg>,
    }
    serde_json::from_str::<Page>(text)
        .expect("org page")
        .organizations
}

fn users(text: &str) -> Vec<ZendeskUser> {
    #[derive(serde::Deserialize)]
    struct Page {
        users: Vec<ZendeskUser>,
    }
    serde_json::from_str::<Page>(text).expect("user page").users
}

#[test]
fn global_fixture_plan_and_report() {
    let m = mapping(Instance::Global);
    let accounts = records(include_str!(
        "../../../../fixtures/sync/global_accounts.json"
    ));
    let orgs = orgs(include_str!(
        "../../../../fixtures/sync/global_organizations.json"
    ));
    let plan = plan_orgs(accounts, &orgs, &m, date("2025-06-15"));
    insta::assert_json_snapshot!("global_plan", plan);

    // Sold-to decisions for the orgs this run creates (ids as the create job would give).
    let mut sold_to = UserPlan::default();
    for (i, create) in plan.creates.iter().enumerate() {
        let candidates = plan
            .sold_to
            .get(&create.salesforce_id)
            .cloned()
            .unwrap_or_default();
        sold_to.extend(decide_sold_to(
            &create.salesforce_id,
            9000 + i as u64,
            &candidates,
            &BTreeMap::new(),
            &std::collections::BTreeSet::new(),
            0,
        ));
    }
    let guards = check_guards(&plan, &GuardConfig::default());
    let mut report = Report::new(
        "zd-sfdc-sync-global",
        true,
        datetime!(2025-06-15 10:00:00 UTC),
    );
    report.record_org_plan(&plan);
    report.record_user_plan(&sold_to);
    report.record_guards(&guards);
    report.finished_at = Some(datetime!(2025-06-15 10:00:42 UTC));
    insta::assert_snapshot!("global_report_json", report.to_json());
    insta::assert_snapshot!("global_report_md", report.to_markdown());
    insta::assert_snapshot!("global_summary", report.summary_table());
}

#[test]
fn us_federal_fixture_plan_and_report() {
    let m = mapping(Instance::UsFederal);
    let accounts = records(include_str!(
        "../../../../fixtures/sync/us_federal_accounts.json"
    ));
    let orgs = orgs(include_str!(
        "../../../../fixtures/sync/us_federal_organizations.json"
    ));
    let plan = plan_orgs(accounts, &orgs, &m, date("2025-06-15"));
    insta::assert_json_snapshot!("us_federal_plan", plan);

    // Orgs created this run join the lookup before the users step.
    let mut org_ids = plan.org_ids.clone();
    for (i, create) in plan.creates.iter().enumerate() {
        org_ids.insert(create.salesforce_id.clone(), 7300000000000 + i as u64);
    }
    let contacts = decode_contacts(records(include_str!(
        "../../../../fixtures/sync/us_federal_contacts.json"
    )));
    let zd_users = users(include_str!(
        "../../../../fixtures/sync/us_federal_users.json"
    ));
    let mut user_plan = plan_federal_users(&contacts.items, &org_ids, &zd_users);
    user_plan.findings.extend(contacts.findings);

    let mut report = Report::new(
        "zd-sfdc-sync-us-federal",
        false,
        datetime!(2025-06-15 11:00:00 UTC),
    );
    report.record_org_plan(&plan);
    report.salesforce.records += user_plan.records;
    report.zendesk.users = Some(zd_users.len());
    report.record_user_plan(&user_plan);
    report.record_guards(&check_guards(&plan, &GuardConfig::default()));
    report.finished_at = Some(datetime!(2025-06-15 11:00:05 UTC));
    insta::assert_snapshot!("us_federal_report_json", report.to_json());
    insta::assert_snapshot!("us_federal_report_md", report.to_markdown());
}
