//! Pure domain types: identifiers, time formatting and the entities' rules. No I/O here.

pub mod devices;
pub mod edm;
pub mod enrollment_url;
pub mod ids;
pub mod onboarding;
pub mod profiles;
pub mod time;
pub mod values;
pub mod vpp;

/// A write body that breaks a rule of the model; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// Client-facing explanation naming the property and the rule.
    pub message: String,
}

impl ValidationError {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// A property the type does not have.
    pub fn unknown_property(name: &str, type_name: &str) -> Self {
        Self::new(format!(
            "The property '{name}' does not exist on type '{type_name}'."
        ))
    }

    /// A value of the wrong JSON type.
    pub fn wrong_type(name: &str, expected: &str, value: &serde_json::Value) -> Self {
        let shown = match value {
            serde_json::Value::String(s) => format!("'{}'", s.chars().take(64).collect::<String>()),
            serde_json::Value::Array(_) => "an array".to_owned(),
            serde_json::Value::Object(_) => "an object".to_owned(),
            other => other.to_string(),
        };
        Self::new(format!(
            "Cannot convert {shown} to the type '{expected}' expected by property '{name}'."
        ))
    }
}
