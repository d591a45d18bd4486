//! `explain SALESFORCE_ID` (both sync jobs; docs/behaviour.md §8): read-only. Checks the mapping
//! against `organization_fields` (for the number types), reads the instance's query
//! narrowed to the account and the Zendesk orgs, and hands them to
//! [`sync_core::explain`], which explains the account with the run's own steps. An
//! account the query does not return is read again by id without the `WHERE`, to say
//! which condition it fails. Markdown on stdout (and in `--report-md`), JSON in
//! `--report`. Nothing is written to either API.

use std::io::Write as _;

use sync_core::explain::{
    by_id_query, explain_not_returned, explain_record, narrowed_query, why_not_returned,
    Explanation,
};
use sync_core::mapping::Instance;

use crate::cli::CommonArgs;
use crate::jobs::load_mapping;
use crate::jobs::org_sync::{accounts_query, check_fields, read_orgs, read_records};
use crate::shell::configure;
use crate::{exit, Error};

/// Runs `explain` for `salesforce_id` (already checked: 18 letters and digits).
pub async fn run(
    instance: Instance,
    common: &CommonArgs,
    salesforce_id: String,
) -> Result<u8, Error> {
    let today = common.today();
    let mapping = load_mapping(instance, common.mapping.as_deref())?;
    let (_sandbox, config) = configure(instance, common, today).await?;
    let salesforce = config.salesforce_client()?;
    let zendesk = config.zendesk_client(common.zd_rate_limit)?;
    let explanation = explain(
        instance,
        &salesforce,
        &zendesk,
        &mapping,
        &salesforce_id,
        today,
    )
    .await?;
    emit(&explanation, common)?;
    Ok(exit::OK)
}

/// The explanation of one account, read from the two APIs.
pub async fn explain(
    instance: Instance,
    salesforce: &sfdc_client::Client,
    zendesk: &zendesk_client::Client,
    mapping: &sync_core::Mapping,
    salesforce_id: &str,
    today: time::Date,
) -> Result<Explanation, Error> {
    let mapping = check_fields(zendesk, mapping).await?;
    let query = narrowed_query(accounts_query(instance), salesforce_id);
    let (records, orgs) = tokio::try_join!(
        read_records(salesforce, &query, "Salesforce accounts"),
        read_orgs(zendesk),
    )?;
    Ok(match records.into_iter().next() {
        Some(record) => explain_record(salesforce_id, record, &orgs, &mapping, today),
        None => {
            let rows = read_records(
                salesforce,
                &by_id_query(salesforce_id),
                "Salesforce accounts",
            )
            .await?;
            let why = why_not_returned(instance, salesforce_id, rows.first());
            explain_not_returned(salesforce_id, today, why)
        }
    })
}

/// Markdown on stdout and in `--report-md`; JSON in `--report`.
fn emit(explanation: &Explanation, common: &CommonArgs) -> Result<(), Error> {
    let markdown = explanation.to_markdown();
    if let Some(path) = &common.report {
        let json = serde_json::to_string_pretty(explanation)
            .map_err(|e| Error::Config(format!("cannot encode the explanation: {e}")))?;
        std::fs::write(path, json).map_err(Error::io(format!(
            "cannot write the JSON explanation to {}",
            path.display()
        )))?;
    }
    if let Some(path) = &common.report_md {
        std::fs::write(path, &markdown).map_err(Error::io(format!(
            "cannot write the Markdown explanation to {}",
            path.display()
        )))?;
    }
    let mut out = std::io::stdout().lock();
    write!(out, "{markdown}").map_err(Error::io("cannot print the explanation"))?;
    Ok(())
}
