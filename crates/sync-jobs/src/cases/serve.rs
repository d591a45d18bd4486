//! `serve`: the Zendesk trigger webhook receiver (axum). `POST /webhooks/zendesk`
//! checks `X-Zendesk-Webhook-Signature` (base64 HMAC-SHA256 of the timestamp header +
//! the raw body, secret from `ZD_WEBHOOK_SECRET`, at most 5 minutes old) before reading
//! the body: missing, wrong or stale → 401 and nothing done; a malformed body → 400;
//! else 202 at once and the event is queued. `/healthz` answers `ok`; `/metrics` the
//! counters in the Prometheus text format. SIGTERM or Ctrl-C stops taking deliveries
//! and finishes the events in hand.

mod metrics;
mod queue;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use crate::cases::CasesJob;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sync_core::cases::parse_webhook_body;
use sync_core::Report;
use time::OffsetDateTime;
use zendesk_client::webhook::{verify, DEFAULT_MAX_AGE, SIGNATURE_HEADER, TIMESTAMP_HEADER};

use crate::cases::args::ServeArgs;
use crate::Error;
use metrics::{Metrics, Rejection};
use queue::{Dispatcher, Retry};

struct App {
    secret: SecretString,
    metrics: Arc<Metrics>,
    dispatcher: Dispatcher,
}

/// The receiver's routes.
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/webhooks/zendesk", post(webhook))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics_text))
        .with_state(app)
}

/// Runs the receiver until SIGTERM or Ctrl-C, then returns the session's report.
pub async fn serve(
    job: CasesJob,
    args: &ServeArgs,
    secret: SecretString,
    report: Report,
) -> Result<Report, Error> {
    // A port that cannot be bound is a configuration error (exit 2), found before any
    // request to the APIs: another process holds it, or the address is not ours.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {}: {e}", args.listen)))?;
    let local = listener
        .local_addr()
        .map_err(Error::io("no local address"))?;
    {
        // The first stdout line, so a caller that asked for port 0 learns the port.
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", json!({ "listen": local.to_string() }))
            .and_then(|()| out.flush())
            .map_err(Error::io("cannot print the listen address"))?;
    }
    let metrics = Arc::new(Metrics::default());
    let retry = Retry {
        max_attempts: args.max_attempts,
        first_delay: Duration::from_millis(args.retry_delay_ms),
    };
    let dispatcher = Dispatcher::new(
        queue::job_handler(Arc::new(job)),
        usize::from(args.concurrency),
        retry,
        Arc::clone(&metrics),
        report,
    );
    let app = Arc::new(App {
        secret,
        metrics,
        dispatcher: dispatcher.clone(),
    });
    tracing::info!(listen = %local, "webhook receiver ready at POST /webhooks/zendesk");
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(Error::io("the webhook server stopped"))?;
    tracing::info!("shutting down: finishing the events in hand");
    Ok(dispatcher.finish().await)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

fn refuse(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(e) = verify(
        app.secret.expose_secret(),
        header(SIGNATURE_HEADER),
        header(TIMESTAMP_HEADER),
        &body,
        OffsetDateTime::now_utc(),
        DEFAULT_MAX_AGE,
    ) {
        tracing::warn!(error = %e, "webhook refused");
        app.metrics.rejected(Rejection::Signature);
        return refuse(StatusCode::UNAUTHORIZED, e.to_string());
    }
    let payload = match parse_webhook_body(&body) {
        Ok(p) => p,
        Err(message) => {
            tracing::warn!(%message, "webhook body refused");
            app.metrics.rejected(Rejection::Body);
            return refuse(StatusCode::BAD_REQUEST, message);
        }
    };
    match app.dispatcher.submit(payload) {
        Ok(()) => {
            app.metrics.received(payload.event);
            tracing::info!(ticket_id = payload.ticket_id, event = %payload.event, "webhook accepted");
            (
                StatusCode::ACCEPTED,
                Json(json!({ "accepted": true, "ticket_id": payload.ticket_id, "event": payload.event })),
            )
                .into_response()
        }
        Err(queue::Busy) => {
            app.metrics.rejected(Rejection::Busy);
            let mut resp = refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "more than {} events waiting; retry later",
                    queue::MAX_PENDING
                ),
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
            resp
        }
    }
}

async fn metrics_text(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}
