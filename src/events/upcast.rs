//! Payload encoding and decoding by (type name, schema version): the upcasting point.
//!
//! A payload is the bincode of one event struct; the envelope's type name says which. Every
//! released (type, version) must keep decoding forever. When an event changes: keep the old struct
//! as `XV1` in this module, give the new one version 2, and add one arm here:
//! `("X", 1) => Ok(decode::<XV1>(bytes)?.into())` with `impl From<XV1> for X`.
//! The recorded log `snapshots/eventlog-v1.ndjson` and the pinned bytes in `tests/` prove that old
//! logs still load.

use super::codec;
use crate::domain::agent::{
    AgentCreated, AgentDeleted, AgentEvent, AgentPresenceChanged, AgentUpdated,
};
use crate::domain::interaction::*;
use crate::domain::process_log::{ProcessActivated, ProcessEvent};
use crate::domain::standard_response::{
    ResponseCreated, ResponseDeleted, ResponseEvent, ResponseUpdated,
};
use crate::domain::user::{
    InvitationIssued, PasswordSet, SignInFailed, SignedIn, SignedOut, UserAdded, UserEvent,
    UserRevoked,
};
use serde::Serialize;

/// Any event of any aggregate.
#[allow(clippy::large_enum_variant)] // transient values, like `InteractionEvent`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DomainEvent {
    Interaction(InteractionEvent),
    User(UserEvent),
    Response(ResponseEvent),
    Process(ProcessEvent),
    Agent(AgentEvent),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpcastError {
    #[error("unknown event type {0}")]
    UnknownType(String),
    #[error("{event_type} has no schema version {version} in this build")]
    UnknownVersion { event_type: String, version: u16 },
    #[error("{event_type} v{version} does not decode: {why}")]
    Undecodable {
        event_type: String,
        version: u16,
        why: String,
    },
}

macro_rules! interaction_codec {
    ($($t:ident),* $(,)?) => {
        fn encode_interaction(e: &InteractionEvent) -> Vec<u8> {
            match e { $(InteractionEvent::$t(x) => codec::encode(x),)* }
        }
        fn decode_interaction(t: &str, v: u16, bytes: &[u8]) -> Option<Result<InteractionEvent, UpcastError>> {
            let err = |why: String| UpcastError::Undecodable { event_type: t.to_string(), version: v, why };
            if let Some(r) = decode_earlier(t, v, bytes) {
                return Some(r.map_err(err));
            }
            match (t, v) {
                $((stringify!($t), v) if v == current_version(stringify!($t)) => Some(codec::decode::<$t>(bytes).map(InteractionEvent::$t).map_err(err)),)*
                $((stringify!($t), _) => Some(Err(UpcastError::UnknownVersion { event_type: t.to_string(), version: v })),)*
                _ => None,
            }
        }
    };
}

crate::domain::interaction::for_each_interaction_event!(interaction_codec);

/// Earlier layouts of interaction events, as released: never change one. Each reads as the
/// current layout through its `From`.
mod earlier {
    use crate::domain::interaction::*;
    use crate::domain::{AgentId, Millis, QueueName};
    use serde::{Deserialize, Serialize};

    #[derive(Deserialize, Serialize)]
    pub struct InteractionTransferredV1 {
        pub from_agent: AgentId,
        pub target: TransferTarget,
        pub at: Millis,
    }
    impl From<InteractionTransferredV1> for InteractionTransferred {
        fn from(e: InteractionTransferredV1) -> Self {
            InteractionTransferred {
                from_agent: e.from_agent,
                target: e.target,
                note: String::new(),
                at: e.at,
            }
        }
    }

    #[derive(Deserialize, Serialize)]
    pub struct ConsultationStartedV1 {
        pub owner: AgentId,
        pub consultant: AgentId,
        pub at: Millis,
    }
    impl From<ConsultationStartedV1> for ConsultationStarted {
        fn from(e: ConsultationStartedV1) -> Self {
            ConsultationStarted {
                owner: e.owner,
                consultant: e.consultant,
                note: String::new(),
                at: e.at,
            }
        }
    }

    #[derive(Deserialize, Serialize)]
    pub struct ReturnedToQueueV1 {
        pub agent: AgentId,
        pub queue: QueueName,
        pub at: Millis,
    }
    impl From<ReturnedToQueueV1> for ReturnedToQueue {
        fn from(e: ReturnedToQueueV1) -> Self {
            ReturnedToQueue {
                agent: e.agent,
                queue: e.queue,
                reason: String::new(),
                at: e.at,
            }
        }
    }

    #[derive(Deserialize, Serialize)]
    pub struct InteractionDoneV1 {
        pub by: String,
        pub at: Millis,
    }
    impl From<InteractionDoneV1> for InteractionDone {
        fn from(e: InteractionDoneV1) -> Self {
            InteractionDone {
                by: e.by,
                disposition: None,
                at: e.at,
            }
        }
    }
}

/// An event recorded in a layout earlier than its current one, shown as recorded (its own
/// fields, no upcast), so an export reads the same under every later version (`None`: not an
/// earlier layout, or it does not decode).
pub fn earlier_json(t: &str, v: u16, bytes: &[u8]) -> Option<serde_json::Value> {
    use earlier::*;
    fn show<Old: serde::de::DeserializeOwned + Serialize>(
        bytes: &[u8],
    ) -> Option<serde_json::Value> {
        serde_json::to_value(codec::decode::<Old>(bytes).ok()?).ok()
    }
    match (t, v) {
        ("InteractionTransferred", 1) => show::<InteractionTransferredV1>(bytes),
        ("ConsultationStarted", 1) => show::<ConsultationStartedV1>(bytes),
        ("ReturnedToQueue", 1) => show::<ReturnedToQueueV1>(bytes),
        ("InteractionDone", 1) => show::<InteractionDoneV1>(bytes),
        ("ReplyDrafted", 1) => show::<earlier_drafts::ReplyDraftedV1>(bytes),
        ("DraftUpdated", 1) => show::<earlier_drafts::DraftUpdatedV1>(bytes),
        _ => None,
    }
}

/// Earlier layouts of the reply's draft events.
mod earlier_drafts {
    use crate::domain::interaction::*;
    use crate::domain::{AgentId, ContentRef, InteractionId, Millis};
    use serde::{Deserialize, Serialize};

    #[derive(Deserialize, Serialize)]
    pub struct ReplyDraftedV1 {
        pub parent: InteractionId,
        pub agent: AgentId,
        pub to: String,
        pub subject: String,
        pub content: Option<ContentRef>,
        pub at: Millis,
    }
    impl From<ReplyDraftedV1> for ReplyDrafted {
        fn from(e: ReplyDraftedV1) -> Self {
            ReplyDrafted {
                parent: e.parent,
                agent: e.agent,
                to: e.to,
                subject: e.subject,
                content: e.content,
                html: None,
                at: e.at,
            }
        }
    }

    #[derive(Deserialize, Serialize)]
    pub struct DraftUpdatedV1 {
        pub agent: AgentId,
        pub content: Option<ContentRef>,
        pub at: Millis,
    }
    impl From<DraftUpdatedV1> for DraftUpdated {
        fn from(e: DraftUpdatedV1) -> Self {
            DraftUpdated {
                agent: e.agent,
                content: e.content,
                html: None,
                at: e.at,
            }
        }
    }
}

/// An interaction event in a layout earlier than its current one, upcast (`None`: not one).
fn decode_earlier(t: &str, v: u16, bytes: &[u8]) -> Option<Result<InteractionEvent, String>> {
    use earlier::*;
    fn up<Old: serde::de::DeserializeOwned, New: From<Old>>(
        bytes: &[u8],
        wrap: fn(New) -> InteractionEvent,
    ) -> Result<InteractionEvent, String> {
        codec::decode::<Old>(bytes).map(|old| wrap(old.into()))
    }
    Some(match (t, v) {
        ("InteractionTransferred", 1) => {
            up::<InteractionTransferredV1, _>(bytes, InteractionEvent::InteractionTransferred)
        }
        ("ConsultationStarted", 1) => {
            up::<ConsultationStartedV1, _>(bytes, InteractionEvent::ConsultationStarted)
        }
        ("ReturnedToQueue", 1) => {
            up::<ReturnedToQueueV1, _>(bytes, InteractionEvent::ReturnedToQueue)
        }
        ("InteractionDone", 1) => {
            up::<InteractionDoneV1, _>(bytes, InteractionEvent::InteractionDone)
        }
        ("ReplyDrafted", 1) => {
            up::<earlier_drafts::ReplyDraftedV1, _>(bytes, InteractionEvent::ReplyDrafted)
        }
        ("DraftUpdated", 1) => {
            up::<earlier_drafts::DraftUpdatedV1, _>(bytes, InteractionEvent::DraftUpdated)
        }
        _ => return None,
    })
}

impl DomainEvent {
    /// The event ready to append, with a fresh id and its envelope's principal and ids.
    pub fn into_new_event(
        self,
        principal: crate::domain::Principal,
        correlation_id: uuid::Uuid,
        causation_id: Option<uuid::Uuid>,
    ) -> super::envelope::NewEvent {
        super::envelope::NewEvent {
            id: uuid::Uuid::now_v7(),
            event_type: self.event_type().to_string(),
            schema_version: self.event_version(),
            payload: self.encode_payload(),
            principal,
            correlation_id,
            causation_id,
        }
    }

    pub fn event_type(&self) -> &'static str {
        match self {
            DomainEvent::Interaction(e) => e.event_type(),
            DomainEvent::User(e) => e.event_type(),
            DomainEvent::Response(e) => e.event_type(),
            DomainEvent::Process(e) => e.event_type(),
            DomainEvent::Agent(e) => e.event_type(),
        }
    }

    pub fn event_version(&self) -> u16 {
        match self {
            DomainEvent::Interaction(e) => e.event_version(),
            DomainEvent::User(e) => e.event_version(),
            DomainEvent::Response(_) => 1,
            DomainEvent::Process(_) => 1,
            DomainEvent::Agent(_) => 1,
        }
    }

    /// The payload bytes: the bincode of the event's own struct.
    pub fn encode_payload(&self) -> Vec<u8> {
        match self {
            DomainEvent::Interaction(e) => encode_interaction(e),
            DomainEvent::User(UserEvent::UserAdded(x)) => codec::encode(x),
            DomainEvent::User(UserEvent::UserRevoked(x)) => codec::encode(x),
            DomainEvent::User(UserEvent::PasswordSet(x)) => codec::encode(x),
            DomainEvent::User(UserEvent::InvitationIssued(x)) => codec::encode(x),
            DomainEvent::User(UserEvent::SignedIn(x)) => codec::encode(x),
            DomainEvent::User(UserEvent::SignInFailed(x)) => codec::encode(x),
            DomainEvent::User(UserEvent::SignedOut(x)) => codec::encode(x),
            DomainEvent::Response(ResponseEvent::ResponseCreated(x)) => codec::encode(x),
            DomainEvent::Response(ResponseEvent::ResponseUpdated(x)) => codec::encode(x),
            DomainEvent::Response(ResponseEvent::ResponseDeleted(x)) => codec::encode(x),
            DomainEvent::Process(ProcessEvent::ProcessActivated(x)) => codec::encode(x),
            DomainEvent::Agent(AgentEvent::AgentCreated(x)) => codec::encode(x),
            DomainEvent::Agent(AgentEvent::AgentUpdated(x)) => codec::encode(x),
            DomainEvent::Agent(AgentEvent::AgentDeleted(x)) => codec::encode(x),
            DomainEvent::Agent(AgentEvent::AgentPresenceChanged(x)) => codec::encode(x),
        }
    }

    /// Decodes a payload of any released (type, version) into the current event.
    pub fn decode(
        event_type: &str,
        version: u16,
        payload: &[u8],
    ) -> Result<DomainEvent, UpcastError> {
        if let Some(r) = decode_interaction(event_type, version, payload) {
            return r.map(DomainEvent::Interaction);
        }
        let err = |why: String| UpcastError::Undecodable {
            event_type: event_type.to_string(),
            version,
            why,
        };
        match (event_type, version) {
            ("UserAdded", 1) => codec::decode::<UserAdded>(payload)
                .map(|x| DomainEvent::User(UserEvent::UserAdded(x)))
                .map_err(err),
            ("UserRevoked", 1) => codec::decode::<UserRevoked>(payload)
                .map(|x| DomainEvent::User(UserEvent::UserRevoked(x)))
                .map_err(err),
            ("PasswordSet", 1) => codec::decode::<PasswordSet>(payload)
                .map(|x| DomainEvent::User(UserEvent::PasswordSet(x)))
                .map_err(err),
            ("InvitationIssued", 1) => codec::decode::<InvitationIssued>(payload)
                .map(|x| DomainEvent::User(UserEvent::InvitationIssued(x)))
                .map_err(err),
            ("SignedIn", 1) => codec::decode::<SignedIn>(payload)
                .map(|x| DomainEvent::User(UserEvent::SignedIn(x)))
                .map_err(err),
            ("SignInFailed", 1) => codec::decode::<SignInFailed>(payload)
                .map(|x| DomainEvent::User(UserEvent::SignInFailed(x)))
                .map_err(err),
            ("SignedOut", 1) => codec::decode::<SignedOut>(payload)
                .map(|x| DomainEvent::User(UserEvent::SignedOut(x)))
                .map_err(err),
            ("ResponseCreated", 1) => codec::decode::<ResponseCreated>(payload)
                .map(|x| DomainEvent::Response(ResponseEvent::ResponseCreated(x)))
                .map_err(err),
            ("ResponseUpdated", 1) => codec::decode::<ResponseUpdated>(payload)
                .map(|x| DomainEvent::Response(ResponseEvent::ResponseUpdated(x)))
                .map_err(err),
            ("ResponseDeleted", 1) => codec::decode::<ResponseDeleted>(payload)
                .map(|x| DomainEvent::Response(ResponseEvent::ResponseDeleted(x)))
                .map_err(err),
            ("ProcessActivated", 1) => codec::decode::<ProcessActivated>(payload)
                .map(|x| DomainEvent::Process(ProcessEvent::ProcessActivated(x)))
                .map_err(err),
            ("AgentCreated", 1) => codec::decode::<AgentCreated>(payload)
                .map(|x| DomainEvent::Agent(AgentEvent::AgentCreated(x)))
                .map_err(err),
            ("AgentUpdated", 1) => codec::decode::<AgentUpdated>(payload)
                .map(|x| DomainEvent::Agent(AgentEvent::AgentUpdated(x)))
                .map_err(err),
            ("AgentDeleted", 1) => codec::decode::<AgentDeleted>(payload)
                .map(|x| DomainEvent::Agent(AgentEvent::AgentDeleted(x)))
                .map_err(err),
            ("AgentPresenceChanged", 1) => codec::decode::<AgentPresenceChanged>(payload)
                .map(|x| DomainEvent::Agent(AgentEvent::AgentPresenceChanged(x)))
                .map_err(err),
            (
                "UserAdded"
                | "UserRevoked"
                | "PasswordSet"
                | "InvitationIssued"
                | "SignedIn"
                | "SignInFailed"
                | "SignedOut"
                | "ResponseCreated"
                | "ResponseUpdated"
                | "ResponseDeleted"
                | "ProcessActivated"
                | "AgentCreated"
                | "AgentUpdated"
                | "AgentDeleted"
                | "AgentPresenceChanged",
                _,
            ) => Err(UpcastError::UnknownVersion {
                event_type: event_type.to_string(),
                version,
            }),
            _ => Err(UpcastError::UnknownType(event_type.to_string())),
        }
    }

    /// Decodes the payload of a recorded event.
    pub fn from_recorded(e: &super::envelope::RecordedEvent) -> Result<DomainEvent, UpcastError> {
        DomainEvent::decode(&e.event_type, e.schema_version, &e.payload)
    }
}

impl From<InteractionEvent> for DomainEvent {
    fn from(e: InteractionEvent) -> Self {
        DomainEvent::Interaction(e)
    }
}

impl From<UserEvent> for DomainEvent {
    fn from(e: UserEvent) -> Self {
        DomainEvent::User(e)
    }
}

impl From<AgentEvent> for DomainEvent {
    fn from(e: AgentEvent) -> Self {
        DomainEvent::Agent(e)
    }
}

impl From<ProcessEvent> for DomainEvent {
    fn from(e: ProcessEvent) -> Self {
        DomainEvent::Process(e)
    }
}

impl From<ResponseEvent> for DomainEvent {
    fn from(e: ResponseEvent) -> Self {
        DomainEvent::Response(e)
    }
}
