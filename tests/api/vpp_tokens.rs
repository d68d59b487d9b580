//! VPP tokens end to end: create from a `.vpptoken`, the secret never returned, OData options,
//! PATCH rules and renewal, tenant isolation, `getExpiringVppTokenCount` and the
//! `companyPortalVppTokenId` check.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dep_gateway::domain::ids::TenantId;
use dep_gateway::domain::time::parse_ticks;
use dep_gateway::domain::vpp::VppToken;
use dep_gateway::odata::PagingKey;
use dep_gateway::service::{ServiceError, Services, vpp_tokens};
use dep_gateway::storage::{Db, vpp_tokens as repo};
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, READ, READ_WRITE, TestApp, assert_graph_error};
use crate::on_both_backends;

const VPP: &str = "/beta/deviceAppManagement/vppTokens";
const EXPIRING: &str = "/beta/deviceManagement/depOnboardingSettings/getExpiringVppTokenCount";
/// Marks every inner Apple token, so responses can be searched for a leak.
const SECRET: &str = "SECRET-";

/// The content of a `.vpptoken` file as Apple makes it: Base64 of `{token, expDate, orgName}`.
pub fn vpptoken(org: &str, exp: &str) -> String {
    let inner = format!("{SECRET}{}", Uuid::new_v4().simple());
    STANDARD.encode(json!({"token": inner, "expDate": exp, "orgName": org}).to_string())
}

async fn create(app: &TestApp, body: &Value) -> Value {
    let resp = app.post_json(VPP, body).await;
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    assert!(!text.contains(SECRET), "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn get_text(app: &TestApp, path: &str) -> (u16, String) {
    let resp = app.get(path).await;
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn create_returns_201_and_never_the_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let content = vpptoken("Contoso", "2030-05-06T10:15:30-0700");
    let resp = app
        .post_json(
            VPP,
            &json!({"@odata.type": "#microsoft.graph.vppToken", "token": content,
                "displayName": "Main", "appleId": "vpp@contoso.com", "vppTokenAccountType": "Education",
                "countryOrRegion": "us", "automaticallyUpdateApps": true,
                "dataSharingConsentGranted": true, "roleScopeTagIds": ["0"]}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let text = resp.text().await.unwrap();
    assert!(!text.contains(SECRET) && !text.contains(&content), "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(Uuid::parse_str(&id).is_ok());
    assert_eq!(location, format!("{}{VPP}/{id}", app.base));
    assert_eq!(
        created["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceAppManagement/vppTokens/$entity",
            app.base
        )
    );
    assert!(parse_ticks(created["lastModifiedDateTime"].as_str().unwrap()).is_some());
    // The secret `token` reads as null; Graph's property order is in the snapshot.
    crate::profiles::entity_snapshot(&["lastModifiedDateTime"])
        .bind(|| insta::assert_json_snapshot!("vppToken", created));

    let (status, text) = get_text(&app, &format!("{VPP}/{id}")).await;
    assert_eq!(status, 200);
    assert!(!text.contains(SECRET), "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), created);
    for query in ["", "?$select=token,organizationName", "?$select=*"] {
        let (status, text) = get_text(&app, &format!("{VPP}{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert!(
            !text.contains(SECRET) && !text.contains(&content),
            "{query}: {text}"
        );
    }
    let selected: Value = app
        .get(&format!("{VPP}('{id}')?$select=token"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(selected["token"], Value::Null);
}

async fn create_rejects_bad_tokens_and_bodies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let good = || vpptoken("Contoso", "2031-01-01T00:00:00Z");
    let no_exp = STANDARD.encode(json!({"token": "SECRET-x", "orgName": "C"}).to_string());
    for (body, needle) in [
        (json!({"token": "not base64!"}), "not Base64"),
        (
            json!({"token": STANDARD.encode("SECRET-garbage")}),
            "not a JSON object",
        ),
        (json!({"token": no_exp}), "'expDate'"),
        (json!({"token": vpptoken("C", "someday")}), "'someday'"),
        (
            json!({"token": vpptoken("Old", "2020-01-01T00:00:00-0800")}),
            "expired on 2020-01-01T08:00:00.0000000Z",
        ),
        (json!({"displayName": "no token"}), "'token' is required"),
        (json!({"token": 42}), "Edm.String"),
        (
            json!({"token": good(), "colour": "red"}),
            "'colour' does not exist",
        ),
        (json!({"token": good(), "displayName": 7}), "Edm.String"),
        (
            json!({"token": good(), "automaticallyUpdateApps": "yes"}),
            "Edm.Boolean",
        ),
        (
            json!({"token": good(), "roleScopeTagIds": "0"}),
            "Collection(Edm.String)",
        ),
        (
            json!({"token": good(), "vppTokenAccountType": "personal"}),
            "business, education",
        ),
        (
            json!({"token": good(), "organizationName": "Someone else"}),
            "'organizationName' is read-only",
        ),
        (
            json!({"token": good(), "state": "invalid"}),
            "'state' is read-only",
        ),
        (
            json!({"token": good(), "displayName": "x".repeat(300)}),
            "longer than",
        ),
    ] {
        let msg = assert_graph_error(app.post_json(VPP, &body).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{body}: {msg}");
        assert!(!msg.contains(SECRET), "{msg}");
    }
    for raw in ["{\"token\": ", "[1]", ""] {
        let resp = app
            .request(Method::POST, VPP)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_graph_error(resp, 400, "BadRequest").await;
    }
    assert_eq!(get_text(&app, &format!("{VPP}/$count")).await.1, "0");

    // The same Apple token twice is a conflict naming the first upload.
    let content = good();
    let first = create(&app, &json!({"token": content})).await;
    let resp = app
        .post_json(VPP, &json!({"token": content, "displayName": "again"}))
        .await;
    let msg = assert_graph_error(resp, 409, "Conflict").await;
    assert!(msg.contains(first["id"].as_str().unwrap()), "{msg}");
    assert_eq!(get_text(&app, &format!("{VPP}/$count")).await.1, "1");
}

async fn filter_and_orderby_use_the_columns(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (org, year, name, kind) in [
        ("Alpha", 2031, Some("North"), "education"),
        ("Bravo", 2032, Some("South"), "business"),
        ("Charlie", 2033, Some("north 2"), "business"),
        ("Delta", 2034, None, "business"),
        ("Echo", 2035, Some("East"), "business"),
    ] {
        let token = vpptoken(org, &format!("{year}-01-01T00:00:00Z"));
        create(
            &app,
            &json!({"token": token, "displayName": name, "vppTokenAccountType": kind}),
        )
        .await;
    }
    let orgs = |query: &'static str| {
        let app = &app;
        async move {
            let resp = app.get(&format!("{VPP}?{query}")).await;
            assert_eq!(resp.status(), 200, "{query}");
            let body: Value = resp.json().await.unwrap();
            body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["organizationName"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        orgs("$orderby=organizationName&$filter=expirationDateTime%20lt%202033-01-01T00:00:00Z")
            .await,
        ["Alpha", "Bravo"]
    );
    assert_eq!(
        orgs("$orderby=organizationName&$filter=startswith(displayName,'NORTH')").await,
        ["Alpha", "Charlie"]
    );
    assert_eq!(
        orgs("$filter=vppTokenAccountType%20eq%20'education'").await,
        ["Alpha"]
    );
    assert_eq!(orgs("$filter=displayName%20eq%20null").await, ["Delta"]);
    assert_eq!(
        orgs("$orderby=organizationName&$filter=organizationName%20in%20('Echo','Bravo')").await,
        ["Bravo", "Echo"]
    );
}

async fn paging_and_count(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (org, year) in [
        ("Alpha", 2031),
        ("Bravo", 2032),
        ("Charlie", 2033),
        ("Delta", 2034),
        ("Echo", 2035),
    ] {
        create(
            &app,
            &json!({"token": vpptoken(org, &format!("{year}-06-01T00:00:00Z"))}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut url = format!(
        "{}{VPP}?$orderby=expirationDateTime%20desc&$top=2&$count=true",
        app.base
    );
    loop {
        let body: Value = app
            .client
            .get(&url)
            .bearer_auth(app.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        assert_eq!(body["@odata.count"], 5);
        seen.extend(
            body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["organizationName"].as_str().unwrap().to_owned()),
        );
        match body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&format!("{}{VPP}?", app.base)), "{next}");
                next.clone_into(&mut url);
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["Echo", "Delta", "Charlie", "Bravo", "Alpha"]);
    let skipped: Value = app
        .get(&format!("{VPP}?$orderby=organizationName&$skip=3"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skipped["value"].as_array().unwrap().len(), 2);
    assert!(
        skipped.get("@odata.count").is_none(),
        "only with $count=true"
    );

    assert_eq!(
        get_text(&app, &format!("{VPP}/$count")).await,
        (200, "5".to_owned())
    );
    let filtered = format!("{VPP}/$count?$filter=expirationDateTime%20ge%202034-01-01T00:00:00Z");
    assert_eq!(get_text(&app, &filtered).await.1, "2");
}

async fn select_projects_and_unsupported_options_are_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create(
        &app,
        &json!({"token": vpptoken("Alpha", "2031-01-01T00:00:00Z"), "displayName": "A"}),
    )
    .await;
    let selected: Value = app
        .get(&format!("{VPP}?$select=id,DISPLAYNAME&$top=1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        selected["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceAppManagement/vppTokens(id,displayName)",
            app.base
        )
    );
    let keys: HashSet<&str> = selected["value"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, HashSet::from(["@odata.type", "id", "displayName"]));

    for (query, needle) in [
        (
            "$filter=token%20eq%20'x'",
            "'token' cannot be used in $filter",
        ),
        (
            "$filter=state%20eq%20'valid'",
            "'state' cannot be used in $filter",
        ),
        ("$orderby=roleScopeTagIds", "$orderby"),
        ("$select=nope", "'nope'"),
        ("$expand=*", "$expand"),
        ("$skiptoken=garbage", "$skiptoken"),
    ] {
        let msg =
            assert_graph_error(app.get(&format!("{VPP}?{query}")).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{query}: {msg}");
    }
}

async fn patch_is_partial_and_guards_read_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = create(
        &app,
        &json!({"token": vpptoken("Contoso", "2031-01-01T00:00:00Z"), "displayName": "before"}),
    )
    .await;
    let path = format!("{VPP}/{}", created["id"].as_str().unwrap());
    let resp = app
        .patch_json(&path, &json!({"@odata.type": "#microsoft.graph.vppToken", "id": "ignored",
            "displayName": "after", "automaticallyUpdateApps": true, "countryOrRegion": "gb",
            "organizationName": "Contoso", "state": "valid", "tokenActionResults": [], "token": null}))
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.content_length(), Some(0));
    let after: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(
        (
            &after["displayName"],
            &after["automaticallyUpdateApps"],
            &after["countryOrRegion"]
        ),
        (&json!("after"), &json!(true), &json!("gb"))
    );
    assert_eq!(after["id"], created["id"]);
    let modified = |v: &Value| parse_ticks(v["lastModifiedDateTime"].as_str().unwrap()).unwrap();
    assert!(modified(&after) >= modified(&created));

    // The whole GET body, sent back unchanged, is accepted.
    let mut round_trip = after.clone();
    round_trip.as_object_mut().unwrap().remove("@odata.context");
    assert_eq!(app.patch_json(&path, &round_trip).await.status(), 204);
    let after: Value = app.get(&path).await.json().await.unwrap();

    for (body, needle) in [
        (
            json!({"organizationName": "Other"}),
            "'organizationName' is read-only",
        ),
        (
            json!({"expirationDateTime": "2040-01-01T00:00:00Z"}),
            "'expirationDateTime' is read-only",
        ),
        (
            json!({"lastSyncStatus": "completed"}),
            "'lastSyncStatus' is read-only",
        ),
        (
            json!({"tokenActionResults": [{"actionName": "sync"}]}),
            "'tokenActionResults' is read-only",
        ),
        (
            json!({"displayName": "never", "lastAppCount": 4}),
            "'lastAppCount' is read-only",
        ),
        (json!({"displayName": 5}), "Edm.String"),
        (
            json!({"claimTokenManagementFromExternalMdm": 1}),
            "Edm.Boolean",
        ),
        (
            json!({"appleDeviceAppDeliveryProtocolType": "carrierPigeon"}),
            "declarativeDeviceManagement",
        ),
        (json!({"token": "garbage"}), "not Base64"),
        (
            json!({"token": vpptoken("Contoso", "2021-01-01T00:00:00Z")}),
            "expired on",
        ),
        (json!({"nope": true}), "'nope' does not exist"),
    ] {
        let msg = assert_graph_error(app.patch_json(&path, &body).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    let unchanged: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(unchanged, after, "a failed PATCH changes nothing");
    let resp = app
        .request(Method::PATCH, &path)
        .header("content-type", "application/json")
        .body("{bad")
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
    let missing = format!("{VPP}/{}", Uuid::new_v4());
    assert_graph_error(
        app.patch_json(&missing, &json!({"displayName": "x"})).await,
        404,
        "ResourceNotFound",
    )
    .await;
}

async fn patch_with_a_new_token_renews_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = create(
        &app,
        &json!({"token": vpptoken("Contoso", "2031-01-01T00:00:00Z"), "displayName": "after"}),
    )
    .await;
    let path = format!("{VPP}/{}", created["id"].as_str().unwrap());
    // A new .vpptoken renews the token: organization and expiry follow the file.
    let renewal = vpptoken("Contoso Renewed", "2032-02-02T02:02:02+0000");
    assert_eq!(
        app.patch_json(
            &path,
            &json!({"token": renewal, "organizationName": "Contoso Renewed"})
        )
        .await
        .status(),
        204
    );
    let (_, text) = get_text(&app, &path).await;
    assert!(!text.contains(SECRET), "{text}");
    let renewed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(renewed["organizationName"], "Contoso Renewed");
    assert_eq!(
        renewed["expirationDateTime"],
        "2032-02-02T02:02:02.0000000Z"
    );
    assert_eq!(renewed["token"], Value::Null);
    assert_eq!(renewed["displayName"], "after");

    // A token already held under another id cannot be renewed into this one.
    let other = vpptoken("Other", "2033-01-01T00:00:00Z");
    create(&app, &json!({"token": other})).await;
    assert_graph_error(
        app.patch_json(&path, &json!({"token": other})).await,
        409,
        "Conflict",
    )
    .await;
    // An expired renewal changes nothing.
    let expired = vpptoken("Contoso", "2021-01-01T00:00:00Z");
    let resp = app.patch_json(&path, &json!({"token": expired})).await;
    let msg = assert_graph_error(resp, 400, "BadRequest").await;
    assert!(msg.contains("expired on 2021-01-01"), "{msg}");
    let after: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(after, renewed);
}

async fn delete_removes_the_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = create(
        &app,
        &json!({"token": vpptoken("Contoso", "2031-01-01T00:00:00Z")}),
    )
    .await;
    let path = format!("{VPP}('{}')", created["id"].as_str().unwrap());
    assert_eq!(app.delete(&path).await.status(), 204);
    let msg = assert_graph_error(app.get(&path).await, 404, "ResourceNotFound").await;
    assert!(msg.contains("vppToken"), "{msg}");
    assert_graph_error(app.delete(&path).await, 404, "ResourceNotFound").await;
    assert_eq!(get_text(&app, &format!("{VPP}/$count")).await.1, "0");
    let resp = app
        .request(Method::PUT, &path)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 405, "Request_BadRequest").await;
}

async fn other_tenants_see_404_and_permissions_apply(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let content = vpptoken("Contoso", "2031-01-01T00:00:00Z");
    let created = create(&app, &json!({"token": content, "displayName": "mine"})).await;
    let path = format!("{VPP}/{}", created["id"].as_str().unwrap());
    let stranger = TenantId::new(Uuid::new_v4());
    let as_stranger = |method: Method, url: &str| {
        app.client
            .request(method, format!("{}{url}", app.base))
            .bearer_auth(app.token_for(stranger, &[READ_WRITE]))
    };
    for method in [Method::GET, Method::DELETE] {
        assert_graph_error(
            as_stranger(method, &path).send().await.unwrap(),
            404,
            "ResourceNotFound",
        )
        .await;
    }
    let resp = as_stranger(Method::PATCH, &path)
        .json(&json!({"displayName": "stolen"}))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 404, "ResourceNotFound").await;
    let list: Value = as_stranger(Method::GET, VPP)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["value"], json!([]));
    let count = as_stranger(
        Method::GET,
        &format!("{EXPIRING}(expiringBeforeDateTime='2040-01-01T00:00:00Z')"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(count.json::<Value>().await.unwrap()["value"], 0);
    // Another tenant may upload the same Apple token: uniqueness is per tenant.
    let resp = as_stranger(Method::POST, VPP)
        .json(&json!({"token": content}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let still: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(still["displayName"], "mine");

    let reader = app.token_for(app.tenant, &[READ]);
    let read = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let write = app
        .client
        .post(format!("{}{VPP}", app.base))
        .bearer_auth(&reader)
        .json(&json!({"token": vpptoken("X", "2031-01-01T00:00:00Z")}))
        .send()
        .await
        .unwrap();
    let msg = assert_graph_error(write, 403, "Forbidden").await;
    assert!(
        msg.contains("DeviceManagementServiceConfig.ReadWrite.All"),
        "{msg}"
    );
}

async fn expiring_vpp_token_count_counts_before_the_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for exp in [
        "2031-01-01T00:00:00Z",
        "2032-06-30T12:00:00Z",
        "2033-01-01T00:00:00-0700",
    ] {
        create(&app, &json!({"token": vpptoken("Contoso", exp)})).await;
    }
    let reader = app.token_for(app.tenant, &[READ]);
    let count = |path: String| {
        let (app, reader) = (&app, &reader);
        async move {
            let resp = app
                .client
                .get(format!("{}{path}", app.base))
                .bearer_auth(reader)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            let body: Value = resp.json().await.unwrap();
            assert_eq!(status, 200, "{path}: {body}");
            assert_eq!(
                body,
                json!({"@odata.context": format!("{}/beta/$metadata#Edm.Int32", app.base), "value": body["value"]})
            );
            body["value"].as_i64().unwrap()
        }
    };
    for (args, expected) in [
        ("(expiringBeforeDateTime='2031-01-01T00:00:00Z')", 0),
        ("(expiringBeforeDateTime='2031-01-01T00:00:01Z')", 1),
        ("(expiringBeforeDateTime='2032-06-30T14:00:00+02:00')", 1),
        ("(expiringBeforeDateTime='2032-06-30T14:00:01%2B02:00')", 2),
        ("(expiringBeforeDateTime=2033-01-01T07:00:00.0000001Z)", 3),
        (
            "(expiringBeforeDateTime%3D%272040-01-01T00%3A00%3A00Z%27)",
            3,
        ),
        ("(expiringBeforeDateTime=@d)?@d='2032-01-01T00:00:00Z'", 1),
        ("?expiringBeforeDateTime=2040-01-01T00:00:00Z", 3),
    ] {
        assert_eq!(count(format!("{EXPIRING}{args}")).await, expected, "{args}");
    }
    let qualified = EXPIRING.replace("getExpiring", "microsoft.graph.getExpiring");
    assert_eq!(
        count(format!(
            "{qualified}(expiringBeforeDateTime='2099-01-01T00:00:00Z')"
        ))
        .await,
        3
    );

    for (args, needle) in [
        ("", "is required"),
        ("()", "is required"),
        ("(expiringBeforeDateTime='soon')", "'soon' is not one"),
        (
            "(expiringBeforeDateTime='2031-13-01T00:00:00Z')",
            "is not one",
        ),
        (
            "(before='2031-01-01T00:00:00Z')",
            "'before' is not a parameter",
        ),
        ("('2031-01-01T00:00:00Z')", "must be named"),
        ("(expiringBeforeDateTime=@d)", "'@d' has no value"),
        (
            "(expiringBeforeDateTime='2031-01-01T00:00:00Z')?$select=value",
            "$select",
        ),
    ] {
        let msg = assert_graph_error(
            app.get(&format!("{EXPIRING}{args}")).await,
            400,
            "BadRequest",
        )
        .await;
        assert!(msg.contains(needle), "{args}: {msg}");
    }
    let resp = app
        .post_json(
            &format!("{EXPIRING}(expiringBeforeDateTime='2031-01-01T00:00:00Z')"),
            &json!({}),
        )
        .await;
    assert_graph_error(resp, 405, "Request_BadRequest").await;
}

/// A database of its own (the gateway's is private to the harness), migrated.
struct OwnDb {
    services: Services,
    /// The same database, for what the test stores behind the services' back.
    db: Db,
    pg_database: Option<(String, String)>,
    dir: std::path::PathBuf,
}

impl OwnDb {
    fn open(backend: Backend) -> Self {
        let dir = std::env::temp_dir().join(format!("dep-gateway-vpp-{}", Uuid::new_v4()));
        let admin = std::env::var("DEP_GATEWAY_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let pg_database = (backend == Backend::Postgres).then(|| {
            let name = format!("dg_test_vpp_{}", Uuid::new_v4().simple());
            let mut conn = PgConnection::establish(&admin).expect("PostgreSQL must be running");
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut conn)
                .expect("create database");
            (admin.clone(), name)
        });
        let url = match &pg_database {
            Some((admin, name)) => {
                let mut url = url::Url::parse(admin).expect("postgres admin URL");
                url.set_path(name);
                url.to_string()
            }
            None => format!("sqlite://{}", dir.join("vpp.db").display()),
        };
        let db = Db::connect(&url, 2).expect("database");
        db.migrate().expect("migrations");
        let settings = dep_gateway::config::Settings {
            max_page_size: 100,
            max_dep_tokens: 10,
            lease_secs: 30,
            sync_interval_secs: 0,
            assign_retry_secs: 60,
            ..dep_gateway::config::Settings::default()
        };
        let clock: std::sync::Arc<dyn dep_gateway::clock::Clock> =
            std::sync::Arc::new(dep_gateway::clock::SystemClock);
        let services = Services::new(
            db.clone(),
            PagingKey([7; 32]),
            std::sync::Arc::new(dep_gateway::crypto::SecretBox::new([9; 32])),
            std::sync::Arc::new(dep_gateway::apple::HttpConnector::new(
                reqwest::Client::new(),
                url::Url::parse("http://127.0.0.1:9").expect("url"),
                clock.clone(),
            )),
            clock,
            dep_gateway::background::Background::new(),
            &settings,
        );
        Self {
            services,
            db,
            pg_database,
            dir,
        }
    }
}

impl Drop for OwnDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin, name)) = self.pg_database.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(mut conn) = PgConnection::establish(&admin) {
                    let _ = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .execute(&mut conn);
                }
            })
            .join();
        }
    }
}

async fn company_portal_vpp_token_check_names_the_problem(backend: Backend) {
    let own = OwnDb::open(backend);
    let svc = &own.services;
    let (tenant, stranger) = (TenantId::new(Uuid::new_v4()), TenantId::new(Uuid::new_v4()));
    let body = |exp: &str| {
        json!({"token": vpptoken("Contoso", exp)})
            .as_object()
            .cloned()
            .unwrap()
    };
    let valid = vpp_tokens::create(svc, tenant, body("2031-01-01T00:00:00Z"))
        .await
        .unwrap();
    // An expired token can only exist by ageing: store one whose expiry has passed.
    let now = parse_ticks("2030-01-01T00:00:00Z").unwrap();
    let mut expired = VppToken::create(
        Uuid::new_v4().to_string(),
        &body("2030-06-01T00:00:00Z"),
        now,
    )
    .unwrap();
    expired.expiration_date_time = parse_ticks("2020-06-01T00:00:00Z").unwrap();
    let stored = expired.clone();
    own.db
        .write(tenant, now, move |c| {
            repo::insert(c, tenant, &stored, now).map_err(ServiceError::from)
        })
        .await
        .unwrap();

    assert!(
        vpp_tokens::check_company_portal_vpp_token(svc, tenant, &valid.id)
            .await
            .is_ok()
    );
    for (who, id, needle) in [
        (
            tenant,
            expired.id.as_str(),
            "expired on 2020-06-01T00:00:00.0000000Z",
        ),
        (
            tenant,
            "no-such-token",
            "does not name a VPP token of this tenant",
        ),
        (
            stranger,
            valid.id.as_str(),
            "does not name a VPP token of this tenant",
        ),
    ] {
        match vpp_tokens::check_company_portal_vpp_token(svc, who, id).await {
            Err(ServiceError::Validation(e)) => {
                assert!(
                    e.message.contains(needle) && e.message.contains(id),
                    "{}",
                    e.message
                );
            }
            other => panic!("{id}: {other:?}"),
        }
    }
}

on_both_backends!(
    create_returns_201_and_never_the_token,
    create_rejects_bad_tokens_and_bodies,
    filter_and_orderby_use_the_columns,
    paging_and_count,
    select_projects_and_unsupported_options_are_400,
    patch_is_partial_and_guards_read_only,
    patch_with_a_new_token_renews_it,
    delete_removes_the_token,
    other_tenants_see_404_and_permissions_apply,
    expiring_vpp_token_count_counts_before_the_date,
    company_portal_vpp_token_check_names_the_problem,
);
