//! Upstream mode: the gateway holds no DEP state and serves the retired single-token API in
//! front of a Graph service that speaks the multi-token one (real Microsoft Graph, or another
//! gateway in local mode). The single-token rows are the same as in local mode
//! (`legacy::routes`), with the same pure conversions (`legacy::convert`); only their back end
//! differs: each old call becomes multi-token calls on the upstream ([`settings`],
//! [`profiles`], [`devices`]). Everything else, and every `$batch` item that is not an old
//! path, is passed through ([`client`]).
//!
//! The caller's token is forwarded as is and validated by the upstream (the gateway cannot
//! verify Graph's tokens); it is never logged and nothing is cached across callers.

pub mod client;
pub mod devices;
pub mod fanout;
pub mod links;
pub mod merge;
pub mod profiles;
pub mod settings;

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, web};
use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};

use crate::api::GraphRequest;
use crate::api::context::RequestCtx;
use crate::api::error::ApiError;
use crate::api::path::Segment;
use crate::api::response::GraphResponse;
use crate::api::table::{Operation, Params};
use crate::auth::{CallerKind, Permission, Principal};
use crate::config::{Settings, UpstreamSettings};
use crate::domain::ids::TenantId;
use crate::http::AppState;
use crate::odata::{PagingKey, QueryOptions};

/// The upstream back end, chosen at start when `upstream.base_url` is set.
pub struct Upstream {
    /// The pooled HTTP client.
    pub http: client::Http,
    settings: UpstreamSettings,
    legacy_api: bool,
    /// Signs the continuation tokens of tenant-wide reads.
    pub paging_key: PagingKey,
    /// The most items on one page of a tenant-wide read (`max_page_size`, as in local mode).
    pub max_page_size: u32,
}

/// Everything a translated call needs: the caller (its token travels in `ctx`), the row's
/// parsed inputs and the upstream.
pub struct UpCall<'a> {
    /// The upstream.
    pub up: &'a Upstream,
    /// Request ids and the caller's forwarded token.
    pub ctx: &'a RequestCtx,
    /// The caller's tenant (from the token; used only to pick the configured default token).
    pub tenant: TenantId,
    /// The row that matched.
    pub row: &'static Operation,
    /// Query options, limited to the row's.
    pub query: QueryOptions,
    /// Path parameters.
    pub params: Params,
    /// The request body.
    pub body: &'a [u8],
    /// The query string as sent.
    pub raw_query: &'a str,
}

impl UpCall<'_> {
    /// The setting the request's header or the configuration names as the legacy default.
    pub fn designated(&self) -> Option<String> {
        self.ctx
            .upstream
            .as_ref()
            .and_then(|u| u.default_token.clone())
            .or_else(|| {
                let tenant = self.tenant.to_string();
                self.up
                    .settings
                    .default_tokens
                    .iter()
                    .find(|(t, _)| t.eq_ignore_ascii_case(&tenant))
                    .map(|(_, id)| id.clone())
            })
    }
}

type UpFuture<'a> = LocalBoxFuture<'a, Result<GraphResponse, ApiError>>;
type UpHandler = for<'a> fn(UpCall<'a>) -> UpFuture<'a>;

macro_rules! up {
    ($f:path) => {{
        fn boxed(call: UpCall<'_>) -> UpFuture<'_> {
            Box::pin($f(call))
        }
        boxed as UpHandler
    }};
}

/// The upstream handler of each single-token row (by operation id).
fn handler(id: &str) -> Option<UpHandler> {
    let tail = id.rsplit_once('.').map_or(id, |(_, t)| t);
    Some(match tail {
        "legacy_ListDepOnboardingSettings" => up!(settings::list),
        "legacy_CreateDepOnboardingSettings" => up!(settings::create),
        "legacy_GetDepOnboardingSettings" => up!(settings::get),
        "legacy_UpdateDepOnboardingSettings" => up!(settings::update),
        "legacy_DeleteDepOnboardingSettings" => up!(settings::delete),
        "legacy_uploadDepToken" => up!(settings::upload_dep_token),
        "legacy_syncWithAppleDeviceEnrollmentProgram" => up!(settings::sync),
        "legacy_getEncryptionPublicKey" => up!(settings::get_encryption_public_key),
        "legacy_ListEnrollmentProfiles" => up!(profiles::list),
        "legacy_CreateEnrollmentProfiles" => up!(profiles::create),
        "legacy_enrollmentProfiles_GetCount" => up!(profiles::count),
        "legacy_GetEnrollmentProfiles" => up!(profiles::get),
        "legacy_UpdateEnrollmentProfiles" => up!(profiles::update),
        "legacy_DeleteEnrollmentProfiles" => up!(profiles::delete),
        "legacy_enrollmentProfiles_exportMobileConfig"
        | "legacy_enrollmentProfiles_setDefaultProfile"
        | "legacy_enrollmentProfiles_updateDeviceProfileAssignment" => up!(profiles::action),
        "legacy_ListImportedAppleDeviceIdentities" => up!(devices::list),
        "legacy_CreateImportedAppleDeviceIdentities" => up!(devices::create),
        "legacy_importedAppleDeviceIdentities_GetCount" => up!(devices::count),
        "legacy_importedAppleDeviceIdentities_importAppleDeviceIdentityList" => {
            up!(devices::import)
        }
        "legacy_GetImportedAppleDeviceIdentities" => up!(devices::get),
        "legacy_UpdateImportedAppleDeviceIdentities" => up!(devices::update),
        "legacy_DeleteImportedAppleDeviceIdentities" => up!(devices::delete),
        "legacyDefaultToken_Get" => up!(settings::default_token),
        "legacyDefaultToken_Set" | "legacyDefaultToken_Update" | "legacyDefaultToken_Clear" => {
            up!(settings::designate_refused)
        }
        _ => return None,
    })
}

impl Upstream {
    /// The back end for `upstream.base_url`, if set.
    ///
    /// # Errors
    /// When the URL is not an absolute http(s) URL or the client cannot be built.
    pub fn new(all: &Settings, paging_key: PagingKey) -> anyhow::Result<Option<Arc<Self>>> {
        let settings = &all.upstream;
        let Some(base) = &settings.base_url else {
            return Ok(None);
        };
        let url = url::Url::parse(base).context("upstream.base_url is not a URL")?;
        anyhow::ensure!(
            matches!(url.scheme(), "http" | "https"),
            "upstream.base_url must be an http(s) URL"
        );
        let http = client::Http::new(base, Duration::from_secs(settings.timeout_secs.max(1)))?;
        Ok(Some(Arc::new(Self {
            http,
            settings: settings.clone(),
            legacy_api: all.legacy_api,
            paging_key,
            max_page_size: all.max_page_size,
        })))
    }

    /// An upstream `@odata.nextLink`, refused unless it points at the upstream itself.
    pub fn checked_link(&self, link: &str) -> Result<String, ApiError> {
        if link.starts_with(&format!("{}/", self.http.base)) {
            Ok(link.to_owned())
        } else {
            Err(ApiError::BadGateway(
                "The upstream Graph service sent a nextLink outside itself.".to_owned(),
            ))
        }
    }

    /// The single-token row at `segments`, when translated.
    fn translated(&self, segments: &[Segment]) -> Option<crate::api::matcher::Found> {
        if !self.legacy_api {
            return None;
        }
        let found = crate::legacy::routes::table().find(segments).ok()?;
        found
            .rows
            .iter()
            .any(|r| r.legacy.is_some())
            .then_some(found)
    }

    async fn translate(
        &self,
        ctx: &mut RequestCtx,
        found: crate::api::matcher::Found,
        req: &GraphRequest,
    ) -> Result<GraphResponse, ApiError> {
        let (row, tenant, query) = crate::api::dispatch::admit(found.rows, ctx, req)?;
        let run = handler(&row.id).ok_or_else(|| ApiError::NotImplemented(row.id.clone()))?;
        run(UpCall {
            up: self,
            ctx,
            tenant,
            row,
            query,
            params: found.params,
            body: &req.body,
            raw_query: &req.query,
        })
        .await
    }
}

impl crate::http::upstream::Upstream for Upstream {
    fn principal(&self, authorization: Option<&str>) -> Option<Result<Principal, ApiError>> {
        (!self.settings.validate_tokens).then(|| unverified_principal(authorization))
    }

    fn translates(&self, segments: &[Segment]) -> bool {
        self.translated(segments).is_some()
    }

    fn run<'a>(
        &'a self,
        _st: &'a AppState,
        ctx: &'a mut RequestCtx,
        req: &'a GraphRequest,
    ) -> UpFuture<'a> {
        Box::pin(async move {
            if let Some(found) = self.translated(&req.segments) {
                return self.translate(ctx, found, req).await;
            }
            let mut path = format!("/beta/{}", raw_path(&req.segments));
            if !req.query.is_empty() {
                path = format!("{path}?{}", req.query);
            }
            self.http.forward(ctx, &req.method, &path, &req.body).await
        })
    }

    fn pass_through<'a>(
        &'a self,
        req: &'a HttpRequest,
        payload: web::Payload,
        ctx: &'a RequestCtx,
    ) -> UpFuture<'a> {
        Box::pin(self.http.pass_through(req, payload, ctx))
    }
}

/// The path of parsed segments, written back (names escaped, arguments as sent).
fn raw_path(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| {
            let name = fanout::seg(&s.name).replace("%24", "$");
            match &s.args {
                Some(args) => format!("{name}({args})"),
                None => name,
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The caller as far as the gateway needs to know it when the upstream validates the token:
/// the tenant (`tid`, unverified: it only picks the configured default token, and every call
/// runs with the caller's own token) and every permission (the upstream decides).
fn unverified_principal(authorization: Option<&str>) -> Result<Principal, ApiError> {
    let token = authorization
        .and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthenticated("Access token is empty.".to_owned()))?;
    let claims: Option<Map<String, Value>> = token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let claim = |name: &str| {
        claims
            .as_ref()
            .and_then(|c| c.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let tenant = claim("tid")
        .and_then(|t| uuid::Uuid::parse_str(&t).ok())
        .map(TenantId::new)
        .ok_or_else(|| {
            ApiError::Unauthenticated(
                "Access token validation failure. The token names no tenant (tid).".to_owned(),
            )
        })?;
    let permissions = Permission::Read
        .accepted()
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    Ok(Principal::new(
        tenant,
        CallerKind::Delegated,
        claim("appid").or_else(|| claim("azp")),
        None,
        permissions,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every single-token row has its upstream translation.
    #[test]
    fn every_legacy_row_is_translated() {
        let missing: Vec<&str> = crate::legacy::routes::rows()
            .iter()
            .filter(|r| r.legacy.is_some())
            .filter(|r| handler(&r.id).is_none())
            .map(|r| r.id.as_str())
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn a_token_without_tenant_is_refused_and_one_with_a_tenant_is_the_caller() {
        assert!(unverified_principal(None).is_err());
        assert!(unverified_principal(Some("Bearer abc")).is_err());
        let tid = uuid::Uuid::new_v4();
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"tid":"{tid}","appid":"a"}}"#));
        let p = unverified_principal(Some(&format!("Bearer x.{payload}.y"))).unwrap();
        assert_eq!(p.tenant, TenantId::new(tid));
        assert!(p.require(Permission::Write).is_ok());
    }

    #[test]
    fn raw_path_writes_keys_and_functions_back() {
        let segs = crate::api::path::split(
            "deviceManagement/depOnboardingSettings('a b')/getEncryptionPublicKey()",
        )
        .unwrap();
        assert_eq!(
            raw_path(&segs),
            "deviceManagement/depOnboardingSettings('a b')/getEncryptionPublicKey()"
        );
    }
}
