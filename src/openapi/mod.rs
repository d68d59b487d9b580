//! The `OpenAPI` 3.1 document of every served operation, built with utoipa's builder API from the
//! operation table ([`operations`]) and the EDM tables ([`catalog`]), so that what is documented
//! is what the handlers validate and render. Served at `/openapi.json`, printed by
//! `dep-gateway openapi`, committed as `openapi/openapi.json` (a test fails on drift).

mod audit;
pub mod legacy;
mod paths;
pub mod schemas;

pub use self::paths::action_schema;

pub use crate::api::catalog;

use std::sync::LazyLock;

use utoipa::openapi::security::{
    AuthorizationCode, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    Components, ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder,
    ServerBuilder,
};

use crate::api::table::Operation;

/// Where the committed copy lives, relative to the repository root.
pub const COMMITTED_PATH: &str = "openapi/openapi.json";

const JSON: &str = "application/json";
const BEARER: &str = "bearer";
const AZURE_AD: &str = "azureAd";
const READ_SCOPE: &str = "DeviceManagementServiceConfig.Read.All";
const READ_WRITE_SCOPE: &str = "DeviceManagementServiceConfig.ReadWrite.All";

/// The document as pretty JSON with a final newline (the form committed and served).
pub fn to_json() -> &'static str {
    static JSON_TEXT: LazyLock<String> = LazyLock::new(|| {
        let mut text = document()
            .to_pretty_json()
            .expect("the OpenAPI document serialises");
        text.push('\n');
        text
    });
    &JSON_TEXT
}

/// Every documented operation: the documented rows of the operation table, then `$batch`.
pub fn operations() -> Vec<&'static Operation> {
    static BATCH: LazyLock<Operation> = LazyLock::new(legacy::batch_operation);
    crate::legacy::routes::rows()
        .iter()
        .filter(|op| op.documented)
        .chain(std::iter::once(&*BATCH))
        .collect()
}

/// Builds the document.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for op in operations() {
        paths = paths.path(format!("/beta{}", op.path), paths::path_item(op));
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("dep-gateway: Microsoft Graph beta for Apple DEP")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION)),
        )
        .servers(Some([ServerBuilder::new()
            .url("/")
            .description(Some("This gateway (paths start with /beta)"))
            .build()]))
        .paths(paths)
        .components(Some(components()))
        .tags(Some(tags()))
        .build()
}

const DESCRIPTION: &str = "The Microsoft Graph beta API for Apple Automated Device Enrollment \
(depOnboardingSettings, enrollmentProfiles, importedAppleDeviceIdentities, their bound actions \
and functions, and deviceAppManagement/vppTokens), as served by dep-gateway. Names, types and \
operation ids are Graph's. Graph conventions apply everywhere: case-insensitive path segments, \
`('{id}')` keys, `microsoft.graph.`-qualified operation names, `$`-less query option names, and \
the error envelope `{\"error\":{\"code\",\"message\",\"innerError\"}}`. The OData CSDL of the \
same types is at `/beta/$metadata`.";

fn tags() -> Vec<utoipa::openapi::Tag> {
    [
        (
            "deviceManagement.deviceManagement",
            "The deviceManagement singleton",
        ),
        (
            "deviceManagement.depOnboardingSetting",
            "Apple DEP onboarding settings (server tokens)",
        ),
        (
            "deviceManagement.depOnboardingSetting.enrollmentProfile",
            "Enrollment profiles of a token",
        ),
        (
            "deviceManagement.depOnboardingSetting.importedAppleDeviceIdentity",
            "Device serial numbers of a token",
        ),
        ("deviceAppManagement.vppToken", "Apple VPP content tokens"),
        (
            "deviceManagement.auditEvent",
            "The audit trail: who changed what (also served on /v1.0)",
        ),
        (
            legacy::TAG_LEGACY,
            "The retired single-token API (deprecated; translated onto the multi-token model)",
        ),
        (
            legacy::TAG_GATEWAY,
            "The gateway's own resources (not Graph entities)",
        ),
        (legacy::TAG_BATCH, "JSON batching"),
    ]
    .into_iter()
    .map(|(name, about)| {
        TagBuilder::new()
            .name(name)
            .description(Some(about))
            .build()
    })
    .collect()
}

fn components() -> Components {
    let scopes = || {
        Scopes::from_iter([
            (READ_SCOPE, "Read Microsoft Intune configuration"),
            (
                "DeviceManagementApps.Read.All",
                "Read Microsoft Intune apps (and the audit trail)",
            ),
            (
                "DeviceManagementApps.ReadWrite.All",
                "Read and write Microsoft Intune apps",
            ),
            (
                READ_WRITE_SCOPE,
                "Read and write Microsoft Intune configuration",
            ),
        ])
    };
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("JWT")
        .description(Some(
            "An Entra ID (or development authority) access token for the gateway's audience. \
             The permission is read from `scp` (delegated) or `roles` (app-only).",
        ))
        .build();
    let oauth = OAuth2::with_description(
        [Flow::AuthorizationCode(AuthorizationCode::new(
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
            "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            scopes(),
        ))],
        "Microsoft identity platform (Entra ID) delegated tokens.",
    );
    let mut b = ComponentsBuilder::new()
        .security_scheme(BEARER, SecurityScheme::Http(bearer))
        .security_scheme(AZURE_AD, SecurityScheme::OAuth2(oauth));
    b = schemas::components(b);
    b.build()
}

/// Every EDM type name (unqualified) the document declares a component for.
pub fn declared_types() -> Vec<&'static str> {
    let mut names: Vec<&str> = catalog::entity_types().iter().map(|t| t.name).collect();
    names.extend(catalog::complex_types().iter().map(|c| c.name));
    names.extend(catalog::enum_types().iter().map(|e| e.name));
    names
}

#[cfg(test)]
mod tests {
    use super::schemas::component;
    use super::*;

    #[test]
    fn operation_ids_are_unique_and_every_path_method_is_documented_once() {
        let ops = operations();
        let mut ids: Vec<&str> = ops.iter().map(|o| o.id.as_str()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate operation ids");
        let mut keys: Vec<String> = ops
            .iter()
            .map(|o| format!("{:?} {}", o.verb, o.path))
            .collect();
        keys.sort();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len(), "an operation is listed twice");
    }

    #[test]
    fn the_document_is_deterministic_and_names_every_type() {
        assert_eq!(document().to_pretty_json().unwrap(), to_json().trim_end());
        let doc: serde_json::Value = serde_json::from_str(to_json()).unwrap();
        for name in declared_types() {
            assert!(
                doc["components"]["schemas"][component(name)].is_object(),
                "{name} has no schema"
            );
        }
        assert_eq!(
            doc["components"]["schemas"][schemas::ANY_ENROLLMENT_PROFILE]["discriminator"]["propertyName"],
            "@odata.type"
        );
    }
}
