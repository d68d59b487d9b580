//! The simulated Apple endpoints, named for counters, the request log and failure injection.

use serde::{Deserialize, Serialize};

/// One Apple DEP endpoint (method + path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Endpoint {
    /// `GET /session`.
    Session,
    /// `GET /account`.
    Account,
    /// `POST /server/devices`.
    ServerDevices,
    /// `POST /devices/sync`.
    DevicesSync,
    /// `POST /devices`.
    Devices,
    /// `POST /devices/disown`.
    DevicesDisown,
    /// `POST /profile`.
    ProfileDefine,
    /// `GET /profile`.
    ProfileGet,
    /// `POST` / `PUT /profile/devices`.
    ProfileAssign,
    /// `DELETE /profile/devices`.
    ProfileRemove,
}

impl Endpoint {
    /// Every endpoint, in route order.
    pub(crate) const ALL: [Endpoint; 10] = [
        Self::Session,
        Self::Account,
        Self::ServerDevices,
        Self::DevicesSync,
        Self::Devices,
        Self::DevicesDisown,
        Self::ProfileDefine,
        Self::ProfileGet,
        Self::ProfileAssign,
        Self::ProfileRemove,
    ];

    /// The snake-case name used by the admin API.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Account => "account",
            Self::ServerDevices => "server_devices",
            Self::DevicesSync => "devices_sync",
            Self::Devices => "devices",
            Self::DevicesDisown => "devices_disown",
            Self::ProfileDefine => "profile_define",
            Self::ProfileGet => "profile_get",
            Self::ProfileAssign => "profile_assign",
            Self::ProfileRemove => "profile_remove",
        }
    }

    /// `method path` as Apple documents it.
    pub(crate) fn route(self) -> &'static str {
        match self {
            Self::Session => "GET /session",
            Self::Account => "GET /account",
            Self::ServerDevices => "POST /server/devices",
            Self::DevicesSync => "POST /devices/sync",
            Self::Devices => "POST /devices",
            Self::DevicesDisown => "POST /devices/disown",
            Self::ProfileDefine => "POST /profile",
            Self::ProfileGet => "GET /profile",
            Self::ProfileAssign => "POST /profile/devices",
            Self::ProfileRemove => "DELETE /profile/devices",
        }
    }

    /// Parses a name (`devices_sync`) or a route (`POST /devices/sync`, `PUT /profile/devices`).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let text = text.replace("PUT /profile/devices", "POST /profile/devices");
        Self::ALL
            .into_iter()
            .find(|e| e.name() == text || e.route().eq_ignore_ascii_case(&text))
    }

    /// Whether a successful call changes stored state.
    pub(crate) fn mutates(self) -> bool {
        matches!(
            self,
            Self::DevicesDisown | Self::ProfileDefine | Self::ProfileAssign | Self::ProfileRemove
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_routes() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::parse(e.name()), Some(e));
            assert_eq!(Endpoint::parse(e.route()), Some(e));
        }
        assert_eq!(
            Endpoint::parse("PUT /profile/devices"),
            Some(Endpoint::ProfileAssign)
        );
        assert_eq!(Endpoint::parse("nope"), None);
    }
}
