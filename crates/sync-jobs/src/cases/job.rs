//! The cases job's I/O (docs/behaviour.md §7): one ticket event (`created`/`closed`, from a CI
//! trigger or a webhook), and the reconcile pass over the tickets changed in a window.
//! Both read the ticket (and its organization and requester) from Zendesk, look the
//! Case up by key, [`decide`] and write by upsert on the key field, and hand back the
//! [`CaseOutcome`] of every ticket ([`Handled`]); the report is built from those in one
//! place ([`CasesReportBuilder`]).

use serde_json::{Map, Value};
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
use sync_core::report::{ApiCalls, CaseOutcome, CaseWrite, CasesReportBuilder, TicketOutcome};

/// What a cases run did (one event, or a reconcile pass): the outcome of each ticket it
/// handled, in order, what it read, and the error that stopped it, if one did. The
/// outcomes before a stop stand (their writes were made) and are reported with it.
#[derive(Debug, Default)]
pub struct Handled {
    /// Each ticket's outcomes, in the order they came (a create that met a concurrent
    /// Case is two: an update, then a close).
    pub tickets: Vec<TicketOutcome>,
    /// Salesforce records read: the Cases the lookups found.
    pub salesforce_records: usize,
    /// Zendesk organizations read (reconcile).
    pub zendesk_organizations: usize,
    /// The error that stopped the run: an API unreachable or refusing us (exit 4), or a
    /// bad `--since` (exit 2).
    pub error: Option<Error>,
}

impl Handled {
    /// Records one outcome of a ticket.
    pub(super) fn push(&mut self, ticket_id: u64, outcome: CaseOutcome) {
        self.tickets.push(TicketOutcome { ticket_id, outcome });
    }

    /// Whether an outcome failed, or an error stopped the run.
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.tickets.iter().any(|t| t.outcome.is_failed())
    }

    /// Hands the outcomes and reads to `report`; returns the error that stopped the run,
    /// for the caller to report as it must (`run_stopped`, or the receiver's
    /// `event_failed`).
    pub fn into_report(self, report: &mut CasesReportBuilder) -> Option<Error> {
        report.tickets(self.tickets);
        report.salesforce_records(self.salesforce_records);
        report.zendesk_organizations(self.zendesk_organizations);
        self.error
    }
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
    /// decides; `event` is logged. Per-ticket problems are outcomes (findings, a refused
    /// write); [`Handled::error`] says an API was unreachable or refused us (exit 4).
    pub async fn handle_event(&self, ticket_id: u64, event: TicketEvent) -> Handled {
        let mut done = Handled::default();
        if let Err(e) = self.event(ticket_id, event, &mut done).await {
            done.error = Some(e);
        }
        done
    }

    async fn event(
        &self,
        ticket_id: u64,
        event: TicketEvent,
        done: &mut Handled,
    ) -> Result<(), Error> {
        let settings = self.mapping.cases();
        let key = case_key(settings, ticket_id);
        let Some((ticket, org, requester)) = self.read_ticket(ticket_id).await? else {
            let message = format!("ticket {ticket_id} ({event}): not found in Zendesk");
            tracing::warn!(ticket_id, %event, "ticket not found; nothing to do");
            done.push(
                ticket_id,
                CaseOutcome::Skipped {
                    kind: TICKET_NOT_FOUND,
                    message,
                },
            );
            return Ok(());
        };
        let facts = self.facts(&ticket, org, requester.as_ref());
        if (event == TicketEvent::Closed) != facts.is_closed(settings) {
            // A late or out-of-order event: the ticket as it is now decides.
            tracing::info!(ticket_id, %event, status = %facts.status, "the event and the ticket's status differ; the status decides");
        }
        let lookup = find_cases(&self.salesforce, settings, std::slice::from_ref(&key)).await?;
        done.salesforce_records += lookup.get(&key).len();
        let before = done.tickets.len();
        let result = self
            .decide_and_apply(&facts, &lookup, Mode::Event, done)
            .await;
        let outcomes: Vec<&CaseOutcome> = done
            .tickets
            .iter()
            .skip(before)
            .map(|t| &t.outcome)
            .collect();
        tracing::info!(ticket_id, %event, key, ?outcomes, "ticket event handled");
        result
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

    /// Decides for one ticket and applies the decision; its outcome goes in `done`.
    async fn decide_and_apply(
        &self,
        facts: &TicketFacts,
        lookup: &CaseLookup,
        mode: Mode,
        done: &mut Handled,
    ) -> Result<(), Error> {
        let (decision, problem) = self.decision(facts, lookup, mode);
        if let Some(message) = problem {
            done.push(facts.ticket_id, failed(facts.ticket_id, message));
            return Ok(());
        }
        let result = self.write(&decision).await;
        match (&decision, result) {
            (Decision::Create { key, body, closed }, Ok(Written::Updated)) => {
                self.repair_after_race(facts, key, body, *closed, done)
                    .await
            }
            (_, result) => {
                let outcome = outcome(facts.ticket_id, &decision, result.map(|_| ()))?;
                done.push(facts.ticket_id, outcome);
                Ok(())
            }
        }
    }

    /// The create's upsert answered "updated": a Case with this key appeared after the
    /// lookup (a concurrent writer), and the upsert has just set its fields and its
    /// `Status`. Records that as the update it was (first: the write was made, whatever
    /// fails next), re-reads the Case and the ticket, and closes the Case again if the
    /// ticket is closed now, so a race never leaves a closed ticket's Case reopened
    /// ([`after_create_met_a_case`]).
    pub(super) async fn repair_after_race(
        &self,
        facts: &TicketFacts,
        key: &str,
        body: &Map<String, Value>,
        created_closed: bool,
        done: &mut Handled,
    ) -> Result<(), Error> {
        let ticket_id = facts.ticket_id;
        tracing::warn!(
            ticket_id,
            key,
            "a Case with this key appeared between the lookup and the upsert, which updated it; re-reading the Case and the ticket"
        );
        done.push(ticket_id, raced_update(key, body));
        let settings = self.mapping.cases();
        let lookup = find_cases(&self.salesforce, settings, &[key.to_string()]).await?;
        let case = lookup.get(key).first();
        let closed_now = created_closed || self.ticket_closed_now(facts).await?;
        let repair = after_create_met_a_case(key.to_string(), closed_now, case);
        if repair.body().is_some() {
            tracing::info!(
                ticket_id,
                key,
                "the ticket is closed now: closing its Case again"
            );
            let result = self.apply(&repair).await;
            done.push(ticket_id, outcome(ticket_id, &repair, result)?);
        }
        Ok(())
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

    /// The API calls both clients made.
    pub fn api_calls(&self) -> ApiCalls {
        ApiCalls {
            salesforce: self.salesforce.call_counts().values().sum(),
            zendesk: self.zendesk.total_requests(),
        }
    }
}

/// The update a create's upsert made when it met a concurrent Case: the create's body
/// (its `Status` included) written over the Case.
pub(super) fn raced_update(key: &str, body: &Map<String, Value>) -> CaseOutcome {
    CaseOutcome::Updated(CaseWrite {
        key: key.to_string(),
        fields: body.clone(),
    })
}

/// A refused write or a key held by several Cases (`case_write_failed`), logged.
pub(super) fn failed(ticket_id: u64, message: String) -> CaseOutcome {
    tracing::error!(ticket_id, %message, "Case write failed");
    CaseOutcome::write_failed(message)
}

/// The outcome of a decision and its write's result; `Err` for a fatal API error.
pub(super) fn outcome(
    ticket_id: u64,
    decision: &Decision,
    result: Result<(), WriteError>,
) -> Result<CaseOutcome, Error> {
    match result {
        Err(WriteError::Fatal(e)) => Err(e.into()),
        Err(WriteError::MissingAccount(message)) => {
            tracing::warn!(ticket_id, %message, "the Case's account is missing in Salesforce");
            Ok(CaseOutcome::Skipped {
                kind: MISSING_ACCOUNT,
                message: format!("ticket {ticket_id}: {message}"),
            })
        }
        Err(WriteError::Refused(message)) => {
            Ok(failed(ticket_id, format!("ticket {ticket_id}: {message}")))
        }
        Ok(()) => {
            if let Decision::Unchanged { reason, .. } = decision {
                tracing::debug!(ticket_id, reason, "Case unchanged");
            }
            Ok(CaseOutcome::applied(decision))
        }
    }
}
