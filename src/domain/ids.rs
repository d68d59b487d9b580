//! Identifier newtypes.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

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
