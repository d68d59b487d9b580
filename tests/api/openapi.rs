//! The documents tools read: the committed `OpenAPI` document equals the generated one, the CSDL
//! in `schema/` agrees with the `OpenAPI` document and the Rust EDM tables in both directions,
//! and the gateway serves both (and the interactive docs) without a token.

use std::collections::{BTreeMap, BTreeSet};

use dep_gateway::domain::edm::{ComplexType, EntityType, EnumType, Property};
use dep_gateway::openapi::{self, catalog, operations};
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{Backend, READ, TestApp, assert_graph_error};
use crate::on_both_backends;

const REGENERATE: &str = "cargo run -q -- openapi > openapi/openapi.json";

fn repo_file(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
}

fn document() -> Value {
    serde_json::from_str(openapi::to_json()).expect("the document is JSON")
}

#[test]
fn committed_openapi_document_is_the_generated_one() {
    let committed = repo_file(openapi::COMMITTED_PATH);
    if committed != openapi::to_json() {
        let line = committed
            .lines()
            .zip(openapi::to_json().lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| "the end".to_owned(), |n| format!("line {}", n + 1));
        panic!(
            "{} differs from the generated document (first difference at {line}); \
             regenerate it with `{REGENERATE}` and commit it",
            openapi::COMMITTED_PATH
        );
    }
}

#[test]
fn every_operation_is_documented_with_permission_errors_and_graph_ids() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let table = operations::operations();
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, table.len());
    for op in &table {
        let method = format!("{:?}", op.verb).to_ascii_lowercase();
        let o = &paths[&format!("/beta{}", op.path)][&method];
        assert_eq!(o["operationId"], op.id.as_str());
        let scopes: Vec<&str> = o["security"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_object().unwrap().values())
            .flat_map(|s| s.as_array().unwrap().iter().map(|v| v.as_str().unwrap()))
            .collect();
        assert!(
            scopes.contains(&op.permission.accepted()[0]),
            "{}: {scopes:?}",
            op.id
        );
        assert_eq!(
            o["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/microsoft.graph.ODataErrors.ODataError"
        );
    }
    // Graph's own ids from the published documents, spot-checked.
    let list = &paths["/beta/deviceManagement/depOnboardingSettings"]["get"];
    assert_eq!(
        list["operationId"],
        "deviceManagement_ListDepOnboardingSetting"
    );
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for option in [
        "$select",
        "$filter",
        "$orderby",
        "$top",
        "$skip",
        "$count",
        "$skiptoken",
    ] {
        assert!(names.contains(&option), "{option} missing: {names:?}");
    }
    let export = &paths["/beta/deviceManagement/depOnboardingSettings/{depOnboardingSetting-id}/enrollmentProfiles/{enrollmentProfile-id}/exportMobileConfig()"]
        ["get"];
    assert_eq!(
        export["operationId"],
        "deviceManagement.depOnboardingSetting.enrollmentProfile_exportMobileConfig"
    );
    let create_profile = &paths["/beta/deviceManagement/depOnboardingSettings/{depOnboardingSetting-id}/enrollmentProfiles"]
        ["post"];
    let union = create_profile["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let union = &doc["components"]["schemas"][&union];
    assert_eq!(union["discriminator"]["propertyName"], "@odata.type");
    assert_eq!(union["oneOf"].as_array().unwrap().len(), 6);
    assert_eq!(
        union["discriminator"]["mapping"]["#microsoft.graph.depIOSEnrollmentProfile"],
        "#/components/schemas/microsoft.graph.depIOSEnrollmentProfile"
    );
}

// --- CSDL ------------------------------------------------------------------------------------

/// A CSDL type name in the `microsoft.graph.` form (`graph.x` and `Collection(graph.x)` too).
fn qualified(csdl: &str) -> String {
    match csdl.strip_prefix("Collection(") {
        Some(inner) => format!("Collection({})", qualified(inner.trim_end_matches(')'))),
        None => match csdl.strip_prefix("graph.") {
            Some(name) => format!("microsoft.graph.{name}"),
            None => csdl.to_owned(),
        },
    }
}

#[derive(Debug, Default)]
struct Csdl {
    enums: BTreeMap<String, Vec<String>>,
    /// name → (property name → (type, nullable)).
    complex: BTreeMap<String, BTreeMap<String, (String, bool)>>,
    /// name → (base, abstract, properties, navigations).
    entities: BTreeMap<String, CsdlEntity>,
    /// name → (is action, parameters after the binding parameter).
    operations: BTreeMap<String, (bool, Vec<String>)>,
    singletons: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct CsdlEntity {
    base: Option<String>,
    is_abstract: bool,
    properties: BTreeMap<String, (String, bool)>,
    navigations: BTreeSet<String>,
}

fn properties(node: roxmltree::Node) -> BTreeMap<String, (String, bool)> {
    node.children()
        .filter(|c| c.has_tag_name("Property"))
        .map(|p| {
            (
                p.attribute("Name").unwrap().to_owned(),
                (
                    qualified(p.attribute("Type").unwrap()),
                    p.attribute("Nullable") != Some("false"),
                ),
            )
        })
        .collect()
}

fn parse_csdl() -> Csdl {
    let text = repo_file("schema/metadata.xml");
    let xml = roxmltree::Document::parse(&text).expect("schema/metadata.xml is XML");
    let schema = xml
        .descendants()
        .find(|n| n.has_tag_name("Schema"))
        .expect("a Schema element");
    assert_eq!(schema.attribute("Namespace"), Some("microsoft.graph"));
    let mut csdl = Csdl::default();
    for node in schema.children().filter(roxmltree::Node::is_element) {
        let name = node.attribute("Name").unwrap_or_default().to_owned();
        match node.tag_name().name() {
            "EnumType" => {
                let members = node
                    .children()
                    .filter(|c| c.has_tag_name("Member"))
                    .map(|m| m.attribute("Name").unwrap().to_owned())
                    .collect();
                csdl.enums.insert(name, members);
            }
            "ComplexType" => {
                csdl.complex.insert(name, properties(node));
            }
            "EntityType" => {
                let entity = CsdlEntity {
                    base: node.attribute("BaseType").map(qualified),
                    is_abstract: node.attribute("Abstract") == Some("true"),
                    properties: properties(node),
                    navigations: node
                        .children()
                        .filter(|c| c.has_tag_name("NavigationProperty"))
                        .map(|n| n.attribute("Name").unwrap().to_owned())
                        .collect(),
                };
                csdl.entities.insert(name, entity);
            }
            kind @ ("Action" | "Function") => {
                let params = node
                    .children()
                    .filter(|c| c.has_tag_name("Parameter"))
                    .map(|p| p.attribute("Name").unwrap().to_owned())
                    .filter(|p| p != "bindingParameter")
                    .collect();
                csdl.operations.insert(name, (kind == "Action", params));
            }
            "EntityContainer" => {
                for s in node.children().filter(|c| c.has_tag_name("Singleton")) {
                    csdl.singletons.insert(
                        s.attribute("Name").unwrap().to_owned(),
                        qualified(s.attribute("Type").unwrap()),
                    );
                }
            }
            other => panic!("unexpected CSDL element {other}"),
        }
    }
    csdl
}

fn rust_properties(props: &[Property]) -> BTreeMap<String, (String, bool)> {
    props
        .iter()
        .map(|p| (p.name.to_owned(), (p.ty.name(), p.nullable)))
        .collect()
}

fn schema_properties(doc: &Value, name: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][format!("microsoft.graph.{name}")]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no OpenAPI schema for {name}"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn csdl_enums_match_the_rust_tables_and_the_openapi_document() {
    let csdl = parse_csdl();
    let doc = document();
    let rust: BTreeMap<&str, &EnumType> = catalog::enum_types()
        .into_iter()
        .map(|e| (e.name, e))
        .collect();
    for (name, members) in &csdl.enums {
        let table = rust
            .get(name.as_str())
            .unwrap_or_else(|| panic!("CSDL enum {name} has no Rust table"));
        assert_eq!(&table.members.to_vec(), members, "members of {name}");
        let served: Vec<&str> =
            doc["components"]["schemas"][format!("microsoft.graph.{name}")]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("no OpenAPI enum for {name}"))
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
        assert_eq!(&served, members, "OpenAPI members of {name}");
    }
    for name in rust.keys() {
        assert!(
            csdl.enums.contains_key(*name),
            "Rust enum {name} is not in the CSDL"
        );
    }
}

#[test]
fn csdl_complex_types_match_the_rust_tables_and_the_openapi_document() {
    let csdl = parse_csdl();
    let doc = document();
    let rust: BTreeMap<&str, &ComplexType> = catalog::complex_types()
        .into_iter()
        .map(|c| (c.name, c))
        .collect();
    for (name, props) in &csdl.complex {
        let table = rust
            .get(name.as_str())
            .unwrap_or_else(|| panic!("CSDL complex type {name} has no Rust table"));
        assert_eq!(
            &rust_properties(table.properties),
            props,
            "properties of {name}"
        );
        let keys: BTreeSet<String> = props.keys().cloned().collect();
        assert_eq!(
            schema_properties(&doc, name),
            keys,
            "OpenAPI properties of {name}"
        );
    }
    for name in rust.keys() {
        assert!(
            csdl.complex.contains_key(*name),
            "Rust complex type {name} is not in the CSDL"
        );
    }
}

#[test]
fn csdl_entity_types_match_the_rust_tables_and_the_openapi_document() {
    let csdl = parse_csdl();
    let doc = document();
    let rust: BTreeMap<&str, &EntityType> = catalog::entity_types()
        .into_iter()
        .map(|t| (t.name, t))
        .collect();
    let root = &csdl.entities["entity"];
    assert!(root.is_abstract && root.properties.contains_key("id"));
    for (name, entity) in csdl.entities.iter().filter(|(n, _)| *n != "entity") {
        let table = rust
            .get(name.as_str())
            .unwrap_or_else(|| panic!("CSDL entity type {name} has no Rust table"));
        let base = table.base.map_or(
            "microsoft.graph.entity".to_owned(),
            EntityType::qualified_name,
        );
        assert_eq!(
            entity.base.as_deref(),
            Some(base.as_str()),
            "base of {name}"
        );
        assert_eq!(entity.is_abstract, table.is_abstract, "Abstract of {name}");
        assert_eq!(
            &rust_properties(table.properties),
            &entity.properties,
            "declared properties of {name}"
        );
        let navigations: BTreeSet<String> =
            table.navigations.iter().map(|n| (*n).to_owned()).collect();
        assert_eq!(navigations, entity.navigations, "navigations of {name}");
        // OpenAPI: every structural property, inherited ones included, plus id and @odata.type.
        let mut expected: BTreeSet<String> = ["@odata.type", "id"].map(str::to_owned).into();
        let mut current = Some(name.as_str());
        while let Some(n) = current {
            let e = &csdl.entities[n];
            expected.extend(e.properties.keys().filter(|k| *k != "id").cloned());
            current = e
                .base
                .as_deref()
                .and_then(|b| b.strip_prefix("microsoft.graph."));
            if current == Some("entity") {
                current = None;
            }
        }
        assert_eq!(
            schema_properties(&doc, name),
            expected,
            "OpenAPI properties of {name}"
        );
    }
    for name in rust.keys() {
        assert!(
            csdl.entities.contains_key(*name),
            "Rust entity type {name} is not in the CSDL"
        );
    }
}

#[test]
fn every_openapi_type_is_in_the_csdl() {
    let csdl = parse_csdl();
    let doc = document();
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        let Some(bare) = name.strip_prefix("microsoft.graph.") else {
            panic!("component {name} is outside microsoft.graph");
        };
        if bare.ends_with("CollectionResponse")
            || bare.starts_with("ODataErrors.")
            || bare == "enrollmentProfile.anyType"
        {
            continue;
        }
        assert!(
            csdl.enums.contains_key(bare)
                || csdl.complex.contains_key(bare)
                || csdl.entities.contains_key(bare),
            "OpenAPI component {name} is not a CSDL type"
        );
    }
}

/// The bound operation a path ends with, without `microsoft.graph.`, `()` or arguments.
fn operation_segment(path: &str) -> &str {
    let last = path.rsplit('/').next().unwrap();
    last.split('(').next().unwrap()
}

#[test]
fn csdl_operations_are_the_documented_ones_with_their_parameters() {
    let csdl = parse_csdl();
    let doc = document();
    let paths = doc["paths"].as_object().unwrap();
    for (name, (is_action, params)) in &csdl.operations {
        let method = if *is_action { "post" } else { "get" };
        let (path, op) = paths
            .iter()
            .find(|(p, item)| operation_segment(p) == name && item[method].is_object())
            .unwrap_or_else(|| panic!("CSDL operation {name} is not documented as {method}"));
        let body = &op[method]["requestBody"]["content"]["application/json"]["schema"];
        let documented: Vec<String> = body["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        if *is_action {
            assert_eq!(&documented, params, "parameters of {name}");
        } else {
            // A function has no body; its parameters are in its path: name='{name}'.
            assert!(documented.is_empty(), "{name} documents a body");
            for p in params {
                assert!(
                    path.contains(&format!("{p}=")),
                    "{name} lacks {p} in {path}"
                );
            }
        }
    }
    // The reverse: every documented path segment after a key is a CSDL operation, navigation,
    // `$count` or a type cast.
    let navigations: BTreeSet<&str> = csdl
        .entities
        .values()
        .flat_map(|e| e.navigations.iter().map(String::as_str))
        .collect();
    for path in paths.keys() {
        let mut segments = path.trim_start_matches("/beta/").split('/');
        let first = segments.next().unwrap();
        assert!(
            csdl.singletons.contains_key(first),
            "{path} starts outside the container"
        );
        for seg in segments {
            let bare = seg.split('(').next().unwrap();
            let known = seg.starts_with('{')
                || seg == "$count"
                || navigations.contains(bare)
                || csdl.operations.contains_key(bare)
                || seg
                    .strip_prefix("microsoft.graph.")
                    .is_some_and(|t| csdl.entities.contains_key(t));
            assert!(known, "segment {seg} of {path} is not in the CSDL");
        }
    }
}

// --- Served ----------------------------------------------------------------------------------

async fn documents_are_served_without_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anon = reqwest::Client::new();

    let resp = anon
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(resp.text().await.unwrap(), openapi::to_json());

    for spelling in ["/beta/$metadata", "/beta/%24metadata", "/BETA/$Metadata/"] {
        let resp = anon
            .get(format!("{}{spelling}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{spelling}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/xml",
            "{spelling}"
        );
        assert!(resp.headers().contains_key("request-id"));
        assert_eq!(resp.text().await.unwrap(), repo_file("schema/metadata.xml"));
    }
    let resp = anon
        .post(format!("{}/beta/$metadata", app.base))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 405, "Request_BadRequest").await;

    let resp = anon.get(format!("{}/docs", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("/docs/swagger-ui-bundle.js") && html.contains("/openapi.json"));
    for (asset, kind) in [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
    ] {
        let resp = anon
            .get(format!("{}/docs/{asset}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{asset}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        assert!(
            resp.bytes().await.unwrap().len() > 10_000,
            "{asset} is the real file"
        );
    }
    let resp = anon
        .get(format!("{}/docs/secrets.txt", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // The API itself still wants a token.
    let resp = anon
        .get(format!(
            "{}/beta/deviceManagement/depOnboardingSettings",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    // And a token holder sees the same metadata.
    let resp = app
        .request(Method::GET, "/beta/$metadata")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// Each documented operation reaches a handler (no 404-for-segment, 405 or 501), wants a token,
/// and enforces exactly the documented permission: a read-only token is refused (403) by the
/// operations documented as needing `ReadWrite` and accepted by the others.
async fn every_documented_operation_is_served_with_its_permission(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let read_only = app.token_for(app.tenant, &[READ]);
    let anon = reqwest::Client::new();
    for op in operations::operations() {
        let path = op
            .path
            .replace("{expiringBeforeDateTime}", "2030-01-01T00:00:00Z")
            .replace(
                "{depOnboardingSetting-id}",
                &uuid::Uuid::new_v4().to_string(),
            )
            .replace("{enrollmentProfile-id}", "p1")
            .replace("{importedAppleDeviceIdentity-id}", "d1")
            .replace("{vppToken-id}", &uuid::Uuid::new_v4().to_string());
        let url = format!("{}/beta{path}", app.base);
        let method =
            Method::from_bytes(format!("{:?}", op.verb).to_ascii_uppercase().as_bytes()).unwrap();
        let send = |req: reqwest::RequestBuilder| async {
            let req = if matches!(op.verb, operations::Verb::Post | operations::Verb::Patch) {
                req.header("content-type", "application/json").body("{}")
            } else {
                req
            };
            req.send().await.unwrap()
        };
        let resp = send(anon.request(method.clone(), &url)).await;
        assert_eq!(resp.status(), 401, "{} without a token", op.id);
        let resp = send(anon.request(method.clone(), &url).bearer_auth(&read_only)).await;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        assert!(
            ![405, 501].contains(&status),
            "{} {path}: {status} {body}",
            op.id
        );
        assert!(
            !body.contains("Resource not found for the segment"),
            "{}: {body}",
            op.id
        );
        if op.permission == dep_gateway::auth::Permission::Write {
            assert_eq!(
                status, 403,
                "{} is documented as needing ReadWrite: {body}",
                op.id
            );
        } else {
            assert_ne!(
                status, 403,
                "{} is documented as allowed with Read: {body}",
                op.id
            );
        }
    }
}

on_both_backends!(
    documents_are_served_without_a_token,
    every_documented_operation_is_served_with_its_permission
);
