//! The profiles of many tokens at once, for `$expand` on a page of settings: two queries (the
//! profiles, the default designations) whatever the number of tokens.

use std::collections::HashMap;

use serde_json::Value;

use super::render;
use crate::domain::ids::TenantId;
use crate::service::{ServiceError, Services};
use crate::storage::profiles as repo;

/// One token's rendered profiles (oldest first) and its defaults as `(platform, profile id)`.
#[derive(Debug, Default)]
pub struct TokenProfiles {
    /// Every profile, rendered as Graph JSON.
    pub profiles: Vec<Value>,
    /// The default designations.
    pub defaults: Vec<(String, String)>,
}

impl TokenProfiles {
    /// The rendered default profile of a platform (`graph.platform` member name), if set.
    pub fn default_for(&self, platform: &str) -> Option<&Value> {
        let (_, id) = self.defaults.iter().find(|(p, _)| p == platform)?;
        self.profiles
            .iter()
            .find(|p| p.get("id").and_then(Value::as_str) == Some(id))
    }
}

/// The profiles of each listed token (tokens without any are absent from the map).
pub async fn by_setting(
    svc: &Services,
    tenant: TenantId,
    settings: Vec<String>,
) -> Result<HashMap<String, TokenProfiles>, ServiceError> {
    let (records, defaults) = svc
        .db
        .run(move |c| {
            let records = repo::list_by_setting(c, tenant, &settings)?;
            let defaults = repo::defaults_by_setting(c, tenant, &settings)?;
            Ok::<_, ServiceError>((records, defaults))
        })
        .await?;
    let mut out: HashMap<String, TokenProfiles> = HashMap::new();
    for (setting, platform, id) in defaults {
        out.entry(setting)
            .or_default()
            .defaults
            .push((platform, id));
    }
    for (setting, record) in records {
        let token = out.entry(setting).or_default();
        let rendered = render(&record, &token.defaults)?;
        token.profiles.push(rendered);
    }
    Ok(out)
}
