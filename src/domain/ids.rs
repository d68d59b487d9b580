//! Identifier newtypes.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use uuid::Uuid;

use super::ValidationError;

/// The Entra tenant a request acts for: the `tid` claim of its access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(Uuid);

impl TenantId {
    /// Wraps a tenant GUID.
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    /// The tenant GUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Lower-case hyphenated, the form Entra puts in `tid`.
        write!(f, "{}", self.0.hyphenated())
    }
}

impl FromStr for TenantId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// A `depOnboardingSetting` id (the DEP token's id), as received or stored.
///
/// Not parsed as a GUID: stored ids are GUIDs, but a path may carry any text and an id that is
/// not stored must stay a plain `404` naming it, exactly as the lookup reports it. The `Arc`
/// makes clones into `'static` database closures a reference-count bump.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SettingId(Arc<str>);

impl SettingId {
    /// Wraps an id taken from a path, a body or a stored row.
    pub fn new(id: &str) -> Self {
        Self(Arc::from(id))
    }

    /// The id as stored and sent on the wire; used at the SQL bind and in messages.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SettingId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for SettingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<SettingId> for String {
    fn eq(&self, other: &SettingId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<&SettingId> for String {
    fn eq(&self, other: &&SettingId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl From<&str> for SettingId {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl From<String> for SettingId {
    fn from(id: String) -> Self {
        Self(Arc::from(id))
    }
}

/// An enrollment profile id in its wire form `{settingId}_{guid}`, split once.
///
/// GRAPH-COMPAT: Graph issues profile ids as `{depOnboardingSettingId}_{guid}` and clients
/// (`IntuneCD`) derive the token from the part before the first `_`; the setting part is a GUID,
/// so it never holds `_` itself. The `guid` part is kept as text: ids built from what Apple
/// reports during sync are looked up as received.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileId {
    wire: Arc<str>,
    setting: SettingId,
    guid_at: usize,
}

impl ProfileId {
    /// Splits `{setting}_{guid}`; `None` when either part is empty or there is no `_` (no stored
    /// profile has such an id, so callers answer as for an unknown id).
    pub fn parse(id: &str) -> Option<Self> {
        let (setting, guid) = id.split_once('_')?;
        if setting.is_empty() || guid.is_empty() {
            return None;
        }
        Some(Self {
            wire: Arc::from(id),
            setting: SettingId::new(setting),
            guid_at: setting.len() + 1,
        })
    }

    /// A new id for a profile of `setting`: `{setting}_{guid}`.
    pub fn new(setting: &SettingId, guid: &str) -> Self {
        let wire = format!("{setting}_{guid}");
        Self {
            wire: Arc::from(wire),
            setting: setting.clone(),
            guid_at: setting.as_str().len() + 1,
        }
    }

    /// The token (setting) the profile belongs to.
    pub fn setting(&self) -> &SettingId {
        &self.setting
    }

    /// The part after the first `_`.
    pub fn guid(&self) -> &str {
        &self.wire[self.guid_at..]
    }

    /// The whole wire form, as stored.
    pub fn as_str(&self) -> &str {
        &self.wire
    }
}

impl AsRef<str> for ProfileId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.wire)
    }
}

/// An `importedAppleDeviceIdentity` id, as received or stored (kept as text for the same reason
/// as [`SettingId`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdentityId(Arc<str>);

impl IdentityId {
    /// Wraps an id taken from a path, a body or a stored row.
    pub fn new(id: &str) -> Self {
        Self(Arc::from(id))
    }

    /// The id as stored and sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for IdentityId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for IdentityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shortest and longest normalised serial number.
pub const SERIAL_CHARS: std::ops::RangeInclusive<usize> = 8..=20;

/// A device serial number, normalised on construction: whitespace removed, upper-cased, then 8
/// to 20 ASCII letters and digits. Apple and admins write serials with spaces and in either
/// case; storing one form makes `eq` lookups and the unique key per token exact.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(Arc<str>);

impl Serial {
    /// Normalises `s`, or explains (naming the first 64 characters) why it is not a serial.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let serial: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if SERIAL_CHARS.contains(&serial.chars().count())
            && serial.chars().all(|c| c.is_ascii_alphanumeric())
        {
            Ok(Self(Arc::from(serial)))
        } else {
            Err(ValidationError::new(format!(
                "The serial number '{}' is not valid: after removing spaces and upper-casing it \
                 must be {} to {} ASCII letters and digits.",
                s.chars().take(64).collect::<String>(),
                SERIAL_CHARS.start(),
                SERIAL_CHARS.end()
            )))
        }
    }

    /// The normalised serial.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Serial {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Serial> for String {
    fn from(s: Serial) -> Self {
        s.0.as_ref().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_id_round_trips_and_splits_at_the_first_underscore() {
        let wire = "40342229-2229-4034-2922-344029223440_9a0c7c1e-2b8e-4f5e-9d1a-0c3f5b7e9a11";
        let id = ProfileId::parse(wire).unwrap();
        assert_eq!(
            id.setting().as_str(),
            "40342229-2229-4034-2922-344029223440"
        );
        assert_eq!(id.guid(), "9a0c7c1e-2b8e-4f5e-9d1a-0c3f5b7e9a11");
        assert_eq!(id.as_str(), wire);
        assert_eq!(id.to_string(), wire);
        assert_eq!(ProfileId::new(id.setting(), id.guid()), id);
        assert_eq!(ProfileId::parse("s_a_b").unwrap().guid(), "a_b");
    }

    #[test]
    fn profile_id_refuses_forms_no_profile_has() {
        for bad in ["", "_", "nounderscore", "_guid", "setting_"] {
            assert_eq!(ProfileId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn setting_and_identity_ids_keep_the_text_as_given() {
        // Unknown or oddly cased ids must reach the lookup unchanged (and 404 there).
        assert_eq!(SettingId::new("ABC-def").as_str(), "ABC-def");
        assert_eq!(SettingId::from("x".to_owned()), SettingId::new("x"));
        assert_eq!(IdentityId::new("id 1").to_string(), "id 1");
    }

    #[test]
    fn serial_is_normalised_on_construction() {
        assert_eq!(
            Serial::parse(" c02t 0hl0 ggc0 ").unwrap().as_str(),
            "C02T0HL0GGC0"
        );
        assert_eq!(Serial::parse("dmpxxxxx").unwrap().to_string(), "DMPXXXXX");
        let again = Serial::parse(Serial::parse("abc defgh1").unwrap().as_str()).unwrap();
        assert_eq!(again.as_str(), "ABCDEFGH1");
        assert_eq!(String::from(again), "ABCDEFGH1");
    }

    #[test]
    fn serial_refuses_bad_forms() {
        for bad in ["", "short", "ABCDEFGH-1", "ÄBCDEFGH1", &"A".repeat(21)] {
            let err = Serial::parse(bad).unwrap_err().message;
            assert!(err.contains("is not valid"), "{bad:?}: {err}");
        }
        let long = "x".repeat(200);
        let err = Serial::parse(&long).unwrap_err().message;
        assert!(
            err.contains(&"x".repeat(64)) && !err.contains(&"x".repeat(65)),
            "{err}"
        );
    }
}
