//! `serve`: the Zendesk trigger webhook receiver. `POST /webhooks/zendesk` reads the
//! body (at most `--max-body-bytes`, 413 above, refused on its `Content-Length` before
//! any of it is read; the whole body within `--body-timeout-secs`, else 408), then checks
//! `X-Zendesk-Webhook-Signature` (base64 HMAC-SHA256 of the timestamp header + the raw
//! body, secret from `ZD_WEBHOOK_SECRET`, at most 5 minutes old): missing, wrong or
//! stale → 401 and nothing done; a malformed body → 400; more than `--max-pending`
//! events held → 503 with `Retry-After`; else 202 at once and the event is queued.
//! `/healthz` answers `ok` (503 once a worker task died); `/metrics` the counters in the
//! Prometheus text format. SIGTERM or Ctrl-C stops taking deliveries and finishes the
//! events in hand.
//!
//! Connections are served by hyper (HTTP/1.1) from an accept loop of our own, so that
//! slow clients cannot hold the receiver: at most `--max-connections` are open (more
//! wait unaccepted in the listen backlog, holding no file descriptor of ours), and a
//! connection whose request headers have not all arrived within
//! `--header-timeout-secs` (an idle kept-alive one included) is closed.

mod metrics;
mod queue;

use std::future::Future;
use std::io::Write as _;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use crate::cases::CasesJob;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sync_core::cases::parse_webhook_body;
use sync_core::report::CasesReportBuilder;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;
use zendesk_client::webhook::{verify, DEFAULT_MAX_AGE, SIGNATURE_HEADER, TIMESTAMP_HEADER};

use crate::cases::args::ServeArgs;
use crate::Error;
pub use metrics::{Metrics, Rejection};
pub use queue::{job_handler, Dispatcher, Handler};

/// `Retry-After` of a 503 when the queue is full, in seconds.
pub const BUSY_RETRY_AFTER_SECS: u64 = 30;
/// Largest read buffer of one connection (request line and headers must fit).
const MAX_BUF: usize = 64 * 1024;

/// What slow or greedy clients are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Time to send a request's headers (and the longest idle keep-alive).
    pub header_timeout: Duration,
    /// Time to send a request's whole body.
    pub body_timeout: Duration,
    /// Largest body.
    pub max_body_bytes: usize,
}

impl Limits {
    /// The limits of `serve`'s flags.
    pub fn from_args(args: &ServeArgs) -> Limits {
        Limits {
            max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
            header_timeout: Duration::from_secs(args.header_timeout_secs),
            body_timeout: Duration::from_secs(args.body_timeout_secs),
            max_body_bytes: usize::try_from(args.max_body_bytes).unwrap_or(usize::MAX),
        }
    }
}

/// The receiver's shared state.
pub struct App {
    /// The webhook signing secret.
    pub secret: SecretString,
    /// The counters of `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Where accepted events go.
    pub dispatcher: Dispatcher,
    /// What clients are allowed.
    pub limits: Limits,
}

/// The receiver's routes.
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/webhooks/zendesk", post(webhook))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .with_state(app)
}

/// Runs the receiver until SIGTERM or Ctrl-C, then returns the session's report builder,
/// every finished event's outcomes in it.
pub async fn serve(
    job: CasesJob,
    args: &ServeArgs,
    secret: SecretString,
    report: CasesReportBuilder,
) -> Result<CasesReportBuilder, Error> {
    // A port that cannot be bound is a configuration error (exit 2), found before any
    // request to the APIs: another process holds it, or the address is not ours.
    let listener = TcpListener::bind(args.listen)
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
    let dispatcher = Dispatcher::new(
        job_handler(Arc::new(job)),
        usize::from(args.concurrency),
        usize::try_from(args.max_pending).unwrap_or(usize::MAX),
        Arc::clone(&metrics),
        report,
    );
    let limits = Limits::from_args(args);
    let app = Arc::new(App {
        secret,
        metrics,
        dispatcher: dispatcher.clone(),
        limits,
    });
    tracing::info!(
        listen = %local,
        max_connections = limits.max_connections,
        header_timeout = ?limits.header_timeout,
        body_timeout = ?limits.body_timeout,
        max_body_bytes = limits.max_body_bytes,
        max_pending = dispatcher.max_pending(),
        "webhook receiver ready at POST /webhooks/zendesk"
    );
    run_server(listener, app, shutdown_signal()).await;
    tracing::info!("shutting down: finishing the events in hand");
    Ok(dispatcher.finish().await)
}

/// Serves connections from `listener` until `shutdown` completes, then lets the open
/// connections finish their requests and returns. At most `max_connections` at once.
pub async fn run_server(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let router = router(Arc::clone(&app));
    let slots = Arc::new(Semaphore::new(app.limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let connections = TaskTracker::new();
    let mut shutdown = pin!(shutdown);
    loop {
        // A slot first: past the cap, connections wait in the kernel's backlog.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: wait a little rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    drop(slot);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(router.clone());
        let metrics = Arc::clone(&app.metrics);
        let header_timeout = app.limits.header_timeout;
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let _slot = slot;
            let _open = metrics.connection_opened();
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(MAX_BUF);
            let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            if e.is_timeout() {
                                metrics.header_timeout();
                                tracing::debug!("connection closed: its request headers did not arrive in time");
                            } else {
                                tracing::debug!(error = %e, "connection ended with an error");
                            }
                        }
                        break;
                    }
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    connections.close();
    connections.wait().await;
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

/// A refusal after which the connection is closed (the rest of the body is not read).
fn refuse_and_close(status: StatusCode, message: String) -> Response {
    let mut resp = refuse(status, message);
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Why a body could not be read.
enum BodyError {
    /// Over the limit.
    TooLarge,
    /// The client broke off.
    Broken(String),
}

/// Reads a body, stopping as soon as it exceeds `limit` bytes.
async fn read_capped(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| BodyError::Broken(e.to_string()))?;
        if buf.len().saturating_add(chunk.len()) > limit {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

fn too_large(app: &App) -> Response {
    app.metrics.rejected(Rejection::TooLarge);
    tracing::warn!(
        limit = app.limits.max_body_bytes,
        "webhook body over the size limit refused"
    );
    refuse_and_close(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the body is over the limit of {} bytes",
            app.limits.max_body_bytes
        ),
    )
}

/// The body of a delivery, within the size limit and the body timeout.
async fn read_body(app: &App, headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let limit = app.limits.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err(too_large(app));
    }
    match tokio::time::timeout(app.limits.body_timeout, read_capped(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(BodyError::TooLarge)) => Err(too_large(app)),
        Ok(Err(BodyError::Broken(message))) => {
            app.metrics.rejected(Rejection::BodyTimeout);
            tracing::warn!(%message, "webhook body broke off");
            Err(refuse_and_close(
                StatusCode::BAD_REQUEST,
                format!("the body could not be read: {message}"),
            ))
        }
        Err(_elapsed) => {
            app.metrics.rejected(Rejection::BodyTimeout);
            tracing::warn!(timeout = ?app.limits.body_timeout, "webhook body not received in time");
            Err(refuse_and_close(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body did not arrive within {} s",
                    app.limits.body_timeout.as_secs()
                ),
            ))
        }
    }
}

async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(&app, &headers, body).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
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
            tracing::warn!(ticket_id = payload.ticket_id, event = %payload.event, "queue full: delivery refused with 503");
            let mut resp = refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "more than {} events waiting; retry later",
                    app.dispatcher.max_pending()
                ),
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(BUSY_RETRY_AFTER_SECS),
            );
            resp
        }
    }
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    match app.metrics.workers_died() {
        0 => (StatusCode::OK, "ok\n").into_response(),
        died => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unhealthy: {died} worker task(s) died; see the log and /metrics\n"),
        )
            .into_response(),
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

#[cfg(test)]
mod tests {
    //! The receiver in-process on loopback, fed by raw HTTP/1.1 over TCP, with a fake
    //! event handler (the test-only hook: it can panic on a chosen ticket).
    use super::*;
    use crate::cases::Handled;
    use std::net::SocketAddr;
    use sync_core::cases::TicketEvent;
    use sync_core::report::{CaseOutcome, CaseWrite};
    use time::format_description::well_known::Rfc3339;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    const SECRET: &str = "test secret";

    struct Running {
        addr: SocketAddr,
        app: Arc<App>,
        stop: tokio::sync::oneshot::Sender<()>,
        server: tokio::task::JoinHandle<()>,
    }

    /// A handler that panics on ticket 13's `created` and creates a Case for any other
    /// event.
    fn panicky() -> Handler {
        Arc::new(|ticket, event| {
            Box::pin(async move {
                assert!(
                    !(ticket == 13 && event == TicketEvent::Created),
                    "injected panic for ticket 13"
                );
                let mut done = Handled::default();
                done.tickets.push(sync_core::report::TicketOutcome {
                    ticket_id: ticket,
                    outcome: CaseOutcome::Created(CaseWrite {
                        key: ticket.to_string(),
                        fields: serde_json::Map::new(),
                    }),
                });
                done
            })
        })
    }

    async fn start(limits: Limits) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = Arc::new(Metrics::default());
        let dispatcher = Dispatcher::new(
            panicky(),
            2,
            100,
            Arc::clone(&metrics),
            CasesReportBuilder::new("salesforce-cases", false, OffsetDateTime::UNIX_EPOCH),
        );
        let app = Arc::new(App {
            secret: SecretString::from(SECRET.to_string()),
            metrics,
            dispatcher,
            limits,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(run_server(listener, Arc::clone(&app), async move {
            let _ = stopped.await;
        }));
        Running {
            addr,
            app,
            stop,
            server,
        }
    }

    fn limits() -> Limits {
        Limits {
            max_connections: 8,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_body_bytes: 1024,
        }
    }

    /// Sends `request` and reads the whole answer (the server closes the connection).
    async fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, String) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
            .await
            .expect("the server answers and closes")
            .unwrap();
        let text = String::from_utf8_lossy(&answer).to_string();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    fn get(path: &str) -> Vec<u8> {
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").into_bytes()
    }

    fn signed(ticket: u64, event: &str) -> Vec<u8> {
        let body = format!(r#"{{"ticket_id":"{ticket}","event":"{event}"}}"#);
        let ts = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
        let sig = zendesk_client::webhook::sign(SECRET, &ts, body.as_bytes());
        format!(
            "POST /webhooks/zendesk HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n{SIGNATURE_HEADER}: {sig}\r\n{TIMESTAMP_HEADER}: {ts}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_in_one_event_is_counted_failed_and_the_rest_go_on() {
        let r = start(limits()).await;
        for (ticket, event) in [(13, "created"), (13, "closed"), (14, "created")] {
            let (status, text) = exchange(r.addr, &signed(ticket, event)).await;
            assert_eq!(status, 202, "{text}");
        }
        let m = &r.app.metrics;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while m.events("processed", TicketEvent::Created)
            + m.events("processed", TicketEvent::Closed)
            + m.events("failed", TicketEvent::Created)
            < 3
        {
            assert!(tokio::time::Instant::now() < deadline, "{}", m.render());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (status, text) = exchange(r.addr, &get("/metrics")).await;
        assert_eq!(status, 200);
        for line in [
            "salesforce_cases_events_panicked_total{kind=\"created\"} 1\n",
            "salesforce_cases_events_failed_total{kind=\"created\"} 1\n",
            "salesforce_cases_events_processed_total{kind=\"created\"} 1\n",
            "salesforce_cases_events_processed_total{kind=\"closed\"} 1\n",
            "salesforce_cases_workers_died_total 0\n",
            "salesforce_cases_events_pending 0\n",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
        // The panic was caught: the receiver is healthy.
        let (status, text) = exchange(r.addr, &get("/healthz")).await;
        assert_eq!((status, text.ends_with("ok\n")), (200, true), "{text}");
        // A worker task that died (the safety net) makes /healthz say so.
        m.worker_died();
        let (status, text) = exchange(r.addr, &get("/healthz")).await;
        assert_eq!(status, 503, "{text}");
        assert!(text.contains("1 worker task(s) died"), "{text}");

        let _ = r.stop.send(());
        r.server.await.unwrap();
        let app = Arc::try_unwrap(r.app)
            .ok()
            .expect("the server let go of the app");
        let report = app.dispatcher.finish().await.build();
        let cases = report.cases.unwrap();
        assert_eq!((cases.create, cases.failed), (2, 1));
        assert_eq!(report.errors.len(), 1);
        assert_eq!(
            report.errors[0].kind,
            sync_core::report::FailureKind::EventFailed.into()
        );
        assert_eq!(report.errors[0].ticket_id, Some(13));
        assert!(
            report.errors[0].message.contains("injected panic"),
            "{:?}",
            report.errors
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_body_over_the_limit_is_refused_before_it_is_read() {
        let r = start(limits()).await;
        // The declared length alone: 413 at once, though no byte of the body was sent
        // (waiting for it would end in 408 after the body timeout).
        let head = "POST /webhooks/zendesk HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n";
        let (status, text) = exchange(r.addr, head.as_bytes()).await;
        assert_eq!(status, 413, "{text}");
        // A chunked body with no length: cut once it passes the limit.
        let mut chunked =
            b"POST /webhooks/zendesk HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_vec();
        for _ in 0..4 {
            chunked.extend_from_slice(b"200\r\n");
            chunked.extend_from_slice(&[b'x'; 0x200]);
            chunked.extend_from_slice(b"\r\n");
        }
        let (status, text) = exchange(r.addr, &chunked).await;
        assert_eq!(status, 413, "{text}");
        assert!(r
            .app
            .metrics
            .render()
            .contains("salesforce_cases_webhooks_rejected_total{reason=\"too_large\"} 2\n"));
        assert_eq!(r.app.metrics.events("received", TicketEvent::Created), 0);
    }
}
