//! One path item of the document per row of the operation table: security from the row's
//! permission, parameters from its template and query options, body and responses from its
//! request/reply description.

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, RefOr, Required};

use super::schemas::{self, component, reference};
use super::{AZURE_AD, BEARER, JSON, legacy};
use crate::api::table::{Action, Nullable, Operation, ParamType, Reply, Request, Verb};
use crate::auth::Permission;
use crate::domain::profiles;
use crate::odata::QueryOption;

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

pub(super) fn path_item(op: &Operation) -> PathItem {
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
            ParamType::Edm(ty) => {
                schemas::value_schema(ty, schemas::Null::allowed_if(p.nullable), None)
            }
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
    let mut b = ResponsesBuilder::new();
    b = match reply {
        Reply::NoContent => b.response("204", no_content()),
        Reply::Entity(t, status) => b.response(
            status.code(),
            ok("The entity", reference(&component(t.name))),
        ),
        Reply::AnyProfile(status) => b.response(status.code(), ok("The profile", profile())),
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
        Reply::Value(ty, nullable) => b.response(
            "200",
            ok(
                "The result",
                schemas::value_result(ty, schemas::Null::allowed_if(nullable == Nullable::Yes)),
            ),
        ),
        Reply::Component(name, status) => {
            b.response(status.code(), ok("The result", reference(name)))
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
