//! The documents tools read: the committed `OpenAPI` document equals the generated one, the CSDL
//! in `schema/` agrees with the `OpenAPI` document and the Rust EDM tables in both directions,
//! and the gateway serves both (and the interactive docs) without a token.

use std::collections::{BTreeMap, BTreeSet};

use dep_gateway::domain::edm::{ComplexType, EntityType, EnumType, Property};
use dep_gateway::openapi::{self, catalog};
use reqwest::Method;
use serde_json::{Value, json};

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

/// The document is built from the operation table, so every row is in it by construction; what
/// is left to check is Graph's own ids and shapes, spot-checked against its published documents.
#[test]
fn graph_ids_and_shapes_are_graphs() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, openapi::operations().len());
    let list = &paths["/beta/deviceManagement/depOnboardingSettings"]["get"];
    assert_eq!(
        list["operationId"],
        "deviceManagement_ListDepOnboardingSetting"
    );
    assert_eq!(
        list["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/microsoft.graph.ODataErrors.ODataError"
    );
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
        // The gateway's own shapes (single-token API, legacyDefaultToken, $batch) are not
        // Graph types; `legacy_components_are_old_shapes_of_csdl_types` checks the old ones.
        if name.starts_with(openapi::legacy::NAMESPACE) {
            continue;
        }
        let Some(bare) = name.strip_prefix("microsoft.graph.") else {
            panic!("component {name} is outside microsoft.graph");
        };
        // The audit trail's types are Intune's (reference/audit-events.md §2), outside the DEP
        // CSDL in `schema/`.
        if bare.ends_with("CollectionResponse")
            || bare.starts_with("ODataErrors.")
            || bare.starts_with("audit")
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
        // The current (not deprecated) operation: the single-token API has some of the same
        // names, bound to other paths.
        let (path, op) = paths
            .iter()
            .find(|(p, item)| {
                operation_segment(p) == name
                    && item[method].is_object()
                    && item[method]["deprecated"] != true
            })
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
    for (path, item) in paths {
        // Deliberately out of this check: the single-token API's paths (all deprecated: they
        // address the old model, e.g. /organization/{id}/…, which the current CSDL has not), the
        // gateway's own `depGateway.` resource and `$batch` (no CSDL element); the operation
        // table serves and documents them from the same rows.
        let all_deprecated = item
            .as_object()
            .unwrap()
            .values()
            .all(|o| o["deprecated"] == true);
        // The audit trail (reference/audit-events.md §2.7) is outside the DEP CSDL in `schema/`.
        if all_deprecated
            || path == "/beta/$batch"
            || path.contains("/depGateway.")
            || path.starts_with("/beta/deviceManagement/auditEvents")
        {
            continue;
        }
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

/// Route ⇄ document ⇄ permission hold by construction (one row serves, documents and
/// authorises); this proves the construction: a request built from each row's template reaches
/// that row — it wants a token, and a token lacking the row's permission is refused with 403
/// (which the dispatcher answers only once the path and method matched a row), while one
/// holding it is not.
async fn every_row_is_reached_and_authorised_from_its_template(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.throttling.enabled = false).await;
    // getEncryptionPublicKey() creates the tenant's first token and its first key pair, which
    // needs ReadWrite; with both present it is the read its row documents.
    let setting = app.create_setting(&json!({"tokenName": "rows"})).await;
    let key = format!(
        "/beta/deviceManagement/depOnboardingSettings/{}/getEncryptionPublicKey()",
        setting["id"].as_str().unwrap()
    );
    assert_eq!(app.get(&key).await.status(), 200);
    let read_only = app.token_for(app.tenant, &[READ]);
    let no_dep_permission = app.token_for(app.tenant, &["User.Read"]);
    let anon = reqwest::Client::new();
    for op in dep_gateway::legacy::routes::rows() {
        let path = op
            .path
            .replace("{expiringBeforeDateTime}", "2030-01-01T00:00:00Z")
            .replace("{organization-id}", &app.tenant.to_string())
            .replace(['{', '}'], "");
        let url = format!("{}/beta{path}", app.base);
        let method =
            Method::from_bytes(format!("{:?}", op.verb).to_ascii_uppercase().as_bytes()).unwrap();
        let send = |req: reqwest::RequestBuilder| async {
            let req = req.header("content-type", "application/json").body(
                if matches!(method, Method::GET | Method::DELETE) {
                    ""
                } else {
                    "{}"
                },
            );
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        };
        let (status, _) = send(anon.request(method.clone(), &url)).await;
        assert_eq!(status, 401, "{} without a token", op.id);
        let lacking = match op.permission {
            // The DEP read token lacks the Apps permissions the audit trail needs.
            dep_gateway::auth::Permission::Write | dep_gateway::auth::Permission::AuditRead => {
                &read_only
            }
            dep_gateway::auth::Permission::Read => &no_dep_permission,
        };
        let (status, body) = send(anon.request(method.clone(), &url).bearer_auth(lacking)).await;
        assert_eq!(status, 403, "{} {path}: {body}", op.id);
        if op.permission == dep_gateway::auth::Permission::Read {
            let (status, body) =
                send(anon.request(method.clone(), &url).bearer_auth(&read_only)).await;
            assert!(
                ![403, 405, 501].contains(&status)
                    && !body.contains("Resource not found for the segment"),
                "{} is documented as allowed with Read: {status} {body}",
                op.id
            );
        }
    }
}

on_both_backends!(
    documents_are_served_without_a_token,
    every_row_is_reached_and_authorised_from_its_template
);

// --- The gateway's own components and the reverse direction ----------------------------------

/// The non-`@` property names of a component.
fn component_keys(doc: &Value, name: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][name]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no OpenAPI schema {name}"))
        .keys()
        .filter(|k| !k.starts_with('@'))
        .cloned()
        .collect()
}

fn body_keys(body: &Value) -> BTreeSet<String> {
    body.as_object()
        .unwrap()
        .keys()
        .filter(|k| !k.starts_with('@'))
        .cloned()
        .collect()
}

/// The single-token API's components are old shapes of CSDL types: each property is one the
/// current type (checked against the CSDL above) still has, and they are the `depGateway.`
/// namespace's only members besides the gateway resource and `$batch`.
#[test]
fn legacy_components_are_old_shapes_of_csdl_types() {
    use openapi::legacy as l;
    let doc = document();
    for (old, current) in [
        (l::OLD_SETTING, "depOnboardingSetting"),
        (l::OLD_DEVICE, "importedAppleDeviceIdentity"),
        (l::OLD_DEVICE_RESULT, "importedAppleDeviceIdentityResult"),
        (l::OLD_PROFILE, "enrollmentProfile"),
        (l::OLD_DEP_PROFILE, "depEnrollmentProfile"),
    ] {
        let keys = component_keys(&doc, old);
        let now = schema_properties(&doc, current);
        assert!(keys.len() > 1, "{old} has no properties");
        for k in &keys {
            assert!(now.contains(k), "{old}.{k} is not a property of {current}");
        }
    }
    // What the old shapes leave out, as legacy::convert says.
    assert!(!component_keys(&doc, l::OLD_DEVICE).contains("isDeleted"));
    assert!(!component_keys(&doc, l::OLD_SETTING).contains("tokenType"));
    assert!(!component_keys(&doc, l::OLD_DEP_PROFILE).contains("isDefault"));
    let states =
        doc["components"]["schemas"][l::OLD_DEVICE]["properties"]["enrollmentState"]["enum"]
            .as_array()
            .unwrap();
    assert!(!states.contains(&Value::from("blocked")) && states.contains(&Value::from("failed")));
    let platforms = doc["components"]["schemas"][l::OLD_DEVICE]["properties"]["platform"]["enum"]
        .as_array()
        .unwrap();
    assert!(
        !platforms.contains(&Value::from("visionOS")) && platforms.contains(&Value::from("ios"))
    );
    // Every single-token operation is deprecated and names the operation it maps to.
    let paths = doc["paths"].as_object().unwrap();
    let legacy_ops: Vec<&Value> = paths
        .values()
        .flat_map(|p| p.as_object().unwrap().values())
        .filter(|o| o["tags"][0] == l::TAG_LEGACY)
        .collect();
    assert_eq!(legacy_ops.len(), 27);
    for o in legacy_ops {
        assert_eq!(o["deprecated"], true, "{o}");
        assert!(
            o["summary"]
                .as_str()
                .unwrap()
                .contains("/deviceManagement/depOnboardingSettings"),
            "{o}"
        );
    }
    for path in [
        "/beta/organization/{organization-id}/depOnboardingSettings",
        "/beta/deviceManagement/enrollmentProfiles",
        "/beta/deviceManagement/importedAppleDeviceIdentities/importAppleDeviceIdentityList",
        "/beta/deviceManagement/depOnboardingSettings/uploadDepToken",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    let token = &paths["/beta/deviceManagement/depGateway.legacyDefaultToken"];
    for method in ["get", "put", "patch", "delete"] {
        assert!(token[method].is_object(), "{method}");
        assert!(token[method]["deprecated"].is_null());
    }
    let batch = &paths["/beta/$batch"]["post"];
    assert_eq!(
        batch["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        format!("#/components/schemas/{}", l::BATCH_REQUEST)
    );
    assert_eq!(
        doc["components"]["schemas"][l::BATCH_REQUEST]["properties"]["requests"]["maxItems"],
        dep_gateway::api::request::MAX_BATCH_REQUESTS
    );
}

/// The served bodies of the gateway's own resources and of the old shapes have exactly the
/// documented properties.
async fn gateway_and_legacy_bodies_match_their_components(backend: Backend) {
    use openapi::legacy as l;
    let app = TestApp::spawn(backend).await;
    let doc = document();
    let json = |resp: reqwest::Response| async move {
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        (status, body)
    };
    let tenant = app.tenant.to_string();
    let (status, setting) = json(
        app.request(
            Method::POST,
            &format!("/beta/organization/{tenant}/depOnboardingSettings"),
        )
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{setting}");
    assert_eq!(body_keys(&setting), component_keys(&doc, l::OLD_SETTING));

    let (status, device) = json(
        app.request(
            Method::POST,
            "/beta/deviceManagement/importedAppleDeviceIdentities",
        )
        .json(&serde_json::json!({"serialNumber": "C02XK1ABCD12"}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{device}");
    assert_eq!(body_keys(&device), component_keys(&doc, l::OLD_DEVICE));

    let (status, profile) = json(
        app.request(Method::POST, "/beta/deviceManagement/enrollmentProfiles")
            .json(&serde_json::json!({
                "@odata.type": "#microsoft.graph.depEnrollmentProfile",
                "displayName": "old"
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{profile}");
    assert_eq!(
        body_keys(&profile),
        component_keys(&doc, l::OLD_DEP_PROFILE)
    );

    let (status, token) = json(
        app.request(
            Method::GET,
            "/beta/deviceManagement/depGateway.legacyDefaultToken",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(body_keys(&token), component_keys(&doc, l::DEFAULT_TOKEN));
    assert_eq!(token["effectiveDepOnboardingSettingId"], setting["id"]);

    let (status, batch) = json(
        app.request(Method::POST, "/beta/$batch")
            .json(&serde_json::json!({"requests": [
                {"id": "1", "method": "GET", "url": "/deviceManagement/depOnboardingSettings/$count"}
            ]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{batch}");
    assert_eq!(body_keys(&batch), component_keys(&doc, l::BATCH_RESPONSE));
    let step = &batch["responses"][0];
    let step_props: BTreeSet<String> = doc["components"]["schemas"][l::BATCH_RESPONSE]
        ["properties"]["responses"]["items"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(body_keys(step), step_props, "{step}");
}

on_both_backends!(gateway_and_legacy_bodies_match_their_components);
