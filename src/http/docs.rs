//! The documents a tool reads, served without a token: `/openapi.json`, the interactive docs at
//! `/docs` (Swagger UI, vendored under `assets/swagger-ui/`), and the CSDL at `/beta/$metadata`.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::error::ApiError;
use super::response::{Body, GraphResponse};

/// The CSDL of the served subset (`schema/metadata.xml`).
pub const METADATA_XML: &str = include_str!("../../schema/metadata.xml");

const INDEX_HTML: &str = include_str!("../../assets/swagger-ui/index.html");

/// Vendored Swagger UI files: name, content type, content.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
    ),
    (
        "favicon-32x32.png",
        "image/png",
        include_bytes!("../../assets/swagger-ui/favicon-32x32.png"),
    ),
    (
        "LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/LICENSE"),
    ),
];

/// Registers the document routes on an actix `App`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(openapi_json))
        .route("/docs", web::get().to(docs_index))
        .route("/docs/", web::get().to(docs_index))
        .route("/docs/{file}", web::get().to(docs_asset));
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::openapi::to_json())
}

async fn docs_index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(INDEX_HTML)
}

async fn docs_asset(
    req: HttpRequest,
    file: web::Path<String>,
    st: super::SharedState,
) -> HttpResponse {
    match ASSETS.iter().find(|(name, _, _)| *name == file.as_str()) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(*body),
        None => super::graph_error_response(
            &req,
            &st.public_url,
            &ApiError::NotFound(format!("The document '{}' was not found.", file.as_str())),
        ),
    }
}

/// Whether the path below `/beta` addresses `$metadata` (any case, `%24` or trailing slash).
pub fn is_metadata(rest: &str) -> bool {
    let trimmed = rest.trim_matches('/');
    let bare = trimmed
        .strip_prefix('$')
        .or_else(|| trimmed.strip_prefix("%24"));
    bare.is_some_and(|b| b.eq_ignore_ascii_case("metadata"))
}

/// `GET /beta/$metadata`: the CSDL, anonymously.
// GRAPH-COMPAT: Graph serves $metadata without a token, as `application/xml`
// (graph-http-conventions.md §11).
pub fn metadata(method: &Method) -> Result<GraphResponse, ApiError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::MethodNotAllowed);
    }
    // `Body::Json` carries any bytes with their content type.
    Ok(GraphResponse {
        status: StatusCode::OK,
        headers: Vec::new(),
        body: Body::Json(METADATA_XML.as_bytes().to_vec(), "application/xml"),
    })
}

/// Whether the path below the version addresses the service root (`/beta`, `/beta/`).
pub fn is_service_root(rest: &str) -> bool {
    rest.trim_matches('/').is_empty()
}

/// `GET /beta/`: the OData service document — the entity sets and singletons of the container
/// in [`METADATA_XML`], so the two documents cannot disagree. Served anonymously, like
/// `$metadata`: it names only what the CSDL already publishes.
// GRAPH-COMPAT: Graph answers its service root with this document (OData JSON format §5,
// `{"@odata.context": ".../$metadata", "value": [{"name", "kind", "url"}]}`); the gateway used
// to answer 400 (issue 13).
pub fn service_document(method: &Method, public_url: &str) -> Result<GraphResponse, ApiError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::MethodNotAllowed);
    }
    let value: Vec<serde_json::Value> = container_members()
        .map(|(kind, name)| serde_json::json!({"name": name, "kind": kind, "url": name}))
        .collect();
    let body = serde_json::json!({
        "@odata.context": format!("{public_url}/beta/$metadata"),
        "value": value,
    });
    Ok(GraphResponse::json(StatusCode::OK, &body))
}

/// `(kind, name)` of each `<EntitySet>` and `<Singleton>` of the CSDL's entity container.
fn container_members() -> impl Iterator<Item = (&'static str, &'static str)> {
    let container = METADATA_XML
        .split_once("<EntityContainer")
        .map_or("", |(_, rest)| rest);
    let container = container
        .split_once("</EntityContainer>")
        .map_or(container, |(inside, _)| inside);
    container.split('<').filter_map(|element| {
        let kind = if element.starts_with("EntitySet ") {
            "EntitySet"
        } else if element.starts_with("Singleton ") {
            "Singleton"
        } else {
            return None;
        };
        let name = element.split_once("Name=\"")?.1.split_once('"')?.0;
        Some((kind, name))
    })
}

#[cfg(test)]
mod tests {
    use super::{container_members, is_metadata};

    #[test]
    fn the_service_document_lists_the_containers_members() {
        let members: Vec<_> = container_members().collect();
        assert!(
            members.contains(&("Singleton", "deviceManagement")),
            "{members:?}"
        );
        assert!(
            members.contains(&("Singleton", "deviceAppManagement")),
            "{members:?}"
        );
    }

    #[test]
    fn recognises_metadata_spellings() {
        for path in ["$metadata", "$METADATA/", "%24metadata", "$Metadata"] {
            assert!(is_metadata(path), "{path}");
        }
        for path in ["metadata", "$metadata/x", "deviceManagement", "$metadatas"] {
            assert!(!is_metadata(path), "{path}");
        }
    }
}
