//! Bulk jobs (reference §6): a bulk call answers `200 {"job_status": queued}`; handles are
//! polled together with `job_statuses/show_many?ids=` (≤100 ids a call) with backoff, and
//! each finished job becomes one outcome per submitted item, matched by index — the `id`
//! on a failed row can be junk. At most the job limit of jobs are queued at once: each
//! handle holds a slot of a semaphore, released when its job finishes.

use crate::client::{Client, Request};
use crate::ids::{join_ids, JobId};
use crate::wire_enum::wire_enum;
use crate::{Error, Result};
use reqwest::Method;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;

/// Items one bulk call takes; more is refused before sending ([`Error::TooManyItems`]).
pub const MAX_ITEMS_PER_JOB: usize = 100;

wire_enum!(
    /// A job's state.
    JobState {
        /// Waiting to run.
        Queued => "queued",
        /// Running.
        Working => "working",
        /// Finished; rows may still have failed.
        Completed => "completed",
        /// The job as a whole failed.
        Failed => "failed",
        /// Killed (older docs).
        Killed => "killed",
    }
);

impl JobState {
    /// Whether the job will not change any more. Unknown states count as finished, so a
    /// new value cannot make a run poll forever (the reference: "terminal-unknown").
    pub fn is_finished(&self) -> bool {
        !matches!(self, JobState::Queued | JobState::Working)
    }
}

/// A job status as Zendesk reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JobStatus {
    /// The job id.
    pub id: JobId,
    /// The poll URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Number of tasks (read leniently: a non-number is `None`).
    #[serde(default, deserialize_with = "lenient_number")]
    pub total: Option<u64>,
    /// Tasks done; null while queued (read leniently).
    #[serde(default, deserialize_with = "lenient_number")]
    pub progress: Option<u64>,
    /// The state.
    pub status: JobState,
    /// E.g. `Completed at 2023-09-18 23:37:03 +0000`.
    #[serde(default, deserialize_with = "lenient_text")]
    pub message: Option<String>,
    /// Per-item rows once finished.
    #[serde(default)]
    pub results: JobResults,
}

/// `results`: rows, an object (e.g. `{"success": true}`), null, or anything else. The
/// shapes of finished jobs are partly [UNCONFIRMED] (a `destroy_many`'s rows), so decoding
/// never fails on them: what is not a list of rows is kept as is, and the items of such a
/// job are [`ItemOutcome::Unknown`] — the caller confirms them by reading back.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(untagged)]
pub enum JobResults {
    /// Per-item rows.
    Rows(Vec<JobRow>),
    /// An object summary, e.g. `{"success": true}`: says nothing per item.
    Object(serde_json::Map<String, serde_json::Value>),
    /// Nothing yet.
    #[default]
    None,
    /// Any other value (a list holding non-objects, a bare `true` …).
    Unrecognised(serde_json::Value),
}

impl JobResults {
    /// The rows, when `results` is a list of rows.
    pub fn rows(&self) -> Option<&[JobRow]> {
        match self {
            JobResults::Rows(rows) => Some(rows),
            JobResults::Object(_) | JobResults::None | JobResults::Unrecognised(_) => None,
        }
    }
}

/// One result row; every field optional since shapes differ per resource (§6.2).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JobRow {
    /// Position in the request, when Zendesk sends it (failed rows, ticket creates).
    #[serde(default, deserialize_with = "lenient_number")]
    pub index: Option<usize>,
    /// The record id; junk on failed rows (read leniently: a non-number is `None`).
    #[serde(default, deserialize_with = "lenient_number")]
    pub id: Option<u64>,
    /// `Created`, `Updated`, `Deleted`, `Failed`, … (a non-string is kept as its JSON text).
    #[serde(default, deserialize_with = "lenient_text")]
    pub status: Option<String>,
    /// E.g. `update`.
    #[serde(default, deserialize_with = "lenient_text")]
    pub action: Option<String>,
    /// `true` on update rows (`"true"`/`"false"` strings are read too; anything else is
    /// `None`).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub success: Option<bool>,
    /// The failure code, e.g. `OrganizationUpdateFailed` (a non-string, e.g. an object, is
    /// kept as its JSON text: it still marks a failure).
    #[serde(default, deserialize_with = "lenient_text")]
    pub error: Option<String>,
    /// The failure message, usually a string.
    #[serde(default)]
    pub details: Option<serde_json::Value>,
    /// The email, on `create_or_update_many` user rows.
    #[serde(default, deserialize_with = "lenient_text")]
    pub email: Option<String>,
}

/// Reads a string; `null` is `None`; any other value is kept as its JSON text.
fn lenient_text<'de, D>(d: D) -> std::result::Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

/// Reads a bool, or `"true"`/`"false"`; anything else is `None`.
fn lenient_bool<'de, D>(d: D) -> std::result::Result<Option<bool>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(serde_json::Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// What a row says of its item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowVerdict {
    /// Applied: a success status (`Created`, `Updated`, `Deleted`, `Unchanged`,
    /// `Completed`), `success: true`, or a bare `{id, index?}` create row.
    Succeeded,
    /// Refused: an `error`, `success: false`, or status `Failed`/`Error`.
    Failed,
    /// Nothing recognisable (an unknown status string, an empty row): read it back.
    Unrecognised,
}

/// Reads a number, or a string holding one; anything else is `None`, so one odd row
/// cannot make a whole job status unreadable.
fn lenient_number<'de, D, N>(d: D) -> std::result::Result<Option<N>, D::Error>
where
    D: serde::Deserializer<'de>,
    N: std::str::FromStr + serde::Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw<N> {
        Number(N),
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Raw::<N>::deserialize(d)? {
        Raw::Number(n) => Some(n),
        Raw::Text(s) => s.trim().parse().ok(),
        Raw::Other(_) => None,
    })
}

impl JobRow {
    /// What the row says: a failure mark wins (`error`, `success: false`, status
    /// `Failed`/`Error`, any case); then a success mark (`success: true`, a known success
    /// status, or no status at all but an `id`); an unknown status string or an empty row
    /// is [`RowVerdict::Unrecognised`], never taken for a success.
    pub fn verdict(&self) -> RowVerdict {
        let status = self
            .status
            .as_deref()
            .map(|s| s.trim().to_ascii_lowercase());
        if self.error.is_some()
            || self.success == Some(false)
            || matches!(status.as_deref(), Some("failed" | "error"))
        {
            return RowVerdict::Failed;
        }
        if self.success == Some(true) {
            return RowVerdict::Succeeded;
        }
        match status.as_deref() {
            Some("created" | "updated" | "deleted" | "unchanged" | "completed" | "success") => {
                RowVerdict::Succeeded
            }
            Some(_) => RowVerdict::Unrecognised,
            None if self.id.is_some() => RowVerdict::Succeeded,
            None => RowVerdict::Unrecognised,
        }
    }

    /// Whether the row says its item was applied ([`RowVerdict::Succeeded`]). An unknown
    /// status string is not a success (it was, before rows were read this strictly).
    pub fn succeeded(&self) -> bool {
        self.verdict() == RowVerdict::Succeeded
    }

    fn into_outcome(self) -> ItemOutcome {
        match self.verdict() {
            RowVerdict::Succeeded => {
                return ItemOutcome::Succeeded {
                    id: self.id,
                    status: self.status,
                }
            }
            RowVerdict::Unrecognised => {
                return ItemOutcome::Unknown {
                    reason: format!(
                        "unrecognised job row (status {:?}); read the record back",
                        self.status
                    ),
                }
            }
            RowVerdict::Failed => {}
        }
        {
            let message = match self.details {
                Some(serde_json::Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => String::new(),
            };
            ItemOutcome::Failed {
                code: self
                    .error
                    .or(self.status)
                    .unwrap_or_else(|| "Failed".into()),
                message,
            }
        }
    }
}

/// What became of one submitted item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Applied; `id` is the record's id (the created one, for creates).
    Succeeded {
        /// The record id.
        id: Option<u64>,
        /// The row's status, e.g. `Created`.
        status: Option<String>,
    },
    /// Refused, with Zendesk's code and message.
    Failed {
        /// E.g. `OrganizationUpdateFailed`, `UserUpdateError`, or the job's state
        /// (`failed`, `killed`) when the whole job failed.
        code: String,
        /// Zendesk's message.
        message: String,
    },
    /// No row for this item (job failed to report, expired, or timed out): re-read the
    /// record before acting again.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl ItemOutcome {
    /// Whether the item was applied.
    pub fn is_success(&self) -> bool {
        matches!(self, ItemOutcome::Succeeded { .. })
    }
}

/// A finished job: its last status and one outcome per submitted item, in request order.
#[derive(Debug, Clone, PartialEq)]
pub struct JobReport {
    /// The job id.
    pub id: JobId,
    /// The final state.
    pub state: JobState,
    /// The final message.
    pub message: Option<String>,
    /// `outcomes[i]` is the fate of the `i`-th submitted item.
    pub outcomes: Vec<ItemOutcome>,
}

/// Turns a finished job's status into per-item outcomes for `submitted` items.
///
/// Rows are matched by their `index` when they carry one, else by position — but only
/// when the rows without `index` can be matched one to one (as many rows as items), so a
/// single summary row (`[{"success": true}]` for three deletions) is not taken as the
/// first item's outcome. What no row proves is [`ItemOutcome::Unknown`].
fn outcomes(status: &JobStatus, submitted: usize) -> Vec<ItemOutcome> {
    let mut out: Vec<Option<ItemOutcome>> = vec![None; submitted];
    let mut unmatched_reason = format!("job {} reported no row for this item", status.id);
    match (&status.status, &status.results) {
        (JobState::Completed, JobResults::Rows(rows)) => {
            let positional = rows.len() == submitted;
            for (pos, row) in rows.iter().enumerate() {
                let idx = match row.index {
                    Some(i) => i,
                    None if positional => pos,
                    None => {
                        tracing::warn!(job = %status.id, pos, rows = rows.len(), submitted, "job row without index cannot be matched to an item");
                        continue;
                    }
                };
                match out.get_mut(idx) {
                    Some(slot @ None) => *slot = Some(row.clone().into_outcome()),
                    _ => tracing::warn!(job = %status.id, pos, idx, "job row matches no item"),
                }
            }
            if !positional {
                unmatched_reason = format!(
                    "job {} reported {} rows for {submitted} items; this one could not be matched",
                    status.id,
                    rows.len()
                );
            }
        }
        (JobState::Completed, other) => {
            unmatched_reason = format!(
                "job {} finished with unrecognised results ({}); read the records back",
                status.id,
                crate::decode::truncate(&results_text(other))
            );
        }
        (JobState::Other(state), _) => {
            let reason = format!("job {} ended in unknown state {state:?}", status.id);
            return vec![ItemOutcome::Unknown { reason }; submitted];
        }
        (state, _) => {
            let code = state.as_str().to_owned();
            let message = status
                .message
                .clone()
                .unwrap_or_else(|| format!("job {}", status.status));
            return vec![ItemOutcome::Failed { code, message }; submitted];
        }
    }
    out.into_iter()
        .map(|o| {
            o.unwrap_or_else(|| ItemOutcome::Unknown {
                reason: unmatched_reason.clone(),
            })
        })
        .collect()
}

/// `results` as JSON text, for messages.
fn results_text(results: &JobResults) -> String {
    match results {
        JobResults::Rows(rows) => format!("{} rows", rows.len()),
        JobResults::Object(map) => serde_json::Value::Object(map.clone()).to_string(),
        JobResults::None => "null".to_owned(),
        JobResults::Unrecognised(v) => v.to_string(),
    }
}

/// Puts `report` in slot `i` (every index comes from enumerating the handles).
fn put(reports: &mut [Option<JobReport>], i: usize, report: JobReport) {
    if let Some(slot) = reports.get_mut(i) {
        *slot = Some(report);
    }
}

/// A submitted job: its first status, how many items it carried, and its job slot.
#[derive(Debug)]
pub struct JobHandle {
    /// The status the submit answered (normally `queued`).
    pub status: JobStatus,
    /// Items submitted.
    pub submitted: usize,
    _slot: OwnedSemaphorePermit,
}

impl JobHandle {
    /// The job id.
    pub fn id(&self) -> &JobId {
        &self.status.id
    }
}

#[derive(Deserialize)]
struct OneStatus {
    job_status: JobStatus,
}

#[derive(Deserialize)]
struct ManyStatuses {
    job_statuses: Vec<JobStatus>,
}

/// How jobs are polled: backoff from `initial` doubling to `max`, giving up (outcomes
/// `Unknown`) after `timeout`. Defaults 1 s, 10 s, 30 min.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    /// First wait.
    pub initial: Duration,
    /// Longest wait.
    pub max: Duration,
    /// Longest total wait for a set of jobs.
    pub timeout: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(10),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// The job status handler.
#[derive(Debug, Clone)]
pub struct Jobs {
    client: Client,
}

/// Refuses a batch larger than one job takes.
pub(crate) fn check_batch_len(n: usize) -> Result<()> {
    if n > MAX_ITEMS_PER_JOB {
        return Err(Error::TooManyItems {
            max: MAX_ITEMS_PER_JOB,
            got: n,
        });
    }
    Ok(())
}

/// Sends a bulk request once a job slot is free; the handle keeps the slot.
pub(crate) async fn submit(client: &Client, req: Request, submitted: usize) -> Result<JobHandle> {
    check_batch_len(submitted)?;
    let slot = client
        .job_slots()
        .acquire_owned()
        .await
        .map_err(|_| Error::Config("job slots closed".into()))?;
    let answer = client.execute(req.bulk()).await?;
    let status = answer.decode::<OneStatus>()?.job_status;
    Ok(JobHandle {
        status,
        submitted,
        _slot: slot,
    })
}

impl Jobs {
    pub(crate) fn new(client: Client) -> Self {
        Jobs { client }
    }

    /// One job's status: `GET job_statuses/{id}`.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// let id = zendesk_client::JobId("V3-abc".into());
    /// let status = client.jobs().show(&id).await?;
    /// println!("{}", status.status);
    /// # Ok(()) }
    /// ```
    pub async fn show(&self, id: &JobId) -> Result<JobStatus> {
        let req = Request::get(format!("job_statuses/{id}.json"), "GET job_statuses/{id}");
        Ok(self
            .client
            .execute(req)
            .await?
            .decode::<OneStatus>()?
            .job_status)
    }

    /// Up to 100 jobs' statuses: `GET job_statuses/show_many?ids=`.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// let ids = vec![zendesk_client::JobId("V3-a".into()), zendesk_client::JobId("V3-b".into())];
    /// let statuses = client.jobs().show_many(&ids).await?;
    /// # Ok(()) }
    /// ```
    pub async fn show_many(&self, ids: &[JobId]) -> Result<Vec<JobStatus>> {
        check_batch_len(ids.len())?;
        let req = Request::get("job_statuses/show_many.json", "GET job_statuses/show_many")
            .query("ids", join_ids(ids));
        Ok(self
            .client
            .execute(req)
            .await?
            .decode::<ManyStatuses>()?
            .job_statuses)
    }

    /// Waits for all `handles`, polling them together, and returns one report per handle in
    /// the same order. Each job's slot is released as soon as it finishes. Poll errors are
    /// retried by the client; if polling still fails, or the timeout passes, the unfinished
    /// jobs' items are `Unknown`.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client, handles: Vec<zendesk_client::JobHandle>) {
    /// for report in client.jobs().wait_all(handles).await {
    ///     for (i, outcome) in report.outcomes.iter().enumerate() {
    ///         if !outcome.is_success() {
    ///             println!("item {i} of job {}: {outcome:?}", report.id);
    ///         }
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn wait_all(&self, handles: Vec<JobHandle>) -> Vec<JobReport> {
        let policy = self.client.poll_policy().clone();
        let started = tokio::time::Instant::now();
        let mut reports: Vec<Option<JobReport>> = vec![None; handles.len()];
        let mut pending: Vec<(usize, JobHandle)> = Vec::new();
        for (i, h) in handles.into_iter().enumerate() {
            if h.status.status.is_finished() {
                put(&mut reports, i, report(&h.status, h.submitted));
            } else {
                pending.push((i, h));
            }
        }
        let mut wait = policy.initial;
        let mut missing: HashMap<JobId, u32> = HashMap::new();
        while !pending.is_empty() {
            if started.elapsed() >= policy.timeout {
                for (i, h) in pending.drain(..) {
                    put(
                        &mut reports,
                        i,
                        unknown(&h, "timed out waiting for the job"),
                    );
                }
                break;
            }
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2).min(policy.max);
            let mut still = Vec::new();
            let mut statuses: HashMap<JobId, JobStatus> = HashMap::new();
            let mut failure: Option<String> = None;
            let ids: Vec<JobId> = pending.iter().map(|(_, h)| h.id().clone()).collect();
            for chunk in ids.chunks(MAX_ITEMS_PER_JOB) {
                match self.show_many(chunk).await {
                    Ok(list) => statuses.extend(list.into_iter().map(|s| (s.id.clone(), s))),
                    Err(e) => failure = Some(e.to_string()),
                }
            }
            for (i, h) in pending.drain(..) {
                match statuses.remove(h.id()) {
                    Some(s) if s.status.is_finished() => {
                        put(&mut reports, i, report(&s, h.submitted))
                    }
                    Some(_) => still.push((i, h)),
                    None => {
                        let n = missing.entry(h.id().clone()).or_insert(0);
                        *n = n.saturating_add(1);
                        if *n >= 3 {
                            let why = failure
                                .clone()
                                .unwrap_or_else(|| "job status no longer available".into());
                            put(&mut reports, i, unknown(&h, &why));
                        } else {
                            still.push((i, h));
                        }
                    }
                }
            }
            pending = still;
        }
        reports.into_iter().flatten().collect()
    }
}

fn report(status: &JobStatus, submitted: usize) -> JobReport {
    JobReport {
        id: status.id.clone(),
        state: status.status.clone(),
        message: status.message.clone(),
        outcomes: outcomes(status, submitted),
    }
}

fn unknown(h: &JobHandle, reason: &str) -> JobReport {
    JobReport {
        id: h.id().clone(),
        state: h.status.status.clone(),
        message: Some(reason.to_owned()),
        outcomes: vec![
            ItemOutcome::Unknown {
                reason: format!("job {}: {reason}", h.id())
            };
            h.submitted
        ],
    }
}

/// A bulk write request body `{ "<key>": [items] }`.
pub(crate) fn bulk_request<T: serde::Serialize>(
    method: Method,
    path: &str,
    label: &'static str,
    key: &str,
    items: &[T],
    safety: crate::retry::Safety,
) -> Result<Request> {
    let items = serde_json::to_value(items)
        .map_err(|e| Error::Config(format!("cannot serialize {key}: {e}")))?;
    let mut body = serde_json::Map::new();
    body.insert(key.to_owned(), items);
    Ok(Request::write(method, path, label, safety).json(serde_json::Value::Object(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json: &str) -> JobStatus {
        serde_json::from_str(json).expect("job status")
    }

    #[test]
    fn rows_matched_by_index_then_position() {
        let s = status(
            r#"{"id":"V3-1","status":"completed","results":[
                {"action":"update","id":10,"status":"Updated","success":true},
                {"index":1,"error":"OrganizationUpdateFailed","id":11,"details":"Name: taken"}]}"#,
        );
        let out = outcomes(&s, 2);
        assert_eq!(
            out[0],
            ItemOutcome::Succeeded {
                id: Some(10),
                status: Some("Updated".into())
            }
        );
        assert_eq!(
            out[1],
            ItemOutcome::Failed {
                code: "OrganizationUpdateFailed".into(),
                message: "Name: taken".into()
            }
        );
        // Three items, two rows: the indexed row still counts, the one without index
        // cannot be placed, and the rest is unknown.
        let out = outcomes(&s, 3);
        assert!(
            matches!(out[0], ItemOutcome::Unknown { .. }),
            "{:?}",
            out[0]
        );
        assert!(matches!(out[1], ItemOutcome::Failed { .. }));
        assert!(matches!(out[2], ItemOutcome::Unknown { .. }));
    }

    #[test]
    fn other_plausible_results_shapes_decode_and_stay_unknown() {
        // One summary row for three deletions: not the first item's outcome.
        let s = status(r#"{"id":"V3-6","status":"completed","results":[{"success":true}]}"#);
        assert_eq!(s.results.rows().map(<[JobRow]>::len), Some(1));
        let out = outcomes(&s, 3);
        assert!(
            out.iter().all(|o| matches!(o, ItemOutcome::Unknown { .. })),
            "{out:?}"
        );
        // The same row for one deletion is its outcome.
        assert!(outcomes(&s, 1)[0].is_success());
        // An object, nothing, a bare value, a list of non-rows: all decode, none is a row.
        for results in [
            r#"{"success":true}"#,
            "null",
            "true",
            r#"[1,2,3]"#,
            r#""done""#,
        ] {
            let s = status(&format!(
                r#"{{"id":"V3-7","status":"completed","total":"3","progress":{{}},"results":{results}}}"#
            ));
            assert!(s.results.rows().is_none(), "{results}");
            let out = outcomes(&s, 2);
            assert!(
                out.iter().all(|o| matches!(o, ItemOutcome::Unknown { reason } if reason.contains("unrecognised results"))),
                "{results}: {out:?}"
            );
        }
    }

    #[test]
    fn unknown_row_statuses_are_not_taken_for_success() {
        let s = status(
            r#"{"id":"V3-8","status":"completed","results":[
                {"id":1,"status":"Skipped"},
                {"status":"Deleted"},
                {"id":3,"index":2,"status":"error","details":{"why":"x"}},
                {"success":"false","id":4},
                {},
                {"id":6,"error":{"title":"Bad"}},
                {"id":7,"index":6}]}"#,
        );
        let out = outcomes(&s, 7);
        assert!(
            matches!(out[0], ItemOutcome::Unknown { .. }),
            "{:?}",
            out[0]
        );
        assert!(out[1].is_success());
        assert!(matches!(&out[2], ItemOutcome::Failed { code, .. } if code == "error"));
        assert!(matches!(out[3], ItemOutcome::Failed { .. }));
        assert!(matches!(out[4], ItemOutcome::Unknown { .. }));
        assert!(matches!(&out[5], ItemOutcome::Failed { code, .. } if code.contains("Bad")));
        assert!(out[6].is_success());
    }

    #[test]
    fn failed_job_fails_every_item_and_unknown_state_is_unknown() {
        let s =
            status(r#"{"id":"V3-2","status":"killed","message":"Killed by admin","results":null}"#);
        assert!(s.status.is_finished());
        let out = outcomes(&s, 2);
        assert_eq!(out.len(), 2);
        assert!(out
            .iter()
            .all(|o| matches!(o, ItemOutcome::Failed { code, .. } if code == "killed")));
        let odd = status(r#"{"id":"V3-3","status":"paused"}"#);
        assert_eq!(odd.status, JobState::Other("paused".into()));
        assert!(odd.status.is_finished());
        assert!(outcomes(&odd, 1)
            .iter()
            .all(|o| matches!(o, ItemOutcome::Unknown { .. })));
    }

    #[test]
    fn odd_ids_on_rows_do_not_break_the_status() {
        let s = status(
            r#"{"id":"V3-5","status":"completed","results":[
                {"id":"junk","error":"UserUpdateError","status":"Failed"},
                {"id":-1,"index":"1","status":"Created"}]}"#,
        );
        let JobResults::Rows(rows) = &s.results else {
            panic!("rows expected");
        };
        assert_eq!(rows[0].id, None);
        assert_eq!(rows[1].id, None);
        assert_eq!(rows[1].index, Some(1));
    }

    #[test]
    fn object_results_decode() {
        let s = status(r#"{"id":"V3-4","status":"completed","results":{"success":true}}"#);
        assert!(matches!(s.results, JobResults::Object(_)));
    }
}
