//! Switches for the shapes the reference marks [UNCONFIRMED] (docs/behaviour.md §9): by default the
//! simulated Zendesk answers with its first reading of the reference; each switch makes
//! it answer the other plausible way, so a job can be run against both. Set at start
//! (`SandboxConfig::zendesk_quirks`, `zd-sfdc-sandbox serve` flags) or at run time
//! (`GET`/`PUT /__admin/zendesk/quirks`, [`crate::Admin::set_zendesk_quirks`]).

use serde::{Deserialize, Serialize};

/// All the switches; `Default` is the sandbox's usual behaviour. In JSON every key may
/// be left out (it then takes its default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quirks {
    /// What a finished `organizations/destroy_many` job holds in `results`.
    pub destroy_many_results: DestroyManyResults,
    /// The row of a duplicate email in `users/create_many`.
    pub duplicate_email_row: DuplicateEmailRow,
    /// The answer to a bulk write past the job limit.
    pub job_limit_answer: JobLimitAnswer,
    /// When user writes answer 403, and with which body.
    pub user_403: User403,
}

/// `results` of a completed `destroy_many` job (§4.10: the row shape is unconfirmed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum DestroyManyResults {
    /// One row per org: `{"id","action":"delete","success":true,"status":"Deleted"}`
    /// (failed rows for ids not found).
    #[default]
    PerOrg,
    /// One object for the whole job: `{"success": true}` (as permanent ticket deletion
    /// answers, §6.1), whether or not every org was found.
    SuccessObject,
    /// An empty list: `[]`.
    NoRows,
    /// `results: null` on the completed job.
    Null,
}

/// A duplicate email's row in `users/create_many` (§5.4: unconfirmed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateEmailRow {
    /// `{"index","status":"Failed","error":"DuplicateValue","details":"Email: x is
    /// already being used by another user"}` (the wording of the single create's 422).
    #[default]
    DuplicateValue,
    /// `{"index","status":"Failed","error":"RecordInvalid","details":"Email: x has
    /// already been taken"}`: neither the code nor the words of the default.
    AlreadyTaken,
}

/// The answer to a bulk write when `job_limit` jobs are queued or running (§6.5:
/// unconfirmed). Nothing is queued in every case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum JobLimitAnswer {
    /// 429 `{"error":"TooManyJobs","description":…}` with `Retry-After` (1–10 s).
    #[default]
    TooManyJobs,
    /// The same 429 and body, without `Retry-After`.
    NoRetryAfter,
    /// 429 `{"errors":[{"code":"TooManyRequests","title":…}]}`, no `Retry-After`.
    ErrorsEnvelope,
    /// 503 with a plain-text body, no `Retry-After`.
    Unavailable,
}

/// When user writes are refused with 403 (§5.4: the body is unconfirmed, and a 403 may
/// also mean the credentials lack the permission).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum User403 {
    /// Bulk user creates answer 403 `{"error":"Forbidden","message":"Data imports are
    /// not enabled"}` only when `bulk_user_create_disabled` is set.
    #[default]
    Default,
    /// Bulk import is off with another body: `users/create_many` and
    /// `users/create_or_update_many` answer 403 with [`FORBIDDEN_BODY`]; single writes
    /// go through.
    BulkOtherBody,
    /// The credentials may not write users: every user write (bulk, `users/create_or_update`,
    /// `POST /users`, `PUT`/`DELETE /users/{id}`, `update_many`) answers 403 with
    /// [`FORBIDDEN_BODY`].
    NoPermission,
}

/// Zendesk's generic 403 body.
pub const FORBIDDEN_BODY: &str = r#"{"error":"Forbidden","description":"You do not have access to this page. Please contact the account owner of this help desk for further help."}"#;
