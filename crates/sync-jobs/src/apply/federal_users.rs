//! Applying the US Federal users plan (docs/behaviour.md §6): creates with `users/create_many` and
//! updates with `users/update_many`, 100 users a job, jobs polled together. Where bulk
//! user import is switched off (403 on `create_many`), the remaining creates go one by
//! one through `users/create_or_update` — only emails the full user read showed to
//! have no user — said once in the log and counted.
//!
//! A failed row or a refused call fails only the users it carried; an error that means
//! Zendesk cannot be reached or refuses us (authentication, rate limit, retries
//! exhausted) stops the phase with [`zendesk_client::Error`].

use zendesk_client::{
    Client, Error as ZdError, ItemOutcome, JobHandle, NewUser, Role, UserUpdate, MAX_ITEMS_PER_JOB,
};

use std::collections::BTreeSet;

use super::{error_code, zendesk_stops_run, Stopped, JOB_WINDOW};
use crate::convert::{client_org_id, client_user_id};
use crate::progress::{Progress, Total};
use sync_core::report::{Outcome, Outcomes};
use sync_core::users::UserAction;

/// A user write that did not happen.
#[derive(Debug, Clone, PartialEq)]
pub struct UserFailure {
    /// The write.
    pub action: UserAction,
    /// Zendesk's code (e.g. `UserUpdateError`), or the error kind of a refused call.
    pub code: String,
    /// Zendesk's message.
    pub message: String,
}

/// What became of a user plan's writes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UsersApplied {
    /// Writes applied, in plan order.
    pub done: Vec<UserAction>,
    /// Writes that failed (reported, the run goes on).
    pub failed: Vec<UserFailure>,
    /// Whether `users/create_many` answered 403 and creates went one by one.
    pub bulk_import_disabled: bool,
    /// `users/create_or_update` calls made: the 403 fallback, and creates whose answer
    /// was lost and whose user was still missing when looked up again.
    pub single_create_calls: usize,
    /// Emails of creates whose answer was lost (or refused as a duplicate) and whose
    /// user a second lookup found as wanted.
    pub confirmed: BTreeSet<String>,
    /// Emails of creates not written after all: a second lookup found the user where
    /// the rules leave it (a finding says why).
    pub withdrawn: BTreeSet<String>,
}

impl UsersApplied {
    /// One outcome per write attempted, by email; a planned write without one was not
    /// attempted.
    pub fn outcomes(&self) -> Outcomes {
        let mut out: Outcomes = self
            .failed
            .iter()
            .map(|f| {
                (
                    f.action.email().to_string(),
                    Outcome::failed(f.code.clone(), f.message.clone()),
                )
            })
            .collect();
        out.extend(
            self.withdrawn
                .iter()
                .map(|e| (e.clone(), Outcome::Withdrawn)),
        );
        out.extend(self.done.iter().map(|a| {
            let email = a.email().to_string();
            let outcome = if self.confirmed.contains(&email) {
                Outcome::Confirmed
            } else {
                Outcome::Applied
            };
            (email, outcome)
        }));
        out
    }
}

/// The Zendesk body of a create: an end-user in its org.
fn new_user(action: &UserAction) -> Option<NewUser> {
    match action {
        UserAction::Create {
            name,
            email,
            organization_id,
        } => Some(NewUser {
            name: name.clone(),
            email: Some(email.clone()),
            role: Some(Role::EndUser),
            organization_id: Some(client_org_id(*organization_id)),
            ..NewUser::default()
        }),
        UserAction::Update { .. } => None,
    }
}

/// The Zendesk body of an update: only what changed.
fn user_update(action: &UserAction) -> Option<UserUpdate> {
    match action {
        UserAction::Update {
            user_id,
            name,
            organization_id,
            ..
        } => Some(UserUpdate {
            name: name.clone(),
            organization_id: organization_id.map(client_org_id),
            ..UserUpdate::new(client_user_id(*user_id))
        }),
        UserAction::Create { .. } => None,
    }
}

/// Applies the writes of a user plan. `Err` only when Zendesk cannot be reached or
/// refuses us: the submitting stops, the jobs already submitted are waited for, and
/// [`Stopped`] carries what their results confirm (a write in neither `done` nor
/// `failed` was not applied). Writes already made stay made (the next run re-reads
/// everything).
///
/// A create whose answer was lost (the submit's connection dropped, or its job never
/// reported the row) may or may not have happened: its email is looked up again and
/// only a user still missing is created, with `users/create_or_update`.
pub async fn apply_federal_users(
    client: &Client,
    actions: &[UserAction],
) -> Result<UsersApplied, Stopped<UsersApplied>> {
    let mut out = UsersApplied::default();
    match apply(client, actions, &mut out).await {
        Ok(()) => Ok(out),
        Err(error) => Err(Stopped { done: out, error }),
    }
}

async fn apply(
    client: &Client,
    actions: &[UserAction],
    out: &mut UsersApplied,
) -> Result<(), ZdError> {
    let (creates, updates): (Vec<&UserAction>, Vec<&UserAction>) = actions
        .iter()
        .partition(|a| matches!(a, UserAction::Create { .. }));
    let mut submitted: Vec<(Vec<&UserAction>, JobHandle)> = Vec::new();
    let mut one_by_one: Vec<&UserAction> = Vec::new();
    let mut lost: Vec<&UserAction> = Vec::new();
    let mut stop = None;
    let update_jobs = updates.len().div_ceil(MAX_ITEMS_PER_JOB);
    let mut progress = Progress::jobs(
        "user jobs",
        creates.len().div_ceil(MAX_ITEMS_PER_JOB) + update_jobs,
        client.total_requests(),
    );

    // Bulk creates, until (if ever) Zendesk says bulk import is off.
    let mut batches = creates.chunks(MAX_ITEMS_PER_JOB);
    let mut create_jobs = 0;
    for batch in batches.by_ref() {
        create_jobs += 1;
        let body: Vec<NewUser> = batch.iter().filter_map(|a| new_user(a)).collect();
        let submitted_now = client.users().create_many(body).await;
        progress.advance(0, || client.total_requests());
        match submitted_now {
            Ok(handle) => submitted.push((batch.to_vec(), handle)),
            Err(forbidden @ (ZdError::Forbidden(_) | ZdError::BulkImportDisabled(_))) => {
                // No job: the batch goes one by one (or the run stops).
                progress.set_total(Total::Exact((create_jobs - 1 + update_jobs) as u64));
                // A 403 is bulk import switched off or a missing permission (its body is
                // [UNCONFIRMED]): one single create_or_update tells them apart.
                match probe(client, batch, &forbidden, out).await {
                    Probe::BulkOff {
                        rest,
                        lost: probe_lost,
                    } => {
                        one_by_one.extend(rest);
                        lost.extend(probe_lost);
                    }
                    Probe::Refused(e) => stop = Some(e),
                }
                break;
            }
            Err(ZdError::WriteOutcomeUnknown { message, .. }) => {
                tracing::warn!(users = batch.len(), %message, "answer of users/create_many lost; re-reading");
                lost.extend(batch);
                progress.advance(1, || client.total_requests());
            }
            Err(e) if zendesk_stops_run(&e) => {
                stop = Some(e);
                break;
            }
            Err(e) => {
                fail_all(out, batch, &e);
                progress.advance(1, || client.total_requests());
            }
        }
        if submitted.len() >= JOB_WINDOW {
            let window = std::mem::take(&mut submitted);
            settle(client, window, out, &mut lost, &mut progress).await;
        }
    }
    if stop.is_none() {
        one_by_one.extend(batches.flatten());
        // Bulk updates (idempotent: the client itself repeats a lost one).
        for batch in updates.chunks(MAX_ITEMS_PER_JOB) {
            let body: Vec<UserUpdate> = batch.iter().filter_map(|a| user_update(a)).collect();
            let submitted_now = client.users().update_many(body).await;
            progress.advance(0, || client.total_requests());
            match submitted_now {
                Ok(handle) => submitted.push((batch.to_vec(), handle)),
                Err(e) if zendesk_stops_run(&e) => {
                    stop = Some(e);
                    break;
                }
                Err(e) => {
                    fail_all(out, batch, &e);
                    progress.advance(1, || client.total_requests());
                }
            }
            if submitted.len() >= JOB_WINDOW {
                let window = std::mem::take(&mut submitted);
                settle(client, window, out, &mut lost, &mut progress).await;
            }
        }
    }
    // Submitted jobs run whatever happens next: their results say what was done.
    settle(client, submitted, out, &mut lost, &mut progress).await;
    progress.finish(client.total_requests());
    if let Some(e) = stop {
        // Not re-read: these users may exist, so they are failures, not "not applied".
        out.failed.extend(lost.into_iter().map(|a| {
            UserFailure {
                action: a.clone(),
                code: "OutcomeUnknown".to_string(),
                message: "the create's answer was lost and the run stopped before re-reading; \
                      the next run re-reads the users"
                    .to_string(),
            }
        }));
        return Err(e);
    }

    // Lost answers: re-read, then create only the users still missing.
    for action in lost {
        if exists(client, action.email()).await? {
            out.confirmed.insert(action.email().to_string());
            out.done.push(action.clone());
        } else {
            one_by_one.push(action);
        }
    }
    let mut progress = (!one_by_one.is_empty()).then(|| {
        Progress::jobs(
            "users created one by one",
            one_by_one.len(),
            client.total_requests(),
        )
    });
    for action in one_by_one {
        create_one(client, action, out).await?;
        if let Some(progress) = &mut progress {
            progress.advance(1, || client.total_requests());
        }
    }
    if let Some(progress) = progress {
        progress.finish(client.total_requests());
    }
    if out.single_create_calls > 0 {
        tracing::info!(
            calls = out.single_create_calls,
            "users created one by one with users/create_or_update"
        );
    }
    Ok(())
}

/// What one single `users/create_or_update` said after a 403 on `users/create_many`.
enum Probe<'a> {
    /// It went through (or was refused for its record only): bulk import is off, the
    /// `rest` of the batch goes one by one (`lost`: the probe's own answer was lost).
    BulkOff {
        rest: Vec<&'a UserAction>,
        lost: Option<&'a UserAction>,
    },
    /// Refused too: the credentials may not write users; the run stops (exit 4).
    Refused(ZdError),
}

/// After a 403 on `users/create_many`: one single `users/create_or_update` with the
/// batch's first user. Through → bulk import is off (said once in the log), the batch's
/// first user is done and the rest go one by one; refused as well (403, 401, or
/// anything that stops a run) → that error stops the run. A refusal of the record
/// alone (a 422) still proves single writes go through.
async fn probe<'a>(
    client: &Client,
    batch: &[&'a UserAction],
    forbidden: &ZdError,
    out: &mut UsersApplied,
) -> Probe<'a> {
    let Some((first, rest)) = batch.split_first() else {
        return Probe::BulkOff {
            rest: Vec::new(),
            lost: None,
        };
    };
    let Some(body) = new_user(first) else {
        return Probe::Refused(clone_forbidden(forbidden));
    };
    out.single_create_calls += 1;
    let lost = match client.users().create_or_update(body).await {
        Ok(_) => {
            out.done.push((*first).clone());
            None
        }
        Err(e) if e.status() == Some(403) || zendesk_stops_run(&e) => {
            tracing::error!(
                bulk = %forbidden,
                single = %e,
                "users/create_many and a single users/create_or_update were both refused: \
                 these credentials may not create users"
            );
            return Probe::Refused(e);
        }
        Err(ZdError::WriteOutcomeUnknown { .. }) => Some(*first),
        Err(e) => {
            fail_all(out, &[first], &e);
            None
        }
    };
    tracing::warn!(
        status = forbidden.status(),
        "bulk user import is off on this Zendesk account (403 on users/create_many, a single \
         users/create_or_update went through): creating users one by one"
    );
    out.bulk_import_disabled = true;
    Probe::BulkOff {
        rest: rest.to_vec(),
        lost,
    }
}

/// The 403 itself, when there is nothing to probe with.
fn clone_forbidden(error: &ZdError) -> ZdError {
    match error.api_error() {
        Some(api) => ZdError::Forbidden(Box::new(api.clone())),
        None => ZdError::Config(error.to_string()),
    }
}

/// Whether a user with this email exists now (`users/search`, case-insensitive match).
async fn exists(client: &Client, email: &str) -> Result<bool, ZdError> {
    match client.users().search_by_email(email).await {
        Ok(users) => Ok(users.iter().any(|u| {
            u.email
                .as_deref()
                .is_some_and(|e| e.trim().eq_ignore_ascii_case(email))
        })),
        Err(e) if zendesk_stops_run(&e) => Err(e),
        Err(e) => {
            tracing::warn!(%email, error = %e, "cannot look the user up; create_or_update decides");
            Ok(false)
        }
    }
}

/// The fallback for one user: `users/create_or_update`, for an email that had no user.
async fn create_one(
    client: &Client,
    action: &UserAction,
    out: &mut UsersApplied,
) -> Result<(), ZdError> {
    let Some(body) = new_user(action) else {
        return Ok(());
    };
    let email = action.email();
    out.single_create_calls += 1;
    match client.users().create_or_update(body).await {
        Ok(upserted) => {
            if !upserted.created {
                // A user appeared since the read: create_or_update set its name and org.
                tracing::info!(%email, user = %upserted.user.id, "user already existed; updated instead");
            }
            out.done.push(action.clone());
            Ok(())
        }
        Err(e) if zendesk_stops_run(&e) => Err(e),
        Err(e) => {
            fail_all(out, &[action], &e);
            Ok(())
        }
    }
}

fn is_create(action: &UserAction) -> bool {
    matches!(action, UserAction::Create { .. })
}

/// Every write of a refused call fails with the call's error.
fn fail_all(out: &mut UsersApplied, batch: &[&UserAction], error: &ZdError) {
    tracing::warn!(users = batch.len(), error = %error, "user write refused");
    out.failed.extend(batch.iter().map(|a| UserFailure {
        action: (*a).clone(),
        code: error_code(error),
        message: error.to_string(),
    }));
}

/// Waits for submitted jobs (polled together, `progress` told meanwhile and after) and
/// sorts each item into done or failed.
async fn settle<'a>(
    client: &Client,
    submitted: Vec<(Vec<&'a UserAction>, JobHandle)>,
    out: &mut UsersApplied,
    lost: &mut Vec<&'a UserAction>,
    progress: &mut Progress,
) {
    if submitted.is_empty() {
        return;
    }
    let (batches, handles): (Vec<_>, Vec<_>) = submitted.into_iter().unzip();
    let running = format!("{} jobs running", handles.len());
    let reports = progress
        .waiting(
            &running,
            || client.total_requests(),
            client.jobs().wait_all(handles),
        )
        .await;
    progress.advance(reports.len() as u64, || client.total_requests());
    for (batch, report) in batches.into_iter().zip(reports) {
        for (i, action) in batch.into_iter().enumerate() {
            match report.outcomes.get(i) {
                Some(ItemOutcome::Succeeded { .. }) => out.done.push(action.clone()),
                Some(ItemOutcome::Failed { code, message }) => out.failed.push(UserFailure {
                    action: action.clone(),
                    code: code.clone(),
                    message: message.clone(),
                }),
                Some(ItemOutcome::Unknown { reason }) if is_create(action) => {
                    tracing::warn!(email = action.email(), %reason, "create outcome unknown; re-reading");
                    lost.push(action);
                }
                Some(ItemOutcome::Unknown { reason }) => out.failed.push(UserFailure {
                    action: action.clone(),
                    code: "OutcomeUnknown".to_string(),
                    message: format!("{reason}; the next run re-reads the user"),
                }),
                None if is_create(action) => lost.push(action),
                None => out.failed.push(UserFailure {
                    action: action.clone(),
                    code: "OutcomeUnknown".to_string(),
                    message: format!("job {} has no outcome for this user", report.id),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::{ZendeskOrgId, ZendeskUserId};

    fn api(status: u16) -> Box<zendesk_client::ApiError> {
        Box::new(zendesk_client::ApiError {
            status,
            method: "POST".into(),
            url: "http://127.0.0.1/api/v2/users/create_many.json".into(),
            request_id: None,
            code: None,
            message: "refused".into(),
            field_errors: Vec::new(),
            body: String::new(),
        })
    }

    #[test]
    fn unreachable_or_refusing_zendesk_is_fatal_a_refused_record_is_not() {
        assert!(zendesk_stops_run(&ZdError::Unauthorized(api(401))));
        assert!(zendesk_stops_run(&ZdError::Forbidden(api(403))));
        assert!(zendesk_stops_run(&ZdError::Api(api(502))));
        assert!(zendesk_stops_run(&ZdError::RateLimited {
            method: "PUT".into(),
            url: "u".into(),
            retry_after: None,
            attempts: 6,
        }));
        assert!(!zendesk_stops_run(&ZdError::Api(api(422))));
        assert!(!zendesk_stops_run(&ZdError::DuplicateValue(api(422))));
        assert!(!zendesk_stops_run(&ZdError::WriteOutcomeUnknown {
            method: "POST".into(),
            url: "u".into(),
            message: "connection reset".into(),
        }));
    }

    #[test]
    fn bodies_are_an_end_user_in_its_org_and_only_what_changed() {
        let create = UserAction::Create {
            name: "Grace Green".into(),
            email: "grace.green@tests.gov".into(),
            organization_id: ZendeskOrgId(7),
        };
        let body = serde_json::to_value(new_user(&create)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"name": "Grace Green", "email": "grace.green@tests.gov",
                               "role": "end-user", "organization_id": 7})
        );
        assert!(user_update(&create).is_none());
        let update = UserAction::Update {
            user_id: ZendeskUserId(4),
            email: "bob.baker@examples.gov".into(),
            name: None,
            organization_id: Some(ZendeskOrgId(9)),
        };
        let body = serde_json::to_value(user_update(&update)).unwrap();
        assert_eq!(body, serde_json::json!({"id": 4, "organization_id": 9}));
        assert!(new_user(&update).is_none());
    }

    #[test]
    fn a_refused_call_fails_each_of_its_users_with_the_error() {
        let a = UserAction::Create {
            name: "A".into(),
            email: "a@x.gov".into(),
            organization_id: ZendeskOrgId(1),
        };
        let mut out = UsersApplied::default();
        fail_all(&mut out, &[&a], &ZdError::DuplicateValue(api(422)));
        assert_eq!(out.failed.len(), 1);
        assert_eq!(out.failed[0].code, "DuplicateValue");
        assert!(
            out.failed[0].message.contains("refused"),
            "{:?}",
            out.failed
        );
        assert!(out.done.is_empty());
    }
}
