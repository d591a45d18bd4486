//! The eval-diff scenario's data without a running sandbox: the sandbox crate's own
//! generator used as a library (the same accounts, seed and day give the same data as
//! `zd-sfdc-sandbox serve --accounts N --sold-to-users`), the Global query's rows
//! rendered by the sandbox's own query engine, and the orgs converted as the job
//! converts what it reads. Only what the scenario needs is kept: the rows as JSON text
//! and the orgs; the generated stores are dropped, so 1M accounts fit in memory.

use std::time::Instant;

use ::sandbox::salesforce::{GenerateConfig, SalesforceConfig, SalesforceSim, Store};
use ::sandbox::zendesk::generate::{generate_from, Extras};
use anyhow::Context as _;
use sync_core::zendesk::ZendeskOrg;
use time::Date;

/// The Global query's rows and the Zendesk orgs of a generated data set.
pub struct GlobalData {
    /// Each row of the Global accounts query as JSON text, in the query's order.
    pub records: Vec<Box<str>>,
    /// The Zendesk orgs, converted by `sync_jobs::convert::zendesk_org`.
    pub orgs: Vec<ZendeskOrg>,
    /// Generation, rendering and conversion, seconds.
    pub seconds: f64,
}

/// Generates `accounts` accounts (Global Zendesk side, sold-to users in play) and
/// renders what the Global job would read.
pub fn global(accounts: usize, seed: u64, today: Date) -> anyhow::Result<GlobalData> {
    let started = Instant::now();
    let store = Store::generate(&GenerateConfig {
        accounts,
        seed,
        today,
    });
    // The orgs do not depend on the extra (unrelated) users, so none are made.
    let extras = Extras {
        sold_to_users: true,
        extra_users: 0,
    };
    let zendesk = generate_from(&store, ::sandbox::Instance::Global, seed, today, extras);
    let mut orgs = Vec::with_capacity(zendesk.orgs.len());
    let mut keys = sync_core::zendesk::SharedFieldKeys::default();
    for org in zendesk.orgs.into_values() {
        // The API's JSON of the org, read by the client's type, converted as the job does.
        let json = serde_json::to_value(&org).context("an org does not serialise")?;
        let read: zendesk_client::Organization =
            serde_json::from_value(json).context("an org does not read back")?;
        orgs.push(sync_jobs::convert::zendesk_org(read, &mut keys));
    }
    let salesforce = SalesforceSim::new(store, SalesforceConfig::default());
    let mut records: Vec<Box<str>> = Vec::new();
    let mut failed: Option<serde_json::Error> = None;
    salesforce
        .query_rows(
            sync_core::soql::GLOBAL_ACCOUNTS,
            sfdc_client::DEFAULT_API_VERSION,
            |row| match serde_json::to_string(&row) {
                Ok(text) => records.push(text.into_boxed_str()),
                Err(e) => failed = Some(e),
            },
        )
        .map_err(|e| anyhow::anyhow!("the Global query fails: {} {}", e.code, e.message))?;
    if let Some(e) = failed {
        return Err(e).context("a row does not serialise");
    }
    drop(salesforce);
    Ok(GlobalData {
        records,
        orgs,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// This process's resident memory now and at its peak, MiB (`/proc/self/status`
/// `VmRSS`, `VmHWM`); `None` where that file is not there.
pub fn rss_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
    };
    Some((kib("VmRSS:")? / 1024.0, kib("VmHWM:")? / 1024.0))
}
