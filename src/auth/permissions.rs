//! The authenticated caller and the Graph permissions it holds.

use serde_json::{Map, Value};

use crate::domain::ids::TenantId;

/// How the caller obtained its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// App + user: permissions come from `scp`.
    Delegated,
    /// App-only (client credentials): permissions come from `roles`.
    Application,
}

/// A permission a Graph operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Reading DEP onboarding settings and everything below them.
    Read,
    /// Creating, changing or deleting them.
    Write,
    /// Reading the Intune audit trail (`deviceManagement/auditEvents`).
    AuditRead,
}

impl Permission {
    /// The permission names that satisfy this permission (any of them); `ReadWrite` implies `Read`.
    pub fn accepted(self) -> &'static [&'static str] {
        match self {
            Self::Read => &[
                "DeviceManagementServiceConfig.Read.All",
                "DeviceManagementServiceConfig.ReadWrite.All",
            ],
            Self::Write => &["DeviceManagementServiceConfig.ReadWrite.All"],
            // GRAPH-COMPAT: Graph gates auditEvents with the Apps permissions, not the DEP
            // ones (audit-events.md §4).
            Self::AuditRead => &[
                "DeviceManagementApps.Read.All",
                "DeviceManagementApps.ReadWrite.All",
            ],
        }
    }
}

/// The caller lacks every permission the operation accepts (→ 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("caller lacks one of the permissions {accepted:?}")]
pub struct Forbidden {
    /// The permission names, any of which would have been accepted.
    pub accepted: &'static [&'static str],
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant the request acts for.
    pub tenant: TenantId,
    /// Delegated or app-only.
    pub caller: CallerKind,
    /// The client application (`appid`, else `azp`).
    pub app_id: Option<String>,
    /// The user or service principal object id (`oid`).
    pub object_id: Option<String>,
    /// The signed-in user's name (`upn`, else `unique_name`); none for app-only callers.
    pub upn: Option<String>,
    /// The client application's name (`app_displayname`), for the audit trail.
    pub app_display_name: Option<String>,
    permissions: Vec<String>,
}

impl Principal {
    /// Builds a principal directly (tests and internal callers; tokens go through `Authenticator`).
    pub fn new(
        tenant: TenantId,
        caller: CallerKind,
        app_id: Option<String>,
        object_id: Option<String>,
        permissions: Vec<String>,
    ) -> Self {
        Self {
            tenant,
            caller,
            app_id,
            object_id,
            upn: None,
            app_display_name: None,
            permissions,
        }
    }

    /// Builds the principal from validated claims; delegated uses `scp` only, app-only `roles` only.
    pub(crate) fn from_claims(tenant: TenantId, claims: &Map<String, Value>) -> Self {
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let scp = claims.get("scp").and_then(Value::as_str);
        let app_only = claims.get("idtyp").and_then(Value::as_str) == Some("app");
        let (caller, permissions) = match scp {
            Some(scp) if !app_only => (
                CallerKind::Delegated,
                scp.split_whitespace().map(str::to_owned).collect(),
            ),
            _ => (CallerKind::Application, roles(claims)),
        };
        Self {
            tenant,
            caller,
            app_id: text("appid").or_else(|| text("azp")),
            object_id: text("oid"),
            upn: match caller {
                CallerKind::Delegated => text("upn").or_else(|| text("unique_name")),
                CallerKind::Application => None,
            },
            app_display_name: text("app_displayname"),
            permissions,
        }
    }

    /// The granted permission names (scopes of a delegated token, roles of an app-only token).
    pub fn permissions(&self) -> &[String] {
        &self.permissions
    }

    /// Succeeds when the caller holds any name `p` accepts (compared case-insensitively).
    pub fn require(&self, p: Permission) -> Result<(), Forbidden> {
        let accepted = p.accepted();
        let granted = self
            .permissions
            .iter()
            .any(|have| accepted.iter().any(|want| have.eq_ignore_ascii_case(want)));
        if granted {
            Ok(())
        } else {
            Err(Forbidden { accepted })
        }
    }
}

fn roles(claims: &Map<String, Value>) -> Vec<String> {
    claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|roles| {
            roles
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
