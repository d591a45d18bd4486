//! Evaluation rules (docs/behaviour.md §3–§4).

use sync_core::evaluate::{
    account_type, arr, expiration_date, is_current, is_greatly_expired, is_partner, market_segment,
    sales_segmentation, three_years_before,
};
use sync_core::model::FindingKind;
use sync_core::{evaluate_account, FieldValue, Instance};

use crate::common::{account, cs, date, federal, global, zs};

fn text(s: &str) -> Option<FieldValue> {
    Some(FieldValue::Text(s.to_string()))
}

#[test]
fn a_subscription_ending_today_is_current_and_one_ending_yesterday_is_not() {
    let today = date("2025-06-15");
    let mut a = account("Cur", "Current Co");
    a.customer_subscriptions = vec![cs("Premium", Some("2025-06-15"))];
    assert_eq!(evaluate_account(&a, &global(), today).plan, "premium");
    a.customer_subscriptions = vec![cs("Premium", Some("2025-06-14"))];
    assert_eq!(evaluate_account(&a, &global(), today).plan, "expired");
    a.customer_subscriptions = vec![cs("Premium", None)];
    assert_eq!(evaluate_account(&a, &global(), today).plan, "premium");
}

#[test]
fn the_highest_ranked_current_plan_wins_and_aliases_are_case_insensitive() {
    let today = date("2025-06-15");
    let mut a = account("Rank", "Rank Co");
    a.customer_subscriptions = vec![cs("Starter", None), cs("gold", None)];
    a.zuora_subscriptions = vec![
        zs("BASIC", None),
        zs("self-managed - ultimate", Some("2025-01-01")),
    ];
    // The ultimate one has ended: gold wins over starter/basic.
    assert_eq!(evaluate_account(&a, &global(), today).plan, "gold");
    a.zuora_subscriptions[1].end = Some(date("2026-01-01"));
    assert_eq!(evaluate_account(&a, &global(), today).plan, "ultimate");
    let e = evaluate_account(&a, &global(), today);
    assert!(e.findings.is_empty(), "{:?}", e.findings);
}

#[test]
fn an_unknown_tier_alone_makes_the_plan_untrusted() {
    let today = date("2025-06-15");
    let mut a = account("Unk", "Unknown Co");
    a.customer_subscriptions = vec![cs("Platinum Plus", Some("2026-01-01"))];
    let e = evaluate_account(&a, &global(), today);
    assert!(!e.trusted);
    assert_eq!(e.findings.len(), 1);
    assert_eq!(e.findings[0].kind, FindingKind::UnknownTier);
    assert_eq!(
        e.findings[0].message,
        "customer subscription tier \"Platinum Plus\" is not in the mapping's plan table; \
         no current subscription has a known tier, so its org is neither created nor changed this run"
    );

    // With a known current plan beside it, the known one is trusted (and the unknown still reported).
    a.zuora_subscriptions = vec![zs("Premium", None)];
    let e = evaluate_account(&a, &global(), today);
    assert!(e.trusted);
    assert_eq!(e.plan, "premium");
    assert_eq!(e.findings[0].kind, FindingKind::UnknownTier);
    assert_eq!(
        e.findings[0].message,
        "customer subscription tier \"Platinum Plus\" is not in the mapping's plan table; \
         the plan (premium) comes from the account's other current subscriptions"
    );

    // An unknown tier on an ended subscription cannot keep a plan alive: expired, trusted.
    a.customer_subscriptions = vec![cs("Platinum Plus", Some("2020-01-01"))];
    a.zuora_subscriptions.clear();
    let e = evaluate_account(&a, &global(), today);
    assert!(e.trusted);
    assert_eq!(e.plan, "expired");
    assert_eq!(
        e.findings[0].message,
        "customer subscription tier \"Platinum Plus\" is not in the mapping's plan table \
         (the subscription has ended, so it does not count)"
    );

    // One unknown tier on an ended and on a current subscription: both said, each rightly.
    a.customer_subscriptions = vec![
        cs("Platinum Plus", Some("2020-01-01")),
        cs("platinum plus", None),
    ];
    let e = evaluate_account(&a, &global(), today);
    assert!(!e.trusted);
    let messages: Vec<&str> = e.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].ends_with("so it does not count)"),
        "{messages:?}"
    );
    assert!(
        messages[1].ends_with("neither created nor changed this run"),
        "{messages:?}"
    );
}

#[test]
fn us_federal_falls_back_to_the_account_support_level() {
    let today = date("2025-06-15");
    let mut a = account("Fed", "Navy");
    a.support_level = Some("Premium".into());
    assert_eq!(evaluate_account(&a, &federal(), today).plan, "premium");
    // A subscription with a plan wins over the fallback.
    a.customer_subscriptions = vec![cs("Ultimate", None)];
    assert_eq!(evaluate_account(&a, &federal(), today).plan, "ultimate");
    // Global never uses Support_Level__c.
    a.customer_subscriptions.clear();
    assert_eq!(evaluate_account(&a, &global(), today).plan, "expired");
    // An unknown fallback name is reported and not trusted.
    a.support_level = Some("Platinum".into());
    let e = evaluate_account(&a, &federal(), today);
    assert!(!e.trusted);
    assert_eq!(e.findings[0].kind, FindingKind::UnknownTier);
}

#[test]
fn expiration_date_is_the_latest_end_else_next_renewal() {
    let today = date("2025-06-15");
    let mut a = account("Exp", "Exp Co");
    a.next_renewal = Some(date("2030-01-01"));
    a.customer_subscriptions = vec![cs("Premium", Some("2024-01-01")), cs("Starter", None)];
    a.zuora_subscriptions = vec![zs("Bronze", Some("2025-03-31"))];
    let e = evaluate_account(&a, &global(), today);
    assert_eq!(e.expiration_date, Some(date("2025-03-31")));
    assert_eq!(e.desired.fields["expiration_date"], text("2025-03-31"));
    a.customer_subscriptions.clear();
    a.zuora_subscriptions.clear();
    assert_eq!(
        evaluate_account(&a, &global(), today).expiration_date,
        Some(date("2030-01-01"))
    );
    a.next_renewal = None;
    let e = evaluate_account(&a, &global(), today);
    assert_eq!(e.expiration_date, None);
    assert_eq!(e.desired.fields["expiration_date"], None);
}

#[test]
fn greatly_expired_on_the_day_three_years_after_and_not_one_day_short() {
    let mut a = account("Old", "Old Co");
    a.customer_subscriptions = vec![cs("Premium", Some("2021-12-18"))];
    assert!(evaluate_account(&a, &global(), date("2024-12-18")).greatly_expired);
    assert!(!evaluate_account(&a, &global(), date("2024-12-17")).greatly_expired);
    // Never on US Federal.
    assert!(!evaluate_account(&a, &federal(), date("2030-01-01")).greatly_expired);
    // Never without a date.
    a.customer_subscriptions = vec![];
    assert!(!evaluate_account(&a, &global(), date("2030-01-01")).greatly_expired);
}

#[test]
fn from_29_february_three_years_back_is_28_february() {
    assert_eq!(three_years_before(date("2024-02-29")), date("2021-02-28"));
    assert_eq!(three_years_before(date("2025-03-01")), date("2022-03-01"));
    let mut a = account("Leap", "Leap Co");
    a.customer_subscriptions = vec![cs("Premium", Some("2021-02-28"))];
    assert!(evaluate_account(&a, &global(), date("2024-02-29")).greatly_expired);
    a.customer_subscriptions = vec![cs("Premium", Some("2021-03-01"))];
    assert!(!evaluate_account(&a, &global(), date("2024-02-29")).greatly_expired);
}

#[test]
fn every_partner_variant_and_partners_are_never_greatly_expired() {
    let partner = |status: Option<&str>, kind: Option<&str>, track: Option<&str>| {
        let mut a = account("P", "Partner Co");
        a.account_type = Some("Partner".into());
        a.partner_status = status.map(Box::from);
        a.partner_type = kind.map(Box::from);
        a.partner_track = track.map(Box::from);
        a
    };
    let cases = [
        (
            partner(Some("Former"), Some("Alliance"), Some("Open")),
            "former_partner",
        ),
        (
            partner(Some("Authorized"), Some("Alliance"), Some("Select")),
            "alliance_partner",
        ),
        (
            partner(Some("Authorized"), Some("Channel"), Some("Open")),
            "open_partner",
        ),
        (
            partner(Some("Authorized"), Some("Channel"), Some("select")),
            "select_partner",
        ),
        (
            partner(Some("Authorized"), Some("Channel"), Some("Technology")),
            "technology_partner",
        ),
        (
            partner(Some("Authorized"), Some("Channel"), None),
            "partner",
        ),
    ];
    for (mut a, expected) in cases {
        assert_eq!(account_type(&a).as_deref(), Some(expected));
        a.customer_subscriptions = vec![cs("Premium", Some("2015-01-01"))];
        let e = evaluate_account(&a, &global(), date("2025-06-15"));
        assert_eq!(e.plan, "expired");
        assert!(!e.greatly_expired, "{expected}");
        assert_eq!(e.desired.fields["account_type"], text(expected));
        assert!(e.desired.managed_tags.contains(expected));
    }
    let mut a = account("C", "Customer Co");
    a.account_type = Some("Former Customer".into());
    assert_eq!(account_type(&a).as_deref(), Some("former_customer"));
    a.account_type = Some("Prospect".into());
    assert_eq!(account_type(&a).as_deref(), Some("prospect"));
}

#[test]
fn global_desired_fields_and_managed_tags() {
    let mut a = account("Acme", "Acme Corp");
    a.carr = Some(1200.0);
    a.sales_segment = Some("Mid-Market".into());
    a.licenses = Some(25.0);
    a.geo = Some("apj".into());
    a.health_color = Some("YELLOW".into());
    a.restricted = true;
    a.owner = Some("Olive".into());
    a.customer_subscriptions = vec![cs("Premium", None)];
    let e = evaluate_account(&a, &global(), date("2025-06-15"));
    let f = &e.desired.fields;
    assert_eq!(f["salesforce_id"], text(&a.id18));
    assert_eq!(f["sfdc_short_id"], text(&a.id18[..15]));
    assert_eq!(f["support_level"], text("premium"));
    assert_eq!(f["aar"], Some(FieldValue::Number(1200.0)));
    assert_eq!(f["sales_segmentation"], text("mid-market"));
    assert_eq!(f["seats_decimal"], Some(FieldValue::Number(25.0)));
    assert_eq!(f["org_region"], text("org_region_apac"));
    assert_eq!(f["health_score"], text("health_score_yellow"));
    assert_eq!(f["restricted_account"], Some(FieldValue::Bool(true)));
    assert_eq!(f["account_owner"], text("Olive"));
    assert_eq!(f["technical_account_manager"], None);
    let tags: Vec<&str> = e.desired.managed_tags.iter().collect();
    assert_eq!(
        tags,
        [
            "customer",
            "health_score_yellow",
            "org_region_apac",
            "premium",
            "restricted_account"
        ]
    );
    assert!(!f.contains_key("market_segment"));
}

#[test]
fn expired_zeroes_arr_blank_segment_is_unknown_and_odd_values_are_none() {
    let mut a = account("Zero", "Zero Co");
    a.carr = Some(999.0);
    a.geo = Some("MARS".into());
    a.health_color = Some("Purple".into());
    let e = evaluate_account(&a, &global(), date("2025-06-15"));
    let f = &e.desired.fields;
    assert_eq!(f["aar"], Some(FieldValue::Number(0.0)));
    assert_eq!(f["sales_segmentation"], text("unknown"));
    assert_eq!(f["org_region"], None);
    assert_eq!(f["health_score"], None);
    assert_eq!(f["restricted_account"], Some(FieldValue::Bool(false)));
    assert_eq!(e.findings.len(), 1, "{:?}", e.findings);
    assert_eq!(e.findings[0].kind, FindingKind::UnknownRegion);
    assert!(e.findings[0].message.contains("MARS"));
    let tags: Vec<&str> = e.desired.managed_tags.iter().collect();
    assert_eq!(tags, ["customer", "expired"]);
}

#[test]
fn us_federal_fields() {
    let mut a = account("Navy", "Navy");
    a.carr = Some(10.0);
    a.sales_segment = Some("Mid-Market".into());
    a.licenses = Some(3.0);
    a.solutions_architect = Some("Sam".into());
    a.customer_subscriptions = vec![cs("Self-Managed - Premium", None)];
    let e = evaluate_account(&a, &federal(), date("2025-06-15"));
    let f = &e.desired.fields;
    assert_eq!(f["arr"], Some(FieldValue::Number(10.0)));
    assert_eq!(f["market_segment"], text("market_segment_mid_market"));
    assert_eq!(f["number_of_seats"], Some(FieldValue::Number(3.0)));
    assert_eq!(f["solutions_architect"], text("Sam"));
    for absent in [
        "org_region",
        "restricted_account",
        "health_score",
        "sales_segmentation",
        "aar",
    ] {
        assert!(!f.contains_key(absent), "{absent}");
    }
    a.sales_segment = None;
    let e = evaluate_account(&a, &federal(), date("2025-06-15"));
    assert_eq!(e.desired.fields["market_segment"], None);
    a.sales_segment = Some("Huge".into());
    let e = evaluate_account(&a, &federal(), date("2025-06-15"));
    assert_eq!(e.desired.fields["market_segment"], None);
    assert_eq!(e.findings[0].kind, FindingKind::UnknownOption);
}

// The steps of `evaluate_account`, one rule each.

#[test]
fn a_subscription_is_current_without_an_end_or_until_its_end_day() {
    let today = date("2025-06-15");
    assert!(is_current(None, today));
    assert!(is_current(Some(date("2025-06-15")), today));
    assert!(is_current(Some(date("2030-01-01")), today));
    assert!(!is_current(Some(date("2025-06-14")), today));
}

#[test]
fn expiration_date_takes_the_latest_end_of_either_kind_and_ignores_renewal_then() {
    let mut a = account("Exp2", "Exp Co");
    a.next_renewal = Some(date("2031-01-01"));
    a.customer_subscriptions = vec![cs("Premium", Some("2026-02-01")), cs("Gold", None)];
    a.zuora_subscriptions = vec![zs("Bronze", Some("2024-01-01"))];
    assert_eq!(expiration_date(&a), Some(date("2026-02-01")));
    a.zuora_subscriptions = vec![zs("Bronze", Some("2027-01-01"))];
    assert_eq!(expiration_date(&a), Some(date("2027-01-01")));
    // No end date anywhere: the renewal date; no renewal either: none.
    a.customer_subscriptions = vec![cs("Gold", None)];
    a.zuora_subscriptions.clear();
    assert_eq!(expiration_date(&a), Some(date("2031-01-01")));
    a.next_renewal = None;
    assert_eq!(expiration_date(&a), None);
}

#[test]
fn greatly_expired_needs_global_expired_a_date_three_years_back_and_no_partner() {
    let today = date("2024-12-18");
    let old = Some(date("2021-12-18"));
    let g = Instance::Global;
    assert!(is_greatly_expired(g, true, false, old, today));
    assert!(!is_greatly_expired(
        g,
        true,
        false,
        Some(date("2021-12-19")),
        today
    ));
    assert!(
        !is_greatly_expired(g, false, false, old, today),
        "a current plan"
    );
    assert!(!is_greatly_expired(g, true, true, old, today), "a partner");
    assert!(!is_greatly_expired(g, true, false, None, today), "no date");
    assert!(!is_greatly_expired(
        Instance::UsFederal,
        true,
        false,
        old,
        today
    ));
}

#[test]
fn a_partner_is_type_partner_in_any_case_and_nothing_else() {
    let mut a = account("Ptn", "Partner Co");
    for (raw, partner) in [
        ("Partner", true),
        (" partner ", true),
        ("PARTNER", true),
        ("Former Partner", false),
        ("Customer", false),
    ] {
        a.account_type = Some(raw.into());
        assert_eq!(is_partner(&a), partner, "{raw:?}");
    }
    a.account_type = None;
    assert!(!is_partner(&a));
}

#[test]
fn arr_is_zero_when_expired_and_segments_are_normalised() {
    let mut a = account("Seg", "Seg Co");
    a.carr = Some(500.0);
    assert_eq!(arr(&a, false), Some(500.0));
    assert_eq!(arr(&a, true), Some(0.0));
    a.carr = None;
    assert_eq!(arr(&a, false), None);
    assert_eq!(arr(&a, true), Some(0.0));

    assert_eq!(sales_segmentation(&a), "unknown");
    assert_eq!(market_segment(&a), None);
    a.sales_segment = Some("Mid - Market".into());
    assert_eq!(sales_segmentation(&a), "mid - market");
    assert_eq!(market_segment(&a).as_deref(), Some("mid___market"));
    a.sales_segment = Some("Large".into());
    assert_eq!(market_segment(&a).as_deref(), Some("large"));
}

#[test]
fn desired_org_findings_come_after_plan_findings_in_field_order() {
    // An unknown tier (plan), an account type without option, an unknown geo.
    let mut a = account("Ord", "Order Co");
    a.account_type = Some("Reseller".into());
    a.geo = Some("MARS".into());
    a.customer_subscriptions = vec![cs("Platinum", Some("2020-01-01"))];
    let e = evaluate_account(&a, &global(), date("2025-06-15"));
    let kinds: Vec<FindingKind> = e.findings.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            FindingKind::UnknownTier,
            FindingKind::UnknownOption,
            FindingKind::UnknownRegion
        ]
    );
    assert_eq!(e.desired.fields["account_type"], None);
    assert_eq!(e.desired.fields["org_region"], None);
}
