//! Repository of a token's encryption key pairs and its Apple server-token credentials. Secret
//! columns hold values sealed by [`crate::crypto::SecretBox`]; this module never sees plaintext.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::{dep_token_credentials as creds, dep_token_keys as keys};
use crate::domain::ids::{SettingId, TenantId};

/// Key slot that becomes current once a server token decrypts with it.
pub const STAGED: &str = "staged";
/// Key slot of the key pair the held token was encrypted to.
pub const CURRENT: &str = "current";

/// A stored key pair: the sealed private key and the PEM certificate.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = keys)]
pub struct KeyPair {
    /// `staged` or `current`.
    pub slot: String,
    /// Sealed PKCS#8 private key PEM.
    pub private_key: String,
    /// PEM certificate (public).
    pub certificate: String,
}

/// The credentials a setting holds.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = creds)]
pub struct HeldToken {
    /// The setting holding it.
    pub setting_id: String,
    /// Apple MDM server the token belongs to.
    pub server_uuid: String,
    /// Apple MDM server name.
    pub server_name: Option<String>,
    /// Sealed JSON of the OAuth credentials.
    pub credentials: String,
    /// Expiry of the server token (ticks).
    pub access_token_expiry: i64,
}

/// The setting's key pairs (zero, one or both slots).
pub fn key_pairs(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> QueryResult<Vec<KeyPair>> {
    keys::table
        .filter(keys::tenant_id.eq(tenant.to_string()))
        .filter(keys::setting_id.eq(setting.as_str()))
        .select(KeyPair::as_select())
        .load(conn)
}

/// Stores a key pair in `slot`, replacing what it held.
pub fn put_key_pair(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    pair: &KeyPair,
    now: i64,
) -> QueryResult<()> {
    delete_key_pair(conn, tenant, setting, &pair.slot)?;
    diesel::insert_into(keys::table)
        .values((
            keys::tenant_id.eq(tenant.to_string()),
            keys::setting_id.eq(setting.as_str()),
            keys::slot.eq(&pair.slot),
            keys::private_key.eq(&pair.private_key),
            keys::certificate.eq(&pair.certificate),
            keys::created_ticks.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Removes the key pair of `slot`.
pub fn delete_key_pair(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    slot: &str,
) -> QueryResult<()> {
    diesel::delete(keys::table)
        .filter(keys::tenant_id.eq(tenant.to_string()))
        .filter(keys::setting_id.eq(setting.as_str()))
        .filter(keys::slot.eq(slot))
        .execute(conn)
        .map(drop)
}

/// The token a setting holds, if any.
pub fn held(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> QueryResult<Option<HeldToken>> {
    creds::table
        .filter(creds::tenant_id.eq(tenant.to_string()))
        .filter(creds::setting_id.eq(setting.as_str()))
        .select(HeldToken::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().next())
}

/// Who holds the Apple MDM server `server_uuid`: `Some(Ok(setting))` within this tenant,
/// `Some(Err(()))` in another tenant (which is not named), `None` when nobody does.
// This is the one query not scoped to a tenant: an Apple MDM server may be connected to one
// tenant only, so the upload must see every holder. It reveals nothing but "another tenant".
pub fn holder_of(
    conn: &mut DbConnection,
    tenant: TenantId,
    server_uuid: &str,
) -> QueryResult<Option<Result<String, ()>>> {
    let rows: Vec<(String, String)> = creds::table
        .filter(creds::server_uuid.eq(server_uuid))
        .select((creds::tenant_id, creds::setting_id))
        .load(conn)?;
    Ok(rows.into_iter().next().map(|(t, s)| {
        if t == tenant.to_string() {
            Ok(s)
        } else {
            Err(())
        }
    }))
}

/// Stores (or renews) the token a setting holds.
pub fn put_held(
    conn: &mut DbConnection,
    tenant: TenantId,
    token: &HeldToken,
    now: i64,
) -> QueryResult<()> {
    diesel::delete(creds::table)
        .filter(creds::tenant_id.eq(tenant.to_string()))
        .filter(creds::setting_id.eq(&token.setting_id))
        .execute(conn)?;
    diesel::insert_into(creds::table)
        .values((
            creds::tenant_id.eq(tenant.to_string()),
            creds::setting_id.eq(&token.setting_id),
            creds::server_uuid.eq(&token.server_uuid),
            creds::server_name.eq(&token.server_name),
            creds::credentials.eq(&token.credentials),
            creds::access_token_expiry.eq(token.access_token_expiry),
            creds::uploaded_ticks.eq(now),
        ))
        .execute(conn)
        .map(drop)
}
