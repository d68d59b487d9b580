//! Graph response building: JSON bodies with `@odata.context`, collections with
//! `@odata.count` and an absolute `@odata.nextLink`, `$select` projection, `/$count` text.

use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

use super::context::RequestCtx;
use super::error::ApiError;
use crate::odata::{EntitySpec, QueryOption, QueryOptions, resolve_select};
use crate::service::paging::Page;

/// Content type of successful JSON bodies, as Graph sends it.
pub const ODATA_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// A response body.
#[derive(Debug)]
pub enum Body {
    /// No body (204).
    Empty,
    /// A JSON document and its content type.
    Json(Vec<u8>, &'static str),
    /// Plain text (`/$count`).
    Text(String),
    /// A body streamed from an upstream Graph service (upstream mode's pass-through).
    Stream(StreamBody),
}

/// The chunks of a streamed body.
pub type ByteStream = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<actix_web::web::Bytes, std::io::Error>>>,
>;

/// A streamed body and its content type.
pub struct StreamBody {
    /// `Content-Type` as the upstream sent it.
    pub content_type: Option<String>,
    /// The chunks.
    pub stream: ByteStream,
}

impl std::fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamBody")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// A Graph response before the common headers are added.
#[derive(Debug)]
pub struct GraphResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Extra headers of this response.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Body,
}

impl GraphResponse {
    fn new(status: StatusCode, body: Body) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// 204 without a body.
    pub fn no_content() -> Self {
        Self::new(StatusCode::NO_CONTENT, Body::Empty)
    }

    /// A JSON success body.
    pub fn json(status: StatusCode, value: &Value) -> Self {
        Self::new(
            status,
            Body::Json(serde_json::to_vec(value).unwrap_or_default(), ODATA_JSON),
        )
    }

    /// A JSON success body serialised straight from a typed value.
    pub fn serialized<T: Serialize>(status: StatusCode, value: &T) -> Self {
        Self::new(
            status,
            Body::Json(serde_json::to_vec(value).unwrap_or_default(), ODATA_JSON),
        )
    }

    /// A JSON error body (plain `application/json`, as Graph sends errors).
    pub fn error_json(status: StatusCode, value: &Value) -> Self {
        Self::new(
            status,
            Body::Json(
                serde_json::to_vec(value).unwrap_or_default(),
                "application/json",
            ),
        )
    }

    /// A streamed body with `status` (upstream mode's pass-through).
    pub fn stream(status: StatusCode, body: StreamBody) -> Self {
        Self::new(status, Body::Stream(body))
    }

    /// An error body written elsewhere (an upstream Graph service's envelope), sent as is.
    pub fn error_bytes(status: StatusCode, body: Vec<u8>) -> Self {
        Self::new(status, Body::Json(body, "application/json"))
    }

    /// `200 text/plain` with a bare integer, for `/$count`.
    pub fn count(n: i64) -> Self {
        Self::new(StatusCode::OK, Body::Text(n.to_string()))
    }
}

/// Resolves `$select` against the entity's properties (case-insensitively) into their
/// canonical names; `None` when absent.
pub fn selected(
    q: &QueryOptions,
    spec: &EntitySpec,
) -> Result<Option<Vec<&'static str>>, ApiError> {
    let Some(names) = &q.select else {
        return Ok(None);
    };
    let fields = resolve_select(names, spec)?;
    Ok(Some(fields.iter().map(|f| f.name).collect()))
}

/// Serialises `item` with its `@odata.type` first (given, or the item's own for polymorphic
/// sets), keeping only `select`ed properties and annotations.
fn render_item<T: Serialize>(
    item: &T,
    odata_type: Option<&str>,
    select: Option<&[&str]>,
) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(t) = odata_type {
        out.insert("@odata.type".to_owned(), Value::String(t.to_owned()));
    }
    if let Ok(Value::Object(props)) = serde_json::to_value(item) {
        for (k, v) in props {
            if k.starts_with('@') || select.is_none_or(|s| s.contains(&k.as_str())) {
                out.insert(k, v);
            }
        }
    }
    out
}

/// What a `@odata.context` URL describes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// One entity (`…/$entity`).
    Entity,
    /// A collection.
    Collection,
}

fn context_url(ctx: &RequestCtx, path: &str, select: Option<&[&str]>, of: Context) -> String {
    let mut url = format!("{}/beta/$metadata#{path}", ctx.public_url);
    if let Some(s) = select {
        url.push('(');
        url.push_str(&s.join(","));
        url.push(')');
    }
    if of == Context::Entity {
        url.push_str("/$entity");
    }
    url
}

/// A single entity: `@odata.context` `…#{set_path}/$entity`.
pub fn entity<T: Serialize>(
    ctx: &RequestCtx,
    status: StatusCode,
    set_path: &str,
    odata_type: Option<&str>,
    item: &T,
    select: Option<&[&str]>,
) -> GraphResponse {
    entity_expanded(
        ctx,
        status,
        set_path,
        odata_type,
        item,
        select,
        &Expanded::default(),
    )
}

/// `$expand`ed navigations of the items of a response: their `@odata.context` projection
/// items (`name()`, `name(id,…)`) and, per item in order, `(navigation, value)` pairs.
#[derive(Debug, Default)]
pub struct Expanded {
    /// Projection items for the context URL, in `$expand` order.
    pub context: Vec<String>,
    /// Per item: the expanded values, appended after the item's own properties.
    pub values: Vec<Vec<(&'static str, Value)>>,
}

/// The projection of a context URL: selected properties, then expanded navigations.
fn projection(select: Option<&[&str]>, navs: &[String]) -> Option<Vec<String>> {
    (select.is_some() || !navs.is_empty()).then(|| {
        select
            .unwrap_or_default()
            .iter()
            .map(|s| (*s).to_owned())
            .chain(navs.iter().cloned())
            .collect()
    })
}

/// `@odata.context`, `@odata.type` (when given), then the item's own properties.
#[derive(Serialize)]
struct EntityBody<'a, T> {
    #[serde(rename = "@odata.context")]
    context: String,
    #[serde(rename = "@odata.type", skip_serializing_if = "Option::is_none")]
    odata_type: Option<&'a str>,
    #[serde(flatten)]
    item: &'a T,
}

/// A single entity with `$expand`ed navigations appended; the context URL lists them as
/// `name()` (or `name(selected)`) after the selected properties, as Graph does.
pub fn entity_expanded<T: Serialize>(
    ctx: &RequestCtx,
    status: StatusCode,
    set_path: &str,
    odata_type: Option<&str>,
    item: &T,
    select: Option<&[&str]>,
    expanded: &Expanded,
) -> GraphResponse {
    let projection = projection(select, &expanded.context);
    let projection: Option<Vec<&str>> = projection
        .as_ref()
        .map(|p| p.iter().map(String::as_str).collect());
    let context = context_url(ctx, set_path, projection.as_deref(), Context::Entity);
    let values = expanded.values.first().cloned().unwrap_or_default();
    if select.is_none() && values.is_empty() {
        // The common case, serialised straight from the typed item (no intermediate JSON tree).
        let body = EntityBody {
            context,
            odata_type,
            item,
        };
        return GraphResponse::serialized(status, &body);
    }
    let mut body = Map::new();
    body.insert("@odata.context".to_owned(), Value::String(context));
    body.extend(render_item(item, odata_type, select));
    body.extend(
        values
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value)),
    );
    GraphResponse::json(status, &Value::Object(body))
}

/// A collection page: `@odata.context`, `@odata.count`, `value`, absolute `@odata.nextLink`.
pub fn collection<T: Serialize>(
    ctx: &RequestCtx,
    set_path: &str,
    odata_type: Option<&str>,
    page: &Page<T>,
    q: &QueryOptions,
    select: Option<&[&str]>,
) -> GraphResponse {
    collection_expanded(
        ctx,
        set_path,
        odata_type,
        page,
        q,
        select,
        Expanded::default(),
    )
}

/// A collection page whose items carry `$expand`ed navigations (`expanded.values` holds one
/// entry per item, in page order).
pub fn collection_expanded<T: Serialize>(
    ctx: &RequestCtx,
    set_path: &str,
    odata_type: Option<&str>,
    page: &Page<T>,
    q: &QueryOptions,
    select: Option<&[&str]>,
    expanded: Expanded,
) -> GraphResponse {
    let projection = projection(select, &expanded.context);
    let projection: Option<Vec<&str>> = projection
        .as_ref()
        .map(|p| p.iter().map(String::as_str).collect());
    let mut body = Map::new();
    body.insert(
        "@odata.context".to_owned(),
        Value::String(context_url(
            ctx,
            set_path,
            projection.as_deref(),
            Context::Collection,
        )),
    );
    if let Some(count) = page.count {
        body.insert("@odata.count".to_owned(), Value::from(count));
    }
    let mut navs = expanded.values.into_iter();
    let items = page.items.iter().map(|i| {
        let mut item = render_item(i, odata_type, select);
        for (name, value) in navs.next().unwrap_or_default() {
            item.insert(name.to_owned(), value);
        }
        Value::Object(item)
    });
    body.insert("value".to_owned(), Value::Array(items.collect()));
    if let Some(token) = &page.skiptoken {
        body.insert(
            "@odata.nextLink".to_owned(),
            Value::String(next_link(ctx, set_path, q, token)),
        );
    }
    GraphResponse::json(StatusCode::OK, &Value::Object(body))
}

/// GRAPH-COMPAT: clients follow nextLink verbatim and need it absolute, on the gateway's public
/// origin, without `{` or `}` (graph-http-conventions.md §5).
fn next_link(ctx: &RequestCtx, set_path: &str, q: &QueryOptions, token: &str) -> String {
    let kept = q.to_query_string_without(&[QueryOption::SkipToken, QueryOption::Skip]);
    let sep = if kept.is_empty() { "" } else { "&" };
    format!(
        "{}/beta/{set_path}?{kept}{sep}$skiptoken={token}",
        ctx.public_url
    )
}

/// `{"@odata.context": "…#Edm.String", "value": …}`, a function's primitive result.
pub fn primitive(ctx: &RequestCtx, value: &Value) -> GraphResponse {
    let edm = match value {
        Value::Number(_) => "Edm.Int32",
        Value::Bool(_) => "Edm.Boolean",
        _ => "Edm.String",
    };
    GraphResponse::json(
        StatusCode::OK,
        &serde_json::json!({"@odata.context": format!("{}/beta/$metadata#{edm}", ctx.public_url), "value": value}),
    )
}
