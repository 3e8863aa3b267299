//! The application layer, between the shells (HTTP, IMAP ingest, the CLI) and the actors and log:
//! narrow handles that each do one kind of work. Start-up builds them and hands each shell the few
//! it uses; nothing here knows the whole program.
//!
//! - [`receive::Receiver`]: the one path by which a new inbound interaction is recorded (web form
//!   and ingest alike): receipt, content and first placement in one durable append.
//! - [`sweep::Sweep`]: runs the workflow for interactions a crash or a failed request left
//!   half-way.
//! - [`analyze::Analyzer`]: screening rules, language and categories of a new message.
//! - [`process::Process`]: the business process in force (steps, analyzer, answer texts),
//!   swapped whole on reload.
//! - [`reload::Reloader`]: reads the configuration again and swaps the process.
//! - [`route::Router`]: offers queued interactions to the best eligible ready agents.
//! - [`retrain::Retrainer`]: retrains the classifier from people's category corrections.
//! - [`answer::Answerer`]: decides planned automatic answers with the loop policy and composes
//!   them as outbound interactions.
//! - [`reply::Replies`]: agents' draft replies, saved, read back and released to the outbox.
//! - [`notify::Notifier`]: tells each agent's desktop what happens to their work, resumable.
//! - [`compose`]: the one way a message to a customer is made (answers and agents' replies).
//! - [`outbox::Outbox`]: sends every composed outbound message through the mail server, once.

pub mod analyze;
pub mod answer;
pub mod compose;
pub mod configured_agents;
pub mod notify;
pub mod outbox;
pub mod process;
pub mod receive;
pub mod reload;
pub mod reply;
pub mod retrain;
pub mod review;
pub mod route;
pub mod service_level;
pub mod signin;
pub mod sweep;

use crate::domain::Millis;

/// The current time in milliseconds since the epoch: the shell's clock, handed to the domain.
pub fn now() -> Millis {
    Millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
    )
}
