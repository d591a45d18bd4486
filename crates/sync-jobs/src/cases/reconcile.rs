//! The reconcile pass (docs/behaviour.md §7): the tickets changed in a window (incremental export),
//! their organizations and the requesters of Cases to create read in bulk, Cases looked
//! up 200 keys a query, and the repairs — a missing Case, a missing close — written 200
//! a sObject Collections upsert.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use zendesk_client::{OrgId, Organization, Ticket, TicketStatus, User, UserId};

use super::job::{
    classify, classify_item, failed, item_error, org_account, outcome, raced_update, CasesJob,
    Handled, WriteError, Written,
};
use super::salesforce::{find_cases, upsert_cases};
use crate::Error;
use sync_core::cases::rules::{case_key, Decision, Mode, TicketFacts, TicketOrg};

/// Records per `show_many` call (the API's limit).
const PER_SHOW_MANY: usize = 100;
/// The oldest `start_time` Zendesk accepts is at least this far in the past.
const MIN_WINDOW: Duration = Duration::from_secs(60);

impl CasesJob {
    /// Sends the writes of many decisions, 200 Cases a Collections call; an item that
    /// failed only for a transient reason (`UNABLE_TO_LOCK_ROW`) is sent again on its own
    /// (the single upsert retries with backoff). Returns each decision with its write's
    /// result, by ticket, and the error of a call that could not reach Salesforce: no
    /// chunk is sent after it, and the results of the chunks before it (written) stand.
    async fn apply_many(
        &self,
        decisions: Vec<(u64, Decision)>,
    ) -> (
        Vec<(u64, Decision, Result<Written, WriteError>)>,
        Option<Error>,
    ) {
        let (writing, quiet): (Vec<_>, Vec<_>) = decisions
            .into_iter()
            .partition(|(_, d)| d.body().is_some() && !self.dry_run);
        let mut out: Vec<(u64, Decision, Result<Written, WriteError>)> = quiet
            .into_iter()
            .map(|(id, d)| (id, d, Ok(Written::Nothing)))
            .collect();
        let mut stop = None;
        for chunk in writing.chunks(sfdc_client::MAX_COLLECTION_RECORDS) {
            let items: Vec<(String, Map<String, Value>)> = chunk
                .iter()
                .filter_map(|(_, d)| d.body().map(|b| (d.key().to_string(), b)))
                .collect();
            let results = match upsert_cases(&self.salesforce, self.mapping.cases(), &items).await {
                Ok(r) => r,
                Err(e) => match classify(e) {
                    WriteError::Fatal(e) => {
                        stop = Some(e.into());
                        break;
                    }
                    WriteError::MissingAccount(m) | WriteError::Refused(m) => {
                        let m = format!("the Case collection call was refused: {m}");
                        chunk.iter().map(|_| Err(item_error(&m))).collect()
                    }
                },
            };
            for ((ticket_id, decision), result) in chunk.iter().cloned().zip(results) {
                let result = match result {
                    Ok(true) => Ok(Written::Created),
                    Ok(false) => Ok(Written::Updated),
                    Err(item) if item.is_retriable() => self.write(&decision).await,
                    Err(item) => Err(classify_item(&item)),
                };
                out.push((ticket_id, decision, result));
            }
        }
        out.sort_by_key(|(ticket_id, _, _)| *ticket_id);
        (out, stop)
    }

    /// Walks the tickets changed in the last `since` (before `now`) and repairs what a
    /// lost event left undone: a ticket with an account and no Case gets one (closed if
    /// the ticket is), a closed ticket whose Case is open gets it closed. Cases are
    /// looked up 200 keys a query; existing Cases' fields are left alone.
    pub async fn reconcile(&self, since: Duration, now: OffsetDateTime) -> Handled {
        let mut done = Handled::default();
        if let Err(e) = self.reconcile_into(since, now, &mut done).await {
            done.error = Some(e);
        }
        done
    }

    async fn reconcile_into(
        &self,
        since: Duration,
        now: OffsetDateTime,
        done: &mut Handled,
    ) -> Result<(), Error> {
        if since < MIN_WINDOW {
            return Err(Error::Config(format!(
                "--since must be at least 1m (Zendesk refuses a start_time under a minute old), got {}s",
                since.as_secs()
            )));
        }
        let start = time::Duration::try_from(since)
            .ok()
            .and_then(|d| now.checked_sub(d))
            .ok_or_else(|| {
                Error::Config(format!(
                    "--since {}s reaches before the earliest date that can be handled",
                    since.as_secs()
                ))
            })?;
        let tickets = self.changed_tickets(start.unix_timestamp()).await?;
        let orgs = self.organizations(&tickets).await?;
        done.zendesk_organizations += orgs.len();
        let settings = self.mapping.cases();
        let keys: Vec<String> = tickets.keys().map(|id| case_key(settings, *id)).collect();
        let lookup = find_cases(&self.salesforce, settings, &keys).await?;
        done.salesforce_records += lookup.by_key.values().map(Vec::len).sum::<usize>();
        for bad in &lookup.bad_rows {
            tracing::warn!(row = %bad, "unreadable Case row skipped");
        }
        tracing::info!(
            tickets = tickets.len(),
            cases = lookup.by_key.len(),
            queries = lookup.queries,
            "tickets and Cases read"
        );

        // Decide without requesters first; read requesters (100 a call) only for the
        // Cases to create, then decide those again with them.
        let mut decided = Vec::new();
        for ticket in tickets.values() {
            let org = match ticket.organization_id {
                None => TicketOrg::None,
                Some(id) => match orgs.get(&id) {
                    Some(o) => org_account(o, &self.mapping),
                    None => TicketOrg::None,
                },
            };
            let facts = self.facts(ticket, org, None);
            match self.decision(&facts, &lookup, Mode::Repair) {
                (_, Some(message)) => done.push(facts.ticket_id, failed(facts.ticket_id, message)),
                (decision, None) => decided.push((ticket, facts, decision)),
            }
        }
        let wanted: Vec<UserId> = decided
            .iter()
            .filter(|(_, _, d)| matches!(d, Decision::Create { .. }))
            .filter_map(|(t, _, _)| t.requester_id)
            .collect();
        let requesters = self.users(wanted).await?;
        let mut facts_of: BTreeMap<u64, TicketFacts> = BTreeMap::new();
        let writes: Vec<(u64, Decision)> = decided
            .into_iter()
            .map(|(ticket, facts, decision)| match decision {
                Decision::Create { .. } => {
                    let requester = ticket.requester_id.and_then(|id| requesters.get(&id));
                    let facts = self.facts(ticket, facts.org, requester);
                    let (decision, _) = self.decision(&facts, &lookup, Mode::Repair);
                    let ticket_id = facts.ticket_id;
                    facts_of.insert(ticket_id, facts);
                    (ticket_id, decision)
                }
                other => (facts.ticket_id, other),
            })
            .collect();
        let (results, mut stop) = self.apply_many(writes).await;
        // Every result is reported, also past a stop: those writes were made. After a
        // stop no further call is made (no race repair).
        for (ticket_id, decision, result) in results {
            match (&decision, result, facts_of.get(&ticket_id)) {
                // A Case appeared between the lookup and the upsert (a concurrent event).
                (Decision::Create { key, body, closed }, Ok(Written::Updated), Some(facts)) => {
                    if stop.is_some() {
                        done.push(ticket_id, raced_update(key, body));
                    } else if let Err(e) = self
                        .repair_after_race(facts, key, body, *closed, done)
                        .await
                    {
                        stop = Some(e);
                    }
                }
                (_, result, _) => match outcome(ticket_id, &decision, result.map(|_| ())) {
                    Ok(outcome) => done.push(ticket_id, outcome),
                    Err(e) => {
                        tracing::error!(ticket_id, error = %e, "Case write failed: Salesforce could not be reached");
                        stop.get_or_insert(e);
                    }
                },
            }
        }
        match stop {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The tickets of the incremental export from `start_time`, the latest version of
    /// each, deleted ones left out.
    async fn changed_tickets(&self, start_time: i64) -> Result<BTreeMap<u64, Ticket>, Error> {
        let mut tickets = BTreeMap::new();
        let mut pages = self.zendesk.tickets().incremental_export(start_time);
        let mut last_log = Instant::now();
        let mut seen = 0usize;
        while let Some(page) = pages.try_next().await? {
            seen += page.tickets.len();
            for t in page.tickets {
                if t.status == TicketStatus::Deleted {
                    tickets.remove(&t.id.0);
                } else {
                    tickets.insert(t.id.0, t);
                }
            }
            if last_log.elapsed() >= Duration::from_secs(3) {
                tracing::info!(read = seen, "reading changed tickets");
                last_log = Instant::now();
            }
        }
        Ok(tickets)
    }

    /// Users by id, 100 a call; ids Zendesk does not know are absent.
    async fn users(&self, mut ids: Vec<UserId>) -> Result<BTreeMap<UserId, User>, Error> {
        ids.sort();
        ids.dedup();
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(PER_SHOW_MANY) {
            for user in self.zendesk.users().show_many(chunk).await? {
                out.insert(user.id, user);
            }
        }
        Ok(out)
    }

    /// The organizations of the tickets, 100 a call.
    async fn organizations(
        &self,
        tickets: &BTreeMap<u64, Ticket>,
    ) -> Result<BTreeMap<OrgId, Organization>, Error> {
        let mut ids: Vec<OrgId> = tickets.values().filter_map(|t| t.organization_id).collect();
        ids.sort();
        ids.dedup();
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(PER_SHOW_MANY) {
            for org in self.zendesk.organizations().show_many(chunk).await? {
                out.insert(org.id, org);
            }
        }
        Ok(out)
    }
}
