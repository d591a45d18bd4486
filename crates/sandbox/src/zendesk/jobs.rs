//! Background jobs of the bulk endpoints (§6): a job is queued when asked for, shows as
//! `working` half-way through its latency, and is applied and `completed` when the latency
//! has passed, with per-row results in each resource's real shape (failed rows included;
//! the job stays `completed`); a fault can make a whole job end `failed` (or `killed`)
//! instead. Jobs advance lazily, whenever the simulator is touched.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::model::{JobResults, JobRow, JobStatus, OrganizationInput, UserInput};
use super::quirks::{DestroyManyResults, DuplicateEmailRow, Quirks};
use super::store::{Data, Invalid};

/// What a job will do when it runs.
#[derive(Debug, Clone)]
pub enum JobOp {
    /// organizations/create_many.
    CreateOrgs(Vec<OrganizationInput>),
    /// organizations/update_many; `None` = an id that could not be resolved.
    UpdateOrgs(Vec<(Option<u64>, OrganizationInput)>),
    /// organizations/destroy_many.
    DestroyOrgs(Vec<u64>),
    /// users/create_many.
    CreateUsers(Vec<UserInput>),
    /// users/update_many.
    UpdateUsers(Vec<(Option<u64>, UserInput)>),
    /// users/create_or_update_many.
    CreateOrUpdateUsers(Vec<UserInput>),
}

impl JobOp {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            JobOp::CreateOrgs(v) => v.len(),
            JobOp::UpdateOrgs(v) => v.len(),
            JobOp::DestroyOrgs(v) => v.len(),
            JobOp::CreateUsers(v) => v.len(),
            JobOp::UpdateUsers(v) => v.len(),
            JobOp::CreateOrUpdateUsers(v) => v.len(),
        }
    }

    fn working_message(&self, n: u64) -> String {
        match self {
            JobOp::CreateOrgs(_) => format!("Creating organization #{n}"),
            JobOp::UpdateOrgs(_) => format!("Updating organization #{n}"),
            JobOp::DestroyOrgs(_) => format!("Deleting organization #{n}"),
            JobOp::CreateUsers(_) => format!("Creating User #{n}"),
            JobOp::UpdateUsers(_) | JobOp::CreateOrUpdateUsers(_) => format!("Updating user #{n}"),
        }
    }
}

/// One job and its progress.
#[derive(Debug, Clone)]
pub struct Job {
    /// The wire view.
    pub status: JobStatus,
    created: Instant,
    op: JobOp,
    forced_failures: BTreeSet<usize>,
    end_as: Option<String>,
    quirks: Quirks,
    /// The endpoint key of the request that queued it (`POST /api/v2/users/create_many`).
    endpoint: String,
}

const FORCED: &str = "Simulated failure injected by the sandbox";

impl Job {
    /// A queued job. `forced_failures` are row indexes a fault makes fail; `end_as` is the
    /// state a fault makes the whole job end in (`failed`, `killed`, …), nothing applied.
    pub fn new(
        id: String,
        url: String,
        op: JobOp,
        forced_failures: BTreeSet<usize>,
        end_as: Option<String>,
        quirks: Quirks,
    ) -> Job {
        Job {
            status: JobStatus {
                id,
                url,
                total: Some(op.len() as u64),
                progress: None,
                status: "queued".to_owned(),
                message: None,
                results: None,
            },
            created: Instant::now(),
            op,
            forced_failures,
            end_as,
            quirks,
            endpoint: String::new(),
        }
    }

    /// The job as queued by a request to `endpoint` (its key, e.g.
    /// `POST /api/v2/users/create_many`).
    pub fn queued_by(mut self, endpoint: &str) -> Job {
        endpoint.clone_into(&mut self.endpoint);
        self
    }

    /// The endpoint key of the request that queued it.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether the job still counts against the queued-jobs limit.
    pub fn is_pending(&self) -> bool {
        matches!(self.status.status.as_str(), "queued" | "working")
    }

    /// Moves the job on according to the time elapsed, applying it to `data` at the end.
    pub fn advance(&mut self, now: Instant, latency: Duration, data: &mut Data) {
        if !self.is_pending() {
            return;
        }
        let elapsed = now.saturating_duration_since(self.created);
        if elapsed >= latency {
            if let Some(state) = &self.end_as {
                // The job as a whole failed: no rows, the progress where it stopped.
                self.status.status = state.clone();
                self.status.progress = Some(self.status.progress.unwrap_or(0));
                self.status.message = Some(format!("{state}: simulated by the sandbox"));
                self.status.results = None;
                return;
            }
            let rows = self.run(data);
            let total = self.op.len() as u64;
            self.status.status = "completed".to_owned();
            self.status.progress = Some(total);
            self.status.message = Some(completed_message());
            self.status.results = match (&self.op, self.quirks.destroy_many_results) {
                (JobOp::DestroyOrgs(_), DestroyManyResults::SuccessObject) => {
                    let mut one = serde_json::Map::new();
                    one.insert("success".to_owned(), serde_json::Value::Bool(true));
                    Some(JobResults::Object(one))
                }
                (JobOp::DestroyOrgs(_), DestroyManyResults::NoRows) => {
                    Some(JobResults::Rows(Vec::new()))
                }
                (JobOp::DestroyOrgs(_), DestroyManyResults::Null) => None,
                _ => Some(JobResults::Rows(rows)),
            };
        } else if elapsed >= latency / 2 {
            let total = self.op.len() as u64;
            let n = (total / 2).max(1).min(total);
            self.status.status = "working".to_owned();
            self.status.progress = Some(n);
            self.status.message = Some(self.op.working_message(n));
        }
    }

    fn run(&self, data: &mut Data) -> Vec<JobRow> {
        let forced = |i: usize| self.forced_failures.contains(&i);
        match &self.op {
            JobOp::CreateOrgs(items) => items
                .iter()
                .enumerate()
                .map(|(i, input)| {
                    if forced(i) {
                        return with_failed_status(failed(
                            i,
                            None,
                            "OrganizationCreateFailed",
                            FORCED,
                        ));
                    }
                    match data.create_org(input) {
                        Ok(id) => JobRow {
                            status: Some("Created".into()),
                            id: Some(id),
                            ..JobRow::default()
                        },
                        Err(e) => with_failed_status(invalid_row(i, None, &e)),
                    }
                })
                .collect(),
            JobOp::UpdateOrgs(items) => items
                .iter()
                .enumerate()
                .map(|(i, (id, input))| {
                    let Some(id) = id else {
                        return failed(i, None, "RecordNotFound", "Not found");
                    };
                    if forced(i) {
                        return failed(i, Some(*id), "OrganizationUpdateFailed", FORCED);
                    }
                    match data.update_org(*id, input) {
                        None => failed(i, Some(*id), "RecordNotFound", "Not found"),
                        Some(Ok(())) => updated(*id),
                        // The real row: {"index","error":"OrganizationUpdateFailed","id","details"}.
                        Some(Err(e)) => {
                            failed(i, Some(*id), "OrganizationUpdateFailed", &e.description)
                        }
                    }
                })
                .collect(),
            JobOp::DestroyOrgs(ids) => ids
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    if forced(i) {
                        return failed(i, Some(*id), "OrganizationDeleteFailed", FORCED);
                    }
                    if data.remove_org(*id).is_some() {
                        JobRow {
                            id: Some(*id),
                            action: Some("delete".into()),
                            success: Some(true),
                            status: Some("Deleted".into()),
                            ..JobRow::default()
                        }
                    } else {
                        failed(i, Some(*id), "RecordNotFound", "Not found")
                    }
                })
                .collect(),
            JobOp::CreateUsers(items) => items
                .iter()
                .enumerate()
                .map(|(i, input)| {
                    if forced(i) {
                        return with_failed_status(failed(i, None, "UserCreateFailed", FORCED));
                    }
                    match data.create_user(input) {
                        Ok(id) => JobRow {
                            id: Some(id),
                            status: Some("Created".into()),
                            ..JobRow::default()
                        },
                        Err(e)
                            if e.code == Some("DuplicateValue")
                                && self.quirks.duplicate_email_row
                                    == DuplicateEmailRow::AlreadyTaken =>
                        {
                            let email = input
                                .email
                                .as_deref()
                                .map(|e| e.trim().to_lowercase())
                                .unwrap_or_default();
                            with_failed_status(failed(
                                i,
                                None,
                                "RecordInvalid",
                                &format!("Email: {email} has already been taken"),
                            ))
                        }
                        Err(e) => with_failed_status(invalid_row(i, None, &e)),
                    }
                })
                .collect(),
            JobOp::UpdateUsers(items) => items
                .iter()
                .enumerate()
                .map(|(i, (id, input))| {
                    let Some(id) = id else {
                        return failed(i, None, "RecordNotFound", "Not found");
                    };
                    if forced(i) {
                        return failed(i, Some(*id), "UserUpdateError", FORCED);
                    }
                    match data.update_user(*id, input) {
                        None => failed(i, Some(*id), "RecordNotFound", "Not found"),
                        Some(Ok(())) => updated(*id),
                        Some(Err(e)) => failed(i, Some(*id), "UserUpdateError", &e.description),
                    }
                })
                .collect(),
            JobOp::CreateOrUpdateUsers(items) => items
                .iter()
                .enumerate()
                .map(|(i, input)| create_or_update_row(data, i, input, forced(i)))
                .collect(),
        }
    }
}

/// A create_or_update_many row: `{id, status: Created|Updated, email}`; failures carry a
/// junk id (here the row's 1-based position), as the real API does (§5.6).
fn create_or_update_row(data: &mut Data, i: usize, input: &UserInput, forced: bool) -> JobRow {
    let junk = Some(i as u64 + 1);
    let fail = |details: &str| JobRow {
        id: junk,
        error: Some("UserUpdateError".into()),
        details: Some(details.to_owned()),
        status: Some("Failed".into()),
        ..JobRow::default()
    };
    if forced {
        return fail(FORCED);
    }
    let email = input.email.as_deref().map(|e| e.trim().to_lowercase());
    let existing = email
        .as_deref()
        .and_then(|e| data.user_by_email(e))
        .or_else(|| {
            let ext = input.external_id.as_deref()?.to_lowercase();
            data.users
                .values()
                .find(|u| u.external_id.as_deref().map(str::to_lowercase) == Some(ext.clone()))
        })
        .map(|u| u.id);
    let result = match existing {
        Some(id) => data
            .update_user(id, input)
            .unwrap_or(Ok(()))
            .map(|()| (id, "Updated")),
        None => data.create_user(input).map(|id| (id, "Created")),
    };
    match result {
        Ok((id, status)) => JobRow {
            id: Some(id),
            status: Some(status.into()),
            email,
            ..JobRow::default()
        },
        Err(e) => fail(&e.description),
    }
}

fn updated(id: u64) -> JobRow {
    JobRow {
        action: Some("update".into()),
        id: Some(id),
        status: Some("Updated".into()),
        success: Some(true),
        ..JobRow::default()
    }
}

fn failed(index: usize, id: Option<u64>, error: &str, details: &str) -> JobRow {
    JobRow {
        index: Some(index),
        id,
        error: Some(error.to_owned()),
        details: Some(details.to_owned()),
        ..JobRow::default()
    }
}

fn with_failed_status(mut row: JobRow) -> JobRow {
    row.status = Some("Failed".into());
    row
}

fn invalid_row(index: usize, id: Option<u64>, e: &Invalid) -> JobRow {
    failed(index, id, e.code.unwrap_or("RecordInvalid"), &e.description)
}

fn completed_message() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "Completed at {:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
