//! The row type of the operation table: one [`Operation`] per Graph operation, with everything
//! the dispatcher ([`super::dispatch`]), the `OpenAPI` builder and the metrics labels need.

use actix_web::http::Method;
use futures_util::future::LocalBoxFuture;

use super::context::RequestCtx;
use super::error::ApiError;
use super::response::GraphResponse;
use crate::auth::Permission;
use crate::domain::edm::{EdmType, EntityType};
use crate::domain::ids::{IdentityId, ProfileId, SettingId, TenantId};
use crate::odata::{QueryOption, QueryOptions};
use crate::service::{Entity, ServiceError, Services};

/// HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
    /// PUT.
    Put,
}

impl Verb {
    /// Whether `method` is this verb. `HEAD` is a `GET` whose body is not sent (HTTP
    /// semantics; actix-http leaves the body out of a `HEAD` response and keeps its length).
    // GRAPH-COMPAT: the gateway answered HEAD with 405; HTTP says a server that serves GET
    // should serve HEAD (issue 13).
    pub fn is(self, method: &Method) -> bool {
        if *method == Method::HEAD {
            return self == Self::Get;
        }
        *method
            == match self {
                Self::Get => Method::GET,
                Self::Post => Method::POST,
                Self::Patch => Method::PATCH,
                Self::Delete => Method::DELETE,
                Self::Put => Method::PUT,
            }
    }
}

/// The type of one action parameter.
#[derive(Debug, Clone, Copy)]
pub enum ParamType {
    /// A primitive, enum or complex value (or a collection of them).
    Edm(EdmType),
    /// A collection of entities, e.g. importAppleDeviceIdentityList's identities.
    Entities(&'static EntityType),
}

/// One parameter of a bound action, as CSDL declares it.
#[derive(Debug, Clone, Copy)]
pub struct ActionParam {
    /// Parameter name.
    pub name: &'static str,
    /// Its type.
    pub ty: ParamType,
    /// CSDL `Nullable`.
    pub nullable: bool,
}

/// A bound action's request body.
#[derive(Debug, Clone, Copy)]
pub struct Action {
    /// The action's name.
    pub name: &'static str,
    /// Its parameters (after the binding parameter), in CSDL order.
    pub params: &'static [ActionParam],
}

/// What a request carries.
#[derive(Debug, Clone, Copy)]
pub enum Request {
    /// No body.
    None,
    /// A JSON entity of the named type (create: full; PATCH: the properties to change).
    Entity(&'static EntityType),
    /// An enrollment profile of any instantiable type (`@odata.type` required).
    AnyProfile,
    /// An action's parameters.
    Action(Action),
    /// An action without parameters: no body, `{}` or `null`.
    NoParams,
    /// A JSON body described by the named component (outside the EDM tables).
    Component(&'static str),
    /// The single-token API's importAppleDeviceIdentityList (old identity shape).
    OldImport,
}

impl Request {
    /// Whether the request invokes a bound action (its last path segment is then an operation
    /// name, matched with or without the `microsoft.graph.` namespace).
    pub fn is_action(self) -> bool {
        matches!(self, Self::Action(_) | Self::NoParams | Self::OldImport)
    }
}

/// The success status of a reply that carries a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `200 OK`.
    Ok,
    /// `201 Created` (a create).
    Created,
}

impl Status {
    /// The status code as the `OpenAPI` document writes it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ok => "200",
            Self::Created => "201",
        }
    }
}

/// Whether a `{"value": …}` reply may carry `null` (CSDL `Nullable` of a function's return).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nullable {
    /// `null` is a valid value.
    Yes,
    /// Only values of the type.
    No,
}

/// What a success looks like.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// `204 No Content`.
    NoContent,
    /// An entity of the type, with the status.
    Entity(&'static EntityType, Status),
    /// A profile of any type, with the status.
    AnyProfile(Status),
    /// `200` with a profile of any type, or `204` when the navigation is empty.
    OptionalProfile,
    /// `200` with a page of the collection whose component is named.
    Collection(&'static EntityType),
    /// `200` with a page of profiles of any type.
    ProfileCollection,
    /// `200` `text/plain` with the number of items.
    Count,
    /// `200` with `{"value": …}`.
    Value(EdmType, Nullable),
    /// The named component (outside the EDM tables), with the status.
    Component(&'static str, Status),
    /// `200` with a page of the named component (outside the EDM tables).
    ComponentCollection(&'static str),
}

/// How the dispatcher treats the query string of an operation.
#[derive(Debug, Clone, Copy)]
pub enum Query {
    /// Parsed, and refused unless every system option is one of these.
    Only(&'static [QueryOption]),
    /// Not read at all (writes and most actions: Graph ignores a query string there).
    Ignored,
    /// Like `Only`, after `lower` rewrote the raw query string (forms a resource accepts that
    /// the general parser does not, such as the audit trail's `actor/…` and `resources/any`).
    Lowered(
        &'static [QueryOption],
        fn(&str) -> Result<String, crate::odata::ODataError>,
    ),
}

impl Query {
    /// The accepted options (none when ignored).
    pub fn options(self) -> &'static [QueryOption] {
        match self {
            Self::Only(options) | Self::Lowered(options, _) => options,
            Self::Ignored => &[],
        }
    }
}

/// The path parameters of a matched request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// `{name}` keys of the template, in path order, with the caller's (unquoted) values.
    pub keys: Vec<(&'static str, String)>,
    /// The `microsoft.graph.{type}` cast segment of the template, if any.
    pub cast: Option<&'static str>,
    /// The last literal segment of the template (a navigation property's name, say).
    pub member: &'static str,
    /// The text inside a function segment's parentheses, as the caller wrote it.
    pub args: Option<String>,
}

/// `{depOnboardingSetting-id}`.
pub const SETTING_ID: &str = "depOnboardingSetting-id";
/// `{enrollmentProfile-id}`.
pub const PROFILE_ID: &str = "enrollmentProfile-id";
/// `{importedAppleDeviceIdentity-id}`.
pub const DEVICE_ID: &str = "importedAppleDeviceIdentity-id";
/// `{vppToken-id}`.
pub const VPP_TOKEN_ID: &str = "vppToken-id";
/// `{organization-id}`.
pub const ORGANIZATION_ID: &str = "organization-id";

impl Params {
    /// The value of the `{name}` key; empty when the template has none (a table error that
    /// the matcher's tests rule out).
    pub fn get(&self, name: &str) -> &str {
        self.keys
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The `{depOnboardingSetting-id}` key as a typed id (parsed here, at the edge; an unknown
    /// id is the service's `404`).
    pub fn setting(&self) -> SettingId {
        SettingId::new(self.get(SETTING_ID))
    }

    /// The `{importedAppleDeviceIdentity-id}` key as a typed id (an unknown id is the
    /// service's `404`).
    pub fn identity(&self) -> IdentityId {
        IdentityId::new(self.get(DEVICE_ID))
    }

    /// The `{enrollmentProfile-id}` key split once into token and guid. An id that is not
    /// `{token}_{guid}` names no stored profile: the same `404` as an unknown one.
    pub fn profile(&self) -> Result<ProfileId, ApiError> {
        let raw = self.get(PROFILE_ID);
        ProfileId::parse(raw).ok_or_else(|| {
            ServiceError::NotFound {
                entity: Entity::EnrollmentProfile,
                id: raw.to_owned(),
            }
            .into()
        })
    }

    /// The same parameters with `{name}` set to `value` (adapters that call another
    /// operation's handler).
    #[must_use]
    pub fn with(mut self, name: &'static str, value: &str) -> Self {
        match self.keys.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => value.clone_into(&mut slot.1),
            None => self.keys.push((name, value.to_owned())),
        }
        self
    }
}

/// Everything a handler receives: authorised, with its query options parsed and checked.
pub struct Call<'a> {
    /// The use cases.
    pub services: &'a Services,
    /// Request ids, caller and public URL.
    pub ctx: &'a RequestCtx,
    /// The caller's tenant (the caller holds the row's permission).
    pub tenant: TenantId,
    /// The query options, already limited to the row's (default when the row ignores them).
    pub query: QueryOptions,
    /// Path parameters.
    pub params: Params,
    /// The request body.
    pub body: &'a [u8],
    /// The query string as sent (function parameters may be given there, or through
    /// aliases).
    pub raw_query: &'a str,
}

/// What a handler returns.
pub type HandlerFuture<'a> = LocalBoxFuture<'a, Result<GraphResponse, ApiError>>;

/// A handler: an async function of a [`Call`], boxed so that rows can hold it.
pub type Handler = for<'a> fn(Call<'a>) -> HandlerFuture<'a>;

/// Wraps an `async fn(Call<'_>) -> Result<GraphResponse, ApiError>` as a [`Handler`].
#[macro_export]
macro_rules! handler {
    ($f:path) => {{
        fn boxed(call: $crate::api::table::Call<'_>) -> $crate::api::table::HandlerFuture<'_> {
            ::std::boxed::Box::pin($f(call))
        }
        boxed as $crate::api::table::Handler
    }};
}

/// One Graph operation.
#[derive(Clone)]
pub struct Operation {
    /// Method.
    pub verb: Verb,
    /// Path below `/beta`, with `{name}` parameters.
    pub path: String,
    /// Graph's operation id (also the label of metrics and audit events).
    pub id: String,
    /// One-line summary.
    pub summary: String,
    /// The least permission that allows it.
    pub permission: Permission,
    /// Accepted OData system query options.
    pub query: Query,
    /// Request body.
    pub request: Request,
    /// Success response.
    pub reply: Reply,
    /// Tag grouping it in the docs.
    pub tag: &'static str,
    /// Kept for old clients only (the single-token API).
    pub deprecated: bool,
    /// Whether the `OpenAPI` document lists it (false only for forms Graph serves but does not
    /// document, such as a cast to a set's own type).
    pub documented: bool,
    /// For a row of the single-token API: the segment Graph names ("Resource not found for
    /// the segment …") when the gateway runs with `legacy_api = false`.
    pub legacy: Option<&'static str>,
    /// Runs it.
    pub handler: Handler,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field("verb", &self.verb)
            .field("path", &self.path)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
