//! Metrics in the Prometheus text format, served at `GET /metrics`. The code records through the
//! `metrics` facade (a no-op until a recorder is installed); `install` sets the Prometheus
//! recorder once per process. Counters and histograms are recorded where things happen; gauges
//! that describe state (log head, projection lag, queue depths) are set when scraped.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// Events written to the log.
pub const EVENTS_APPENDED: &str = "postroom_log_events_appended_total";
/// One durable write of the log (a batch of appends): how long it took.
pub const LOG_WRITE_SECONDS: &str = "postroom_log_write_seconds";
/// Appends answered (each one request, one or more events).
pub const APPENDS: &str = "postroom_log_appends_total";
/// Messages recorded by IMAP ingest, by mailbox.
pub const MESSAGES_INGESTED: &str = "postroom_messages_ingested_total";
/// Web forms recorded.
pub const WEBFORMS: &str = "postroom_webform_submissions_total";
/// The log's last position.
pub const LOG_HEAD: &str = "postroom_log_head";
/// Events written but not yet in the projections.
pub const PROJECTION_LAG: &str = "postroom_projection_lag_events";
/// Interactions waiting in each queue.
pub const QUEUE_DEPTH: &str = "postroom_queue_depth";

/// Outbound messages by state: `pending` (waiting for a first attempt or one in progress),
/// `retrying` (failed, to be tried again), `failed` (given up).
pub const OUTBOX: &str = "postroom_outbox_messages";
/// Automatic answers planned and not yet decided by the loop policy.
pub const ANSWERS_TO_DECIDE: &str = "postroom_auto_answers_to_decide";
/// Messages the SMTP server accepted.
pub const OUTBOX_SENT: &str = "postroom_outbox_sent_total";
/// Send attempts that failed (label `permanent`: `true` when given up).
pub const OUTBOX_FAILED_ATTEMPTS: &str = "postroom_outbox_failed_attempts_total";
/// Automatic answers composed (then sent by the outbox).
pub const AUTO_ANSWERS_COMPOSED: &str = "postroom_auto_answers_composed_total";
/// Automatic answers not sent, by reason (`reason` label: the loop policy's stable code).
pub const AUTO_ANSWERS_SUPPRESSED: &str = "postroom_auto_answers_suppressed_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(LOG_WRITE_SECONDS.to_string()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    ],
                )
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Another recorder may already be set (a library user's): ours then renders nothing
            // of what the code records, which is their choice.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(EVENTS_APPENDED, "Events written to the log");
    metrics::describe_counter!(
        APPENDS,
        "Appends answered (one request, one or more events)"
    );
    metrics::describe_histogram!(
        LOG_WRITE_SECONDS,
        metrics::Unit::Seconds,
        "One durable write of the log (a batch of appends)"
    );
    metrics::describe_counter!(MESSAGES_INGESTED, "Messages recorded by IMAP ingest");
    metrics::describe_counter!(WEBFORMS, "Web forms recorded");
    metrics::describe_gauge!(LOG_HEAD, "The log's last position");
    metrics::describe_gauge!(
        PROJECTION_LAG,
        "Events written but not yet in the projections"
    );
    metrics::describe_gauge!(QUEUE_DEPTH, "Interactions waiting in each queue");
    metrics::describe_gauge!(
        OUTBOX,
        "Outbound messages by state (pending, retrying, failed)"
    );
    metrics::describe_gauge!(
        ANSWERS_TO_DECIDE,
        "Automatic answers planned and not yet decided by the loop policy"
    );
    metrics::describe_counter!(OUTBOX_SENT, "Messages the SMTP server accepted");
    metrics::describe_counter!(
        OUTBOX_FAILED_ATTEMPTS,
        "Send attempts that failed (permanent: given up)"
    );
    metrics::describe_counter!(AUTO_ANSWERS_COMPOSED, "Automatic answers composed");
    metrics::describe_counter!(
        AUTO_ANSWERS_SUPPRESSED,
        "Automatic answers not sent, by the loop policy's reason"
    );
}
