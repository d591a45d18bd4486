//! The cases job's I/O (docs/behaviour.md §7): one ticket event (`created`/`closed`, from a CI
//! trigger or a webhook), and the reconcile pass over the tickets changed in a window.
//! Both read the ticket (and its organization and requester) from Zendesk, look the
//! Case up by key, [`decide`] and write by upsert on the key field, recording every
//! outcome in the [`Report`]'s `cases` section.

use serde_json::{json, Map, Value};
use zendesk_client::{Organization, Ticket, TicketId, User};

use super::salesforce::{find_cases, upsert_case, CaseLookup};
use crate::Error;
use sync_core::cases::rules::{
    after_create_met_a_case, agent_url, case_key, decide, Decision, Mode, TicketEvent, TicketFacts,
    TicketOrg,
};
pub use sync_core::cases::rules::{
    CASE_WRITE_FAILED, MISSING_ACCOUNT, NO_ORGANIZATION, TICKET_NOT_FOUND,
};
use sync_core::mapping::Mapping;
use sync_core::model::FindingKind;
use sync_core::report::{CaseCounts, Change, ErrorKind, ReportError};
use sync_core::Report;

/// What one ticket came to, for the report and the webhook metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A Case was created (or, in a dry run, would be).
    Created,
    /// Its fields were updated.
    Updated,
    /// It was closed.
    Closed,
    /// Nothing to write.
    Unchanged,
    /// Nothing to do and reported: no organization, no account, no ticket.
    Skipped(&'static str),
    /// Salesforce refused the write (reported, exit 1).
    Failed(String),
}

/// The clients and settings of one cases run.
#[derive(Debug, Clone)]
pub struct CasesJob {
    /// Salesforce, built with `auto_assign(false)`.
    pub salesforce: sfdc_client::Client,
    /// The Zendesk instance the tickets come from.
    pub zendesk: zendesk_client::Client,
    /// The instance's mapping (case settings, the `salesforce_id` field key).
    pub mapping: Mapping,
    /// Plan and report, write nothing.
    pub dry_run: bool,
}

/// What an upsert did.
pub(super) enum Written {
    /// Nothing was sent (nothing to write, or a dry run).
    Nothing,
    /// Salesforce created the Case (201).
    Created,
    /// Salesforce updated a Case that has the key (200).
    Updated,
}

/// How a failed Case write is treated.
pub(super) enum WriteError {
    /// The account is missing or deleted: a finding.
    MissingAccount(String),
    /// This Case was refused: reported, the run goes on.
    Refused(String),
    /// Salesforce is unreachable or refusing us: the run stops.
    Fatal(sfdc_client::Error),
}

pub(super) fn classify(err: sfdc_client::Error) -> WriteError {
    let codes = err.error_codes();
    if codes.iter().any(|c| {
        matches!(
            *c,
            "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY" | "ENTITY_IS_DELETED"
        )
    }) {
        return WriteError::MissingAccount(err.to_string());
    }
    // The client classifies its own errors, exhaustively: what stops the run (or was
    // still retriable when its budget ran out) is fatal; the rest refused this Case.
    if err.stops_run() || err.is_retriable() {
        WriteError::Fatal(err)
    } else {
        WriteError::Refused(err.to_string())
    }
}

pub(super) fn item_error(message: &str) -> sfdc_client::CollectionResult {
    sfdc_client::CollectionResult {
        id: None,
        success: false,
        errors: vec![sfdc_client::ApiErrorItem {
            message: message.to_string(),
            error_code: String::new(),
            fields: Vec::new(),
        }],
        created: None,
    }
}

/// A failed Collections item: a missing account is a finding, anything else refused.
pub(super) fn classify_item(item: &sfdc_client::CollectionResult) -> WriteError {
    let message = item
        .errors
        .iter()
        .map(|e| {
            if e.error_code.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", e.error_code, e.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    if item.errors.iter().any(|e| {
        matches!(
            e.error_code.as_str(),
            "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY" | "ENTITY_IS_DELETED"
        )
    }) {
        WriteError::MissingAccount(message)
    } else {
        WriteError::Refused(message)
    }
}

/// The org's `salesforce_id` under the mapping's field key, trimmed, if set.
pub(super) fn org_account(org: &Organization, mapping: &Mapping) -> TicketOrg {
    let key = &mapping.fields().salesforce_id;
    match org
        .organization_fields
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(id) => TicketOrg::Account {
            salesforce_id: id.to_string(),
        },
        None => TicketOrg::NoSalesforceId {
            organization_id: crate::convert::org_id(org.id),
        },
    }
}

impl CasesJob {
    pub(super) fn facts(
        &self,
        ticket: &Ticket,
        org: TicketOrg,
        requester: Option<&User>,
    ) -> TicketFacts {
        TicketFacts {
            ticket_id: ticket.id.0,
            status: ticket.status.as_str().to_string(),
            subject: ticket.subject.clone(),
            description: ticket.description.clone(),
            priority: ticket
                .priority
                .as_ref()
                .map(crate::convert::ticket_priority),
            org,
            requester_email: requester.and_then(|u| u.email.clone()),
            requester_name: requester.map(|u| u.name.clone()),
            agent_url: agent_url(self.zendesk.base_url().as_str(), ticket.id.0),
        }
    }

    /// Handles one ticket event: reads the ticket, its organization and requester, looks
    /// its Case up, and creates, updates or closes it (docs/behaviour.md §7). The ticket's status
    /// decides; `event` is logged. Per-ticket problems are recorded in `report`; `Err`
    /// means an API was unreachable or refused us (exit 4).
    pub async fn handle_event(
        &self,
        ticket_id: u64,
        event: TicketEvent,
        report: &mut Report,
    ) -> Result<Outcome, Error> {
        counts(report);
        let settings = self.mapping.cases();
        let key = case_key(settings, ticket_id);
        let Some((ticket, org, requester)) = self.read_ticket(ticket_id).await? else {
            let message = format!("ticket {ticket_id} ({event}): not found in Zendesk");
            tracing::warn!(ticket_id, %event, "ticket not found; nothing to do");
            return Ok(skip(report, ticket_id, TICKET_NOT_FOUND, message));
        };
        let facts = self.facts(&ticket, org, requester.as_ref());
        if (event == TicketEvent::Closed) != facts.is_closed(settings) {
            // A late or out-of-order event: the ticket as it is now decides.
            tracing::info!(ticket_id, %event, status = %facts.status, "the event and the ticket's status differ; the status decides");
        }
        let lookup = find_cases(&self.salesforce, settings, std::slice::from_ref(&key)).await?;
        report.salesforce.records += lookup.get(&key).len();
        let outcome = self
            .decide_and_apply(&facts, &lookup, Mode::Event, report)
            .await?;
        tracing::info!(ticket_id, %event, key, ?outcome, "ticket event handled");
        Ok(outcome)
    }

    /// A ticket with its organization's account and its requester; `None` when the ticket
    /// does not exist. One call when Zendesk sideloads; when a sideloaded read says 404
    /// (the requester or the organization was deleted), each is read on its own and a
    /// missing one counts as absent.
    async fn read_ticket(
        &self,
        ticket_id: u64,
    ) -> Result<Option<(Ticket, TicketOrg, Option<User>)>, Error> {
        let id = TicketId(ticket_id);
        match self.zendesk.tickets().show_with_related(id).await {
            Ok(r) => {
                let org = r
                    .organization
                    .as_ref()
                    .map_or(TicketOrg::None, |o| org_account(o, &self.mapping));
                return Ok(Some((r.ticket, org, r.requester)));
            }
            Err(zendesk_client::Error::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let ticket = match self.zendesk.tickets().show(id).await {
            Ok(t) => t,
            Err(zendesk_client::Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let org = match ticket.organization_id {
            None => TicketOrg::None,
            Some(oid) => match self.zendesk.organizations().show(oid).await {
                Ok(o) => org_account(&o, &self.mapping),
                Err(zendesk_client::Error::NotFound(_)) => TicketOrg::None,
                Err(e) => return Err(e.into()),
            },
        };
        let requester = match ticket.requester_id {
            None => None,
            Some(uid) => match self.zendesk.users().show(uid).await {
                Ok(u) => Some(u),
                Err(zendesk_client::Error::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            },
        };
        Ok(Some((ticket, org, requester)))
    }

    /// Decides for one ticket and applies the decision, recording it in `report`.
    async fn decide_and_apply(
        &self,
        facts: &TicketFacts,
        lookup: &CaseLookup,
        mode: Mode,
        report: &mut Report,
    ) -> Result<Outcome, Error> {
        let (decision, problem) = self.decision(facts, lookup, mode);
        if let Some(message) = problem {
            return Ok(fail(report, facts.ticket_id, message));
        }
        let result = self.write(&decision).await;
        match (&decision, result) {
            (Decision::Create { key, body, closed }, Ok(Written::Updated)) => {
                self.repair_after_race(facts, key, body, *closed, report)
                    .await
            }
            (_, result) => record(
                report,
                facts.ticket_id,
                &decision,
                result.map(|_| ()),
                self.dry_run,
            ),
        }
    }

    /// The create's upsert answered "updated": a Case with this key appeared after the
    /// lookup (a concurrent writer), and the upsert has just set its fields and its
    /// `Status`. Records that as the update it was, re-reads the Case and the ticket,
    /// and closes the Case again if the ticket is closed now, so a race never leaves a
    /// closed ticket's Case reopened ([`after_create_met_a_case`]).
    pub(super) async fn repair_after_race(
        &self,
        facts: &TicketFacts,
        key: &str,
        body: &Map<String, Value>,
        created_closed: bool,
        report: &mut Report,
    ) -> Result<Outcome, Error> {
        let ticket_id = facts.ticket_id;
        tracing::warn!(
            ticket_id,
            key,
            "a Case with this key appeared between the lookup and the upsert, which updated it; re-reading the Case and the ticket"
        );
        let settings = self.mapping.cases();
        let lookup = find_cases(&self.salesforce, settings, &[key.to_string()]).await?;
        let case = lookup.get(key).first();
        let closed_now = created_closed || self.ticket_closed_now(facts).await?;
        let update = Decision::Update {
            key: key.to_string(),
            case_id: case.map(|c| c.id.clone()).unwrap_or_default(),
            body: body.clone(),
        };
        let mut outcome = record(report, ticket_id, &update, Ok(()), false)?;
        let repair = after_create_met_a_case(key.to_string(), closed_now, case);
        if repair.body().is_some() {
            tracing::info!(
                ticket_id,
                key,
                "the ticket is closed now: closing its Case again"
            );
            let result = self.apply(&repair).await;
            outcome = record(report, ticket_id, &repair, result, false)?;
        }
        Ok(outcome)
    }

    /// Whether the ticket is closed as Zendesk has it now (a deleted ticket counts as
    /// it was when first read).
    async fn ticket_closed_now(&self, facts: &TicketFacts) -> Result<bool, Error> {
        let settings = self.mapping.cases();
        match self.zendesk.tickets().show(TicketId(facts.ticket_id)).await {
            Ok(ticket) => Ok(TicketFacts {
                status: ticket.status.as_str().to_string(),
                ..facts.clone()
            }
            .is_closed(settings)),
            Err(zendesk_client::Error::NotFound(_)) => Ok(facts.is_closed(settings)),
            Err(e) => Err(e.into()),
        }
    }

    /// The decision for a ticket, or the message when its key matches several Cases.
    pub(super) fn decision(
        &self,
        facts: &TicketFacts,
        lookup: &CaseLookup,
        mode: Mode,
    ) -> (Decision, Option<String>) {
        let settings = self.mapping.cases();
        let key = case_key(settings, facts.ticket_id);
        let cases = lookup.get(&key);
        if cases.len() > 1 {
            let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
            let message = format!(
                "ticket {}: {} Cases hold {} = {key:?} ({}); fix the duplicates in Salesforce",
                facts.ticket_id,
                cases.len(),
                settings.external_id_field,
                ids.join(", ")
            );
            let decision = Decision::Unchanged {
                key,
                reason: "several Cases",
            };
            return (decision, Some(message));
        }
        (decide(facts, cases.first(), settings, mode), None)
    }

    /// Sends the decision's write, unless it writes nothing or this is a dry run.
    pub(super) async fn apply(&self, decision: &Decision) -> Result<(), WriteError> {
        self.write(decision).await.map(|_| ())
    }

    /// [`Self::apply`], saying whether the upsert created or updated the Case.
    pub(super) async fn write(&self, decision: &Decision) -> Result<Written, WriteError> {
        let Some(body) = decision.body() else {
            return Ok(Written::Nothing);
        };
        if self.dry_run {
            return Ok(Written::Nothing);
        }
        let created = upsert_case(
            &self.salesforce,
            self.mapping.cases(),
            decision.key(),
            &body,
        )
        .await
        .map_err(classify)?;
        Ok(if created {
            Written::Created
        } else {
            Written::Updated
        })
    }

    /// Sets `api_calls` from both clients' counters.
    pub fn record_api_calls(&self, report: &mut Report) {
        report.api_calls.salesforce = self.salesforce.call_counts().values().sum();
        report.api_calls.zendesk = self.zendesk.total_requests();
    }
}

pub(super) fn counts(report: &mut Report) -> &mut CaseCounts {
    report.cases.get_or_insert_with(CaseCounts::default)
}

fn push_error(report: &mut Report, kind: impl Into<ErrorKind>, ticket_id: u64, message: String) {
    report
        .errors
        .push(ReportError::ticket(kind, ticket_id, message));
}

/// A ticket with nothing to do, reported as `kind`; counted unchanged.
fn skip(report: &mut Report, ticket_id: u64, kind: FindingKind, message: String) -> Outcome {
    counts(report).unchanged += 1;
    push_error(report, kind, ticket_id, message);
    Outcome::Skipped(kind.as_str())
}

pub(super) fn fail(report: &mut Report, ticket_id: u64, message: String) -> Outcome {
    counts(report).failed += 1;
    tracing::error!(ticket_id, %message, "Case write failed");
    push_error(report, CASE_WRITE_FAILED, ticket_id, message.clone());
    Outcome::Failed(message)
}

/// Records a decision and its write's result; `Err` for a fatal API error.
pub(super) fn record(
    report: &mut Report,
    ticket_id: u64,
    decision: &Decision,
    result: Result<(), WriteError>,
    dry_run: bool,
) -> Result<Outcome, Error> {
    match result {
        Err(WriteError::Fatal(e)) => return Err(e.into()),
        Err(WriteError::MissingAccount(message)) => {
            tracing::warn!(ticket_id, %message, "the Case's account is missing in Salesforce");
            return Ok(skip(
                report,
                ticket_id,
                MISSING_ACCOUNT,
                format!("ticket {ticket_id}: {message}"),
            ));
        }
        Err(WriteError::Refused(message)) => {
            return Ok(fail(
                report,
                ticket_id,
                format!("ticket {ticket_id}: {message}"),
            ));
        }
        Ok(()) => {}
    }
    if let (Some(action), Some(body)) = (decision.action(), decision.body()) {
        let mut fields = Map::new();
        fields.insert("key".into(), json!(decision.key()));
        fields.extend(body);
        report.changes.push(Change {
            action,
            salesforce_id: None,
            email: None,
            ticket_id: Some(ticket_id),
            name: None,
            fields: Value::Object(fields),
            before: None,
        });
    }
    let c = counts(report);
    let outcome = match decision {
        Decision::Create { .. } => {
            c.create += 1;
            Outcome::Created
        }
        Decision::Update { .. } => {
            c.update += 1;
            Outcome::Updated
        }
        Decision::Close { .. } => {
            c.close += 1;
            Outcome::Closed
        }
        Decision::Unchanged { reason, .. } => {
            tracing::debug!(ticket_id, reason, dry_run, "Case unchanged");
            c.unchanged += 1;
            Outcome::Unchanged
        }
        Decision::NoAccount { message, .. } => {
            return Ok(skip(report, ticket_id, NO_ORGANIZATION, message.clone()));
        }
    };
    Ok(outcome)
}
