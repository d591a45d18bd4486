//! What the floor needs to know before a run, read by the harness itself (never taken
//! from the job under test): the Salesforce pages the queries need, the Zendesk orgs
//! and end-users, and the emails in play, from sync-core's own plan of the same data.

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::Context as _;
use futures::StreamExt as _;
use serde::Serialize;
use sfdc_client::{Client, Credentials};
use sync_core::{Mapping, ZendeskOrg, ZendeskOrgId};
use time::Date;

use crate::sandbox::{Instance, SandboxProcess};

/// A Salesforce client at the sandbox (client credentials, any secret accepted).
pub fn salesforce_client(sandbox: &SandboxProcess) -> anyhow::Result<Client> {
    Ok(Client::builder()
        .login_url(sandbox.salesforce.clone())
        .credentials(Credentials::ClientCredentials {
            client_id: "bench".into(),
            client_secret: "bench".to_owned().into(),
        })
        .build()?)
}

/// One query read in full through `sfdc-client`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueryRead {
    /// Rows (top-level records).
    pub rows: u64,
    /// `query` requests.
    pub query: u64,
    /// `query_more` requests (top-level and child-set pages).
    pub query_more: u64,
    /// Wall time of the read.
    pub seconds: f64,
}

impl QueryRead {
    /// Pages: query + query_more.
    pub fn pages(&self) -> u64 {
        self.query + self.query_more
    }
}

/// Reads every record of `soql`, handing each to `sink`, and counts the pages.
pub async fn read_query(
    client: &Client,
    soql: &str,
    mut sink: impl FnMut(serde_json::Value),
) -> anyhow::Result<QueryRead> {
    client.authenticate().await?;
    let before = client.call_counts();
    let started = Instant::now();
    let mut rows = 0;
    let mut stream = std::pin::pin!(client.query::<serde_json::Value>(soql));
    while let Some(item) = stream.next().await {
        let record = item?.map_err(|e| anyhow::anyhow!("undecodable record: {e}"))?;
        rows += 1;
        sink(record);
    }
    let seconds = started.elapsed().as_secs_f64();
    let after = client.call_counts();
    let grew = |k: &str| {
        let at = |m: &std::collections::BTreeMap<&'static str, u64>| m.get(k).copied().unwrap_or(0);
        at(&after).saturating_sub(at(&before))
    };
    Ok(QueryRead {
        rows,
        query: grew("query"),
        query_more: grew("query_more"),
        seconds,
    })
}

/// What the harness knows before a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reference {
    /// Salesforce query and queryMore pages the run's queries need.
    pub salesforce_pages: u64,
    /// Zendesk organizations.
    pub orgs: u64,
    /// Zendesk users with role `end-user`.
    pub end_users: u64,
    /// Distinct emails whose user the run must know: Global, the sold-to emails of the
    /// orgs to create and of the orgs created less than 7 days ago (per-email recovery);
    /// US Federal, the valid contact emails.
    pub emails_in_play: u64,
    /// Contact records (US Federal; 0 for Global).
    pub contacts: u64,
    /// sync-core's plan of the same data: creates, updates, deletes.
    pub planned: (u64, u64, u64),
    /// How long this reference read took (not part of any measurement).
    pub seconds: f64,
}

/// Reads the reference of a run on `sandbox` (its requests are excluded from the run's
/// counts: the counters are read after this).
pub async fn reference(
    sandbox: &SandboxProcess,
    instance: Instance,
    today: Date,
) -> anyhow::Result<Reference> {
    let started = Instant::now();
    let state = sandbox.state().await?;
    let zendesk = state
        .get("zendesk")
        .context("the sandbox state has no zendesk part")?;
    let orgs: Vec<ZendeskOrg> = serde_json::from_value(
        zendesk
            .get("organizations")
            .cloned()
            .context("the sandbox state has no Zendesk organizations")?,
    )
    .context("the sandbox state's organizations are not Zendesk orgs")?;
    let end_users = zendesk
        .get("users")
        .and_then(serde_json::Value::as_array)
        .map(|users| {
            users
                .iter()
                .filter(|u| {
                    u.get("role")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("end-user")
                        == "end-user"
                })
                .count()
        })
        .unwrap_or(0) as u64;
    drop(state);

    let client = salesforce_client(sandbox)?;
    let mapping = Mapping::embedded(instance.core())?;
    let mut records = Vec::new();
    let accounts = read_query(
        &client,
        sync_jobs::jobs::org_sync::accounts_query(instance.core()),
        |r| records.push(r),
    )
    .await?;
    let mut pages = accounts.pages();
    let mut contact_rows = 0;
    let plan = sync_core::plan_orgs(records, &orgs, &mapping, today);
    let planned = (
        plan.creates.len() as u64,
        plan.updates.len() as u64,
        plan.deletes.len() as u64,
    );
    let emails_in_play = match instance {
        Instance::Global => {
            let week_ago = today - time::Duration::days(7);
            let deleted: BTreeSet<&str> = plan
                .deletes
                .iter()
                .map(|d| d.salesforce_id.as_str())
                .collect();
            let recent_org: BTreeSet<ZendeskOrgId> = orgs
                .iter()
                .filter(|o| o.created_at.is_some_and(|at| at.date() > week_ago))
                .map(|o| o.id)
                .collect();
            let mut accounts: BTreeSet<&str> = plan
                .creates
                .iter()
                .map(|c| c.salesforce_id.as_str())
                .collect();
            for (sfid, id) in &plan.org_ids {
                if recent_org.contains(id) && !deleted.contains(sfid.as_str()) {
                    accounts.insert(sfid.as_str());
                }
            }
            let emails: BTreeSet<&str> = accounts
                .iter()
                .filter_map(|sfid| plan.sold_to.get(*sfid))
                .flatten()
                .map(|s| s.email.as_str())
                .collect();
            emails.len() as u64
        }
        Instance::UsFederal => {
            let mut contacts = Vec::new();
            let read = read_query(&client, sync_core::soql::US_FEDERAL_CONTACTS, |r| {
                contacts.push(r)
            })
            .await?;
            pages += read.pages();
            contact_rows = read.rows;
            let decoded = sync_core::decode_contacts(contacts);
            let emails: BTreeSet<String> = decoded
                .items
                .iter()
                .filter_map(|c| c.email.as_deref())
                .map(|e| e.trim().to_lowercase())
                .filter(|e| sync_core::users::is_valid_email(e))
                .collect();
            emails.len() as u64
        }
    };
    Ok(Reference {
        salesforce_pages: pages,
        orgs: orgs.len() as u64,
        end_users,
        emails_in_play,
        contacts: contact_rows,
        planned,
        seconds: started.elapsed().as_secs_f64(),
    })
}
