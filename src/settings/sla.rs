//! `[service_levels.<queue>]`: each queue's first-response and resolution targets in business
//! time (`domain::service_level`).

use super::common::{invalid, SettingsError};
use crate::domain::service_level::{Calendar, ServiceLevels, Target};
use crate::domain::QueueName;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One queue's targets.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceLevelSettings {
    /// A first reply within this many seconds of business time (14400: 4 business hours).
    pub first_response_secs: u64,
    /// Done within this many seconds of business time.
    pub resolution_secs: u64,
    /// At risk once this share of a target's time is used (default 80).
    #[serde(default = "default_at_risk")]
    pub at_risk_percent: u8,
    /// Added to the priority when the first response is late (default 0: none).
    #[serde(default)]
    pub escalate_priority: i32,
    /// When time counts: `mon-fri 09:00-17:00` (default: always).
    #[serde(default)]
    pub business_hours: String,
    /// The business hours' offset from UTC, `+01:00` (default `Z`).
    #[serde(default)]
    pub utc_offset: String,
}

fn default_at_risk() -> u8 {
    80
}

/// Every queue's targets, or the key that is wrong (`queues`: the process's queues).
pub fn service_levels(
    settings: &BTreeMap<String, ServiceLevelSettings>,
    queues: &[QueueName],
) -> Result<ServiceLevels, SettingsError> {
    let mut by_queue = BTreeMap::new();
    for (name, s) in settings {
        let key = |k: &str| format!("service_levels.{name}.{k}");
        let queue = QueueName::parse(name)
            .map_err(|e| invalid(&format!("service_levels.{name}"), e.to_string()))?;
        if !queues.contains(&queue) {
            return Err(invalid(
                &format!("service_levels.{name}"),
                "not a queue of the process",
            ));
        }
        const YEAR: u64 = 366 * 86_400;
        for (k, v) in [
            ("first_response_secs", s.first_response_secs),
            ("resolution_secs", s.resolution_secs),
        ] {
            if v == 0 || v > YEAR {
                return Err(invalid(&key(k), "must be between 1 second and a year"));
            }
        }
        if s.resolution_secs < s.first_response_secs {
            return Err(invalid(
                &key("resolution_secs"),
                "must not be shorter than first_response_secs",
            ));
        }
        if !(1..=100).contains(&s.at_risk_percent) {
            return Err(invalid(
                &key("at_risk_percent"),
                "must be between 1 and 100",
            ));
        }
        if !(0..=1000).contains(&s.escalate_priority) {
            return Err(invalid(
                &key("escalate_priority"),
                "must be between 0 and 1000",
            ));
        }
        let calendar = Calendar::parse(&s.business_hours, &s.utc_offset)
            .map_err(|e| invalid(&key("business_hours"), e))?;
        by_queue.insert(
            queue,
            Target {
                first_response_secs: s.first_response_secs,
                resolution_secs: s.resolution_secs,
                at_risk_percent: s.at_risk_percent,
                escalate_priority: s.escalate_priority,
                calendar,
            },
        );
    }
    Ok(ServiceLevels { by_queue })
}
