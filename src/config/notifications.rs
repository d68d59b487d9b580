//! Settings of Graph change notifications (`/subscriptions`): which receivers are allowed, how
//! long a subscription may live, and how deliveries are timed and retried.

use serde::{Deserialize, Serialize};

/// Receiver policy, lifetime and delivery timing of change notifications.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationSettings {
    /// Accept `http://` notification URLs (Graph requires HTTPS; for tests and closed networks).
    pub allow_http: bool,
    /// Accept receivers on loopback addresses (`127.0.0.0/8`, `::1`).
    pub allow_loopback: bool,
    /// Accept receivers on private, link-local, shared or unique-local addresses (SSRF guard).
    pub allow_private: bool,
    /// Longest lifetime of a subscription, in minutes (Graph: 4 230 for Outlook resources).
    pub max_lifetime_mins: u64,
    /// Seconds a receiver has to answer the validation handshake (Graph: 10).
    pub validation_timeout_secs: u64,
    /// Seconds a receiver has to accept a delivery (Graph: 3); slower counts as a failure.
    pub delivery_timeout_secs: u64,
    /// Most change notifications in one POST (at least 100, the outbox's row size). 100 keeps a
    /// POST near 60 kB, under common receivers' default body limits (Express: 100 kB).
    pub max_batch: usize,
    /// First wait before a failed delivery is tried again, in seconds (doubling per try, at most
    /// `retry_max_secs`).
    pub retry_first_secs: u64,
    /// Longest wait between two tries, in seconds.
    pub retry_max_secs: u64,
    /// Failed tries after which a batch is dropped (and a `missed` lifecycle notification sent
    /// where a lifecycle URL is set). The defaults retry for about four hours, as Graph does.
    pub max_attempts: u32,
    /// Milliseconds between two looks of the delivery worker at the outbox.
    pub poll_millis: u64,
    /// Minutes before expiry at which `reauthorizationRequired` is sent.
    pub reauthorize_before_mins: u64,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_loopback: false,
            allow_private: false,
            max_lifetime_mins: 4230,
            validation_timeout_secs: 10,
            delivery_timeout_secs: 3,
            max_batch: 100,
            retry_first_secs: 10,
            retry_max_secs: 1800,
            max_attempts: 12,
            poll_millis: 1000,
            reauthorize_before_mins: 60,
        }
    }
}
