//! Mapping files: embedded defaults, validation, and the check against Zendesk.

use sync_core::mapping::{GLOBAL_TOML, US_FEDERAL_TOML};
use sync_core::{Error, Instance, Mapping, ZendeskOrgField};

fn problems(text: &str) -> Vec<String> {
    match Mapping::parse(text, "test.toml") {
        Err(Error::MappingInvalid { problems, .. }) => problems,
        other => panic!("expected MappingInvalid, got {other:?}"),
    }
}

fn field_page(text: &str) -> Vec<ZendeskOrgField> {
    #[derive(serde::Deserialize)]
    struct Page {
        organization_fields: Vec<ZendeskOrgField>,
    }
    serde_json::from_str::<Page>(text)
        .expect("fields page")
        .organization_fields
}

fn fields() -> Vec<ZendeskOrgField> {
    field_page(include_str!(
        "../../../../fixtures/sync/global_organization_fields.json"
    ))
}

#[test]
fn the_us_federal_mapping_matches_its_agreed_fields_and_not_the_global_ones() {
    let f = Mapping::embedded(Instance::UsFederal).expect("us-federal");
    let federal = field_page(include_str!(
        "../../../../fixtures/sync/us_federal_organization_fields.json"
    ));
    f.check_against_zendesk(&federal)
        .expect("agreed US Federal fields");
    match f.check_against_zendesk(&fields()) {
        Err(Error::FieldsMismatch { mismatches }) => {
            let joined = mismatches.join("\n");
            for key in [
                "arr",
                "market_segment",
                "number_of_seats",
                "solutions_architect",
            ] {
                assert!(
                    joined.contains(&format!("field {key} ")),
                    "{key} not reported in:\n{joined}"
                );
            }
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn embedded_mappings_are_valid_and_agree_with_the_field_table() {
    let g = Mapping::embedded(Instance::Global).expect("global");
    assert_eq!(g.instance(), Instance::Global);
    assert_eq!(
        g.managed_keys(),
        [
            "salesforce_id",
            "support_level",
            "sfdc_short_id",
            "aar",
            "sales_segmentation",
            "account_owner",
            "account_type",
            "technical_account_manager",
            "seats_decimal",
            "org_region",
            "health_score",
            "expiration_date",
            "restricted_account"
        ]
    );
    let f = Mapping::embedded(Instance::UsFederal).expect("us-federal");
    assert_eq!(f.cases().case_key_prefix, "usfed-");
    assert_eq!(g.cases().case_key_prefix, "");
    assert_eq!(g.cases().closed_statuses, ["closed"]);
    assert_eq!(g.cases().origin, "Web");
    assert!(f.managed_tags().contains("market_segment_pubsec"));
    assert!(!f.managed_tags().contains("restricted_account"));
    assert_eq!(g.managed_tags().len(), 9 + 9 + 6 + 3 + 1);
}

#[test]
fn a_mapping_without_origin_or_closed_statuses_gets_the_spec_defaults() {
    let text = include_str!("../../mappings/us-federal.toml");
    let trimmed: String = text
        .lines()
        .filter(|l| !l.starts_with("origin") && !l.starts_with("closed_statuses"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(
        trimmed.len(),
        text.len(),
        "the lines were not there to remove"
    );
    let m = Mapping::parse(&trimmed, "test.toml").expect("defaults apply");
    assert_eq!(m.cases().origin, "Web");
    assert_eq!(m.cases().closed_statuses, ["closed"]);
    assert_eq!(m.cases().case_key_prefix, "usfed-");
}

#[test]
fn aliases_resolve_case_insensitively() {
    let g = Mapping::embedded(Instance::Global).expect("global");
    assert_eq!(g.plan_for_tier("Basic"), Some("starter"));
    assert_eq!(
        g.plan_for_tier(" self-managed - ULTIMATE "),
        Some("ultimate")
    );
    assert_eq!(g.plan_for_tier("Premium"), Some("premium"));
    assert_eq!(g.plan_for_tier("Platinum"), None);
    assert_eq!(g.plan_rank("ultimate"), Some(0));
    assert_eq!(g.plan_rank("expired"), None);
    assert_eq!(g.region_for_geo("apj"), Some("apac"));
}

#[test]
fn loading_from_a_path_works_and_a_missing_file_is_named() {
    let dir = std::env::temp_dir().join(format!("sync-core-mapping-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("m.toml");
    std::fs::write(&path, US_FEDERAL_TOML).expect("write");
    assert_eq!(
        Mapping::load(&path).expect("load").instance(),
        Instance::UsFederal
    );
    let missing = dir.join("nope.toml");
    let err = Mapping::load(&missing).expect_err("missing");
    assert!(err.to_string().contains("nope.toml"), "{err}");
}

#[test]
fn validation_reports_every_problem_with_its_key() {
    let broken = GLOBAL_TOML
        .replace(
            "gold = [\"SaaS - Gold\", \"GitLab.com Gold\"]",
            "gold = [\"SaaS - Gold\", \"Basic\"]\nplatinum = [\"Plat\"]",
        )
        .replace(
            "community = \"community\"\nexpired = \"expired\"",
            "expired = \"expired\"",
        )
        .replace("amer = \"org_region_amer\"\n", "")
        .replace(
            "protect_tag = \"do_not_delete\"",
            "protect_tag = \"premium\"",
        );
    let problems = problems(&broken);
    let joined = problems.join("\n");
    for expected in [
        "plans.aliases.starter: alias \"Basic\" is already used by plan \"gold\"",
        "plans.aliases.platinum: unknown rank",
        "plans: plan \"community\" has no option in [dropdowns.support_level]",
        "regions.AMER: region \"amer\" has no option in [dropdowns.org_region]",
        "deletion.protect_tag: \"premium\" is a managed tag",
    ] {
        assert!(
            joined.contains(expected),
            "missing {expected:?} in:\n{joined}"
        );
    }
    assert_eq!(problems.len(), 5, "{joined}");
}

#[test]
fn unknown_keys_and_bad_toml_are_parse_errors() {
    let typo = GLOBAL_TOML.replace("seats = \"seats_decimal\"", "seatz = \"seats_decimal\"");
    match Mapping::parse(&typo, "typo.toml") {
        Err(Error::MappingParse { message, .. }) => assert!(message.contains("seatz"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_mapping_matches_zendesk_fields_and_every_mismatch_is_listed() {
    let g = Mapping::embedded(Instance::Global).expect("global");
    g.check_against_zendesk(&fields())
        .expect("fixture fields match");

    let mut defs = fields();
    defs.retain(|d| d.key != "aar");
    for d in defs.iter_mut() {
        if d.key == "support_level" {
            d.custom_field_options
                .retain(|o| o.value != "gold" && o.value != "expired");
        }
        if d.key == "restricted_account" {
            d.tag = Some("restricted".into());
        }
        if d.key == "seats_decimal" {
            d.field_type = "dropdown".into();
        }
    }
    match g.check_against_zendesk(&defs) {
        Err(Error::FieldsMismatch { mismatches }) => {
            let joined = mismatches.join("\n");
            assert_eq!(mismatches.len(), 5, "{joined}");
            assert!(joined.contains("field aar (role arr) does not exist"));
            assert!(joined.contains("option value \"gold\""));
            assert!(joined.contains("option value \"expired\""));
            assert!(joined.contains("checkbox tag is \"restricted\""));
            assert!(joined.contains("seats_decimal has type \"dropdown\""));
        }
        other => panic!("{other:?}"),
    }
}

// The validation checks, one fault each: exactly one problem, named by its key.

fn only_problem(text: &str) -> String {
    let problems = problems(text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    problems[0].clone()
}

#[test]
fn a_field_key_used_by_two_roles_is_one_problem() {
    let text = GLOBAL_TOML.replace(
        "account_owner = \"account_owner\"",
        "account_owner = \"technical_account_manager\"",
    );
    assert_eq!(
        only_problem(&text),
        "fields.technical_account_manager: key \"technical_account_manager\" is also used by fields.account_owner"
    );
}

#[test]
fn a_tag_managed_by_two_drop_downs_or_a_drop_down_and_a_checkbox_is_refused() {
    let text = GLOBAL_TOML.replace(
        "green = \"health_score_green\"",
        "green = \"org_region_amer\"",
    );
    assert_eq!(
        only_problem(&text),
        "dropdowns.org_region.amer: tag \"org_region_amer\" is also managed by health_score"
    );
    let text = GLOBAL_TOML.replace(
        "restricted_account = \"restricted_account\"\n\n[deletion]",
        "restricted_account = \"premium\"\n\n[deletion]",
    );
    assert_eq!(
        only_problem(&text),
        "checkboxes.restricted_account: tag \"premium\" is also managed by support_level"
    );
}

#[test]
fn a_region_table_without_a_region_field_is_refused() {
    let text = US_FEDERAL_TOML.replace("[regions]\n", "[regions]\nAMER = \"amer\"\n");
    assert_eq!(
        only_problem(&text),
        "regions: listed but fields.region is not mapped"
    );
}

#[test]
fn only_the_global_instance_deletes_and_the_protect_tag_is_a_tag() {
    let text = US_FEDERAL_TOML.replace(
        "delete_greatly_expired = false",
        "delete_greatly_expired = true",
    );
    assert_eq!(
        only_problem(&text),
        "deletion.delete_greatly_expired: only the Global instance deletes orgs"
    );
    let text = GLOBAL_TOML.replace(
        "protect_tag = \"do_not_delete\"",
        "protect_tag = \"do not delete\"",
    );
    assert_eq!(
        only_problem(&text),
        "deletion.protect_tag: \"do not delete\" is not a valid tag"
    );
}

#[test]
fn a_ranked_expired_plan_and_a_blank_case_origin_are_refused() {
    let text = GLOBAL_TOML.replace("\"community\"]", "\"community\", \"expired\"]");
    assert_eq!(
        only_problem(&text),
        "plans.expired: \"expired\" must not be ranked"
    );
    let text = GLOBAL_TOML.replace("origin = \"Web\"", "origin = \" \"");
    assert_eq!(only_problem(&text), "cases.origin: empty");
}

#[test]
fn lines_are_hashed_as_their_joined_text() {
    use sync_core::mapping::{sha256_hex, sha256_hex_of_lines};
    for lines in [
        vec![],
        vec![""],
        vec!["", ""],
        vec!["a"],
        vec!["a", "bc", ""],
    ] {
        assert_eq!(
            sha256_hex_of_lines(&lines),
            sha256_hex(lines.join("\n").as_bytes()),
            "{lines:?}"
        );
    }
}
