//! The `OpenAPI` 3.1 document of every served operation, built with utoipa's builder API from the
//! operation table ([`operations`]) and the EDM tables ([`catalog`]), so that what is documented
//! is what the handlers validate and render. Served at `/openapi.json`, printed by
//! `dep-gateway openapi`, committed as `openapi/openapi.json` (a test fails on drift).

pub mod legacy;
pub mod schemas;

pub use crate::api::catalog;

use std::sync::LazyLock;

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{
    AuthorizationCode, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityRequirement,
    SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    Components, ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder,
    PathsBuilder, RefOr, Required, ServerBuilder,
};

use self::schemas::{component, reference};
use crate::api::table::{Action, Operation, ParamType, Reply, Request, Verb};
use crate::auth::Permission;
use crate::domain::profiles;
use crate::odata::QueryOption;

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

/// Every documented operation: the rows of the operation table, then `$batch`.
pub fn operations() -> Vec<&'static Operation> {
    static BATCH: LazyLock<Operation> = LazyLock::new(legacy::batch_operation);
    crate::legacy::routes::rows()
        .iter()
        .chain(std::iter::once(&*BATCH))
        .collect()
}

/// Builds the document.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for op in operations() {
        paths = paths.path(format!("/beta{}", op.path), path_item(op));
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

fn security(permission: Permission) -> Vec<SecurityRequirement> {
    permission
        .accepted()
        .iter()
        .flat_map(|scope| {
            [
                SecurityRequirement::new(AZURE_AD, [*scope]),
                SecurityRequirement::new(BEARER, [*scope]),
            ]
        })
        .collect()
}

fn path_item(op: &Operation) -> PathItem {
    let method = match op.verb {
        Verb::Get => HttpMethod::Get,
        Verb::Post => HttpMethod::Post,
        Verb::Patch => HttpMethod::Patch,
        Verb::Delete => HttpMethod::Delete,
        Verb::Put => HttpMethod::Put,
    };
    let mut b = OperationBuilder::new()
        .operation_id(Some(op.id.clone()))
        .summary(Some(op.summary.clone()))
        .description(Some(if op.tag == legacy::TAG_BATCH {
            "Needs a valid token; each request in the batch is authorised on its own, with the \
             permission its operation documents (a `403` comes back inside the batch)."
                .to_owned()
        } else {
            format!(
                "Requires `{}` (or a permission that includes it).",
                op.permission.accepted()[0]
            )
        }))
        .tag(op.tag)
        .deprecated(op.deprecated.then_some(utoipa::openapi::Deprecated::True))
        .securities(Some(security(op.permission)));
    for name in path_parameters(&op.path) {
        b = b.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(match name {
                    "expiringBeforeDateTime" => {
                        "An ISO 8601 date and time (UTC), e.g. `2030-01-01T00:00:00Z`."
                    }
                    _ => "The key of the item.",
                }))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        );
    }
    for option in op.query.options() {
        b = b.parameter(query_parameter(*option));
    }
    if let Some(body) = request_body(op.request) {
        b = b.request_body(Some(body));
    }
    PathItem::new(method, b.responses(responses(op.reply)))
}

/// The `{name}` parameters of a path template, in order.
fn path_parameters(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

/// An OData system query option. `$select`, `$expand` and `$orderby` are comma-separated
/// strings (not `explode: false` arrays): generators that ignore `explode` would send one
/// parameter per item, which Graph (and the gateway) refuse as duplicates.
fn query_parameter(option: QueryOption) -> ParameterBuilder {
    let (ty, about) = match option {
        QueryOption::Select => (Type::String, "Properties to return, comma-separated."),
        QueryOption::Expand => (
            Type::String,
            "Navigation properties to include, comma-separated, or `*`.",
        ),
        QueryOption::Filter => (
            Type::String,
            "OData filter: `eq ne gt ge lt le and or not in`, `startswith endswith contains`.",
        ),
        QueryOption::OrderBy => (
            Type::String,
            "Order by property values, comma-separated (`name` or `name desc`).",
        ),
        QueryOption::Top => (Type::Integer, "Show only the first n items."),
        QueryOption::Skip => (Type::Integer, "Skip the first n items."),
        QueryOption::Count => (
            Type::Boolean,
            "Include the count of items (`@odata.count`).",
        ),
        QueryOption::Search => (Type::String, "Search items by search phrase."),
        QueryOption::SkipToken => (Type::String, "Opaque paging token from `@odata.nextLink`."),
        QueryOption::Format => (Type::String, "Response format."),
    };
    let is_integer = ty == Type::Integer;
    let mut schema = ObjectBuilder::new().schema_type(ty);
    if is_integer {
        schema = schema.minimum(Some(0));
    }
    ParameterBuilder::new()
        .name(option.name())
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(about))
        .schema(Some(schema))
}

fn json_body(schema: RefOr<utoipa::openapi::schema::Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn request_body(request: Request) -> Option<utoipa::openapi::request_body::RequestBody> {
    let (schema, required) = match request {
        Request::None => return None,
        Request::NoParams => (
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("No parameters: send no body or `{}`."))
                .into(),
            Required::False,
        ),
        Request::Entity(t) => (reference(&component(t.name)), Required::True),
        Request::AnyProfile => (reference(schemas::ANY_ENROLLMENT_PROFILE), Required::True),
        Request::Action(action) => (action_schema(action), Required::True),
        Request::Component(name) => (reference(name), Required::True),
        Request::OldImport => (legacy::old_import_parameters(), Required::True),
    };
    Some(
        RequestBodyBuilder::new()
            .required(Some(required))
            .content(JSON, json_body(schema))
            .build(),
    )
}

/// Component-free object schema of an action's parameters (every one required).
pub fn action_schema(action: Action) -> RefOr<utoipa::openapi::schema::Schema> {
    let mut b = ObjectBuilder::new()
        .schema_type(Type::Object)
        .title(Some(format!("{}Parameters", action.name)));
    for p in action.params {
        let schema = match p.ty {
            ParamType::Edm(ty) => schemas::value_schema(ty, p.nullable, None),
            ParamType::Entities(t) => ArrayBuilder::new()
                .items(reference(&component(t.name)))
                .into(),
        };
        b = b.property(p.name, schema).required(p.name);
    }
    b.into()
}

fn responses(reply: Reply) -> utoipa::openapi::Responses {
    let profile = || reference(schemas::ANY_ENROLLMENT_PROFILE);
    let ok = |description: &str, schema: RefOr<_>| {
        ResponseBuilder::new()
            .description(description)
            .content(JSON, json_body(schema))
            .build()
    };
    let no_content = || ResponseBuilder::new().description("No Content").build();
    let status = |created: bool| if created { "201" } else { "200" };
    let mut b = ResponsesBuilder::new();
    b = match reply {
        Reply::NoContent => b.response("204", no_content()),
        Reply::Entity(t, created) => b.response(
            status(created),
            ok("The entity", reference(&component(t.name))),
        ),
        Reply::AnyProfile(created) => b.response(status(created), ok("The profile", profile())),
        Reply::OptionalProfile => b
            .response("200", ok("The default profile", profile()))
            .response("204", no_content()),
        Reply::Collection(t) => b.response(
            "200",
            ok(
                "A page of the collection",
                reference(&schemas::collection_name(&component(t.name))),
            ),
        ),
        Reply::ProfileCollection => b.response(
            "200",
            ok(
                "A page of the collection",
                reference(&schemas::collection_name(&component(
                    profiles::ENROLLMENT_PROFILE.name,
                ))),
            ),
        ),
        Reply::Count => b.response(
            "200",
            ResponseBuilder::new()
                .description("The number of items")
                .content(
                    "text/plain",
                    ContentBuilder::new()
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::Integer)
                                .minimum(Some(0)),
                        ))
                        .build(),
                )
                .build(),
        ),
        Reply::Value(ty, nullable) => {
            b.response("200", ok("The result", schemas::value_result(ty, nullable)))
        }
        Reply::Component(name, created) => {
            b.response(status(created), ok("The result", reference(name)))
        }
        Reply::ComponentCollection(name) => b.response(
            "200",
            ok(
                "A page of the collection",
                reference(&schemas::collection_name(name)),
            ),
        ),
    };
    let error = ResponseBuilder::new()
        .description("A Graph error")
        .content(JSON, json_body(reference(schemas::ODATA_ERROR)))
        .build();
    b.response("4XX", error.clone())
        .response("5XX", error)
        .build()
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
