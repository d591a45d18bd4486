//! The fixture data sets in fixtures/sync (Salesforce query results and Zendesk
//! lists in the real shapes) → plan → report, snapshot-tested.

use std::collections::BTreeMap;

use sync_core::diff::plan_orgs;
use sync_core::report::{Outcome, Outcomes, Phase, ReportBuilder};
use sync_core::users::{decide_sold_to, plan_federal_users, UserPlan};
use sync_core::zendesk::ZendeskUser;
use sync_core::{check_guards, decode_contacts, GuardConfig, Instance, ZendeskOrg, ZendeskOrgId};
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
            .get(create.salesforce_id.as_str())
            .cloned()
            .unwrap_or_default();
        sold_to.extend(decide_sold_to(
            &create.salesforce_id,
            ZendeskOrgId(9000 + i as u64),
            &candidates,
            &BTreeMap::new(),
            &std::collections::BTreeSet::new(),
            &std::collections::BTreeSet::new(),
            0,
        ));
    }
    let guards = check_guards(&plan, &GuardConfig::default());
    let mut builder = ReportBuilder::new(
        "zd-sfdc-sync-global",
        true,
        datetime!(2025-06-15 10:00:00 UTC),
        &[Phase::OrgWrites, Phase::SoldToUsers, Phase::OrgDeletes],
    );
    builder.org_plan(std::sync::Arc::new(plan));
    builder.guards(&guards);
    builder.user_plan(Phase::SoldToUsers, &sold_to);
    builder.finished(datetime!(2025-06-15 10:00:42 UTC));
    let report = builder.build();
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
        org_ids.insert(create.salesforce_id, ZendeskOrgId(7300000000000 + i as u64));
    }
    let contacts = decode_contacts(records(include_str!(
        "../../../../fixtures/sync/us_federal_contacts.json"
    )));
    let zd_users = users(include_str!(
        "../../../../fixtures/sync/us_federal_users.json"
    ));
    let mut user_plan = plan_federal_users(&contacts.items, &org_ids, &zd_users);
    user_plan.findings.extend(contacts.findings);

    // A real run in which every planned write was applied.
    let mut builder = ReportBuilder::new(
        "zd-sfdc-sync-us-federal",
        false,
        datetime!(2025-06-15 11:00:00 UTC),
        &[Phase::OrgWrites, Phase::Users],
    );
    builder.org_plan(std::sync::Arc::new(plan.clone()));
    builder.salesforce_records(user_plan.records);
    builder.zendesk_users(zd_users.len());
    builder.guards(&check_guards(&plan, &GuardConfig::default()));
    builder.user_plan(Phase::Users, &user_plan);
    let applied = |keys: Vec<String>| -> Outcomes {
        keys.into_iter().map(|k| (k, Outcome::Applied)).collect()
    };
    builder.outcomes(
        Phase::OrgWrites,
        applied(
            plan.creates
                .iter()
                .map(|c| c.salesforce_id.to_string())
                .chain(plan.updates.iter().map(|u| u.salesforce_id.to_string()))
                .collect(),
        ),
    );
    builder.outcomes(
        Phase::Users,
        applied(
            user_plan
                .actions
                .iter()
                .map(|a| a.email().to_string())
                .collect(),
        ),
    );
    builder.finished(datetime!(2025-06-15 11:00:05 UTC));
    let report = builder.build();
    assert_eq!(report.planned, None);
    insta::assert_snapshot!("us_federal_report_json", report.to_json());
    insta::assert_snapshot!("us_federal_report_md", report.to_markdown());
}
