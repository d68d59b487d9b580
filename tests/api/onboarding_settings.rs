//! The depOnboardingSettings collection end to end: CRUD, OData options, paging, limits and
//! tenant isolation.

use std::collections::HashSet;

use dep_gateway::domain::ids::TenantId;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, READ_WRITE, TestApp, assert_graph_error};
use crate::on_both_backends;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

fn is_graph_datetime(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s == "0001-01-01T00:00:00Z" || (s.len() == 28 && s.ends_with('Z') && s.as_bytes()[19] == b'.')
}

async fn create_returns_201_with_the_full_entity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = app
        .post_json(SETTINGS, &json!({"@odata.type": "#microsoft.graph.depOnboardingSetting",
            "tokenName": "Reseller A", "roleScopeTagIds": ["0"], "dataSharingConsentGranted": true}))
        .await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    let id = body["id"].as_str().unwrap();
    assert!(Uuid::parse_str(id).is_ok());
    assert_eq!(location, format!("{}{SETTINGS}/{id}", app.base));
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/depOnboardingSettings/$entity",
            app.base
        )
    );
    assert_eq!(body["@odata.type"], "#microsoft.graph.depOnboardingSetting");
    assert_eq!(body["tokenName"], "Reseller A");
    assert_eq!(body["tokenType"], "none");
    assert_eq!(body["syncedDeviceCount"], 0);
    assert_eq!(body["lastSyncErrorCode"], 0);
    assert_eq!(body["roleScopeTagIds"], json!(["0"]));
    assert_eq!(body["dataSharingConsentGranted"], true);
    assert_eq!(body["shareTokenWithSchoolDataSyncService"], false);
    assert!(body["appleIdentifier"].is_null());
    assert_eq!(body["tokenExpirationDateTime"], "0001-01-01T00:00:00Z");
    for prop in [
        "lastModifiedDateTime",
        "lastSuccessfulSyncDateTime",
        "lastSyncTriggeredDateTime",
    ] {
        assert!(is_graph_datetime(&body[prop]), "{prop}: {}", body[prop]);
    }
    let fetched: Value = app
        .get(&format!("{SETTINGS}/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, body);
    let times = [
        "lastModifiedDateTime",
        "lastSuccessfulSyncDateTime",
        "lastSyncTriggeredDateTime",
    ];
    crate::profiles::entity_snapshot(&times)
        .bind(|| insta::assert_json_snapshot!("depOnboardingSetting", body));
}

/// Derived properties are accepted (see restore.rs) but must still be of their type.
async fn create_rejects_unknown_mistyped_and_navigation_properties(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (body, needle) in [
        (json!({"syncedDeviceCount": "12"}), "Edm.Int32"),
        (json!({"tokenType": "vpp"}), "depTokenType"),
        (
            json!({"tokenExpirationDateTime": "soon"}),
            "Edm.DateTimeOffset",
        ),
        (json!({"tokenNmae": "x"}), "'tokenNmae' does not exist"),
        (json!({"tokenName": 7}), "Edm.String"),
        (json!({"dataSharingConsentGranted": "true"}), "Edm.Boolean"),
        (json!({"roleScopeTagIds": "0"}), "Collection(Edm.String)"),
        (json!({"tokenName": "x".repeat(300)}), "longer than"),
        (json!({"enrollmentProfiles": []}), "navigation property"),
    ] {
        let msg = assert_graph_error(app.post_json(SETTINGS, &body).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    let list: Value = app.get(SETTINGS).await.json().await.unwrap();
    assert_eq!(list["value"], json!([]));
}

async fn patch_is_partial_and_answers_204(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .create_setting(&json!({"tokenName": "before", "roleScopeTagIds": ["0"]}))
        .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("{SETTINGS}/{id}");
    let resp = app
        .patch_json(
            &path,
            &json!({"@odata.type": "#microsoft.graph.depOnboardingSetting", "id": "other",
            "tokenName": "after", "syncedDeviceCount": 0, "tokenType": "none"}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.content_length(), Some(0));
    let after: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(after["id"], created["id"]);
    assert_eq!(after["tokenName"], "after");
    assert_eq!(after["roleScopeTagIds"], json!(["0"]));

    // The whole GET body, sent back unchanged, is accepted (config-as-code round trip).
    let mut round_trip = after.clone();
    round_trip.as_object_mut().unwrap().remove("@odata.context");
    assert_eq!(app.patch_json(&path, &round_trip).await.status(), 204);

    // GRAPH-COMPAT: a derived value that differs is accepted and ignored (README "Write bodies").
    let resp = app
        .patch_json(
            &path,
            &json!({"lastSyncErrorCode": 5, "syncedDeviceCount": 9, "tokenType": "dep",
                "appleIdentifier": "someone@example.com"}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let ignored: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(
        (&ignored["lastSyncErrorCode"], &ignored["syncedDeviceCount"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(ignored["tokenType"], "none");
    assert_eq!(ignored["appleIdentifier"], Value::Null);

    // A failed PATCH changes nothing, even the properties it would have set validly.
    let resp = app
        .patch_json(
            &path,
            &json!({"tokenName": "never", "lastSyncErrorCode": "5"}),
        )
        .await;
    let msg = assert_graph_error(resp, 400, "BadRequest").await;
    assert!(
        msg.contains("'lastSyncErrorCode'") && msg.contains("Edm.Int32"),
        "{msg}"
    );
    let unchanged: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(unchanged["tokenName"], "after");

    let resp = app
        .request(Method::PATCH, &path)
        .header("content-type", "application/json")
        .body("{bad")
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
    let resp = app
        .patch_json(
            &format!("{SETTINGS}/{}", Uuid::new_v4()),
            &json!({"tokenName": "x"}),
        )
        .await;
    assert_graph_error(resp, 404, "ResourceNotFound").await;
}

async fn delete_removes_the_setting(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_setting(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("{SETTINGS}/{id}");
    assert_eq!(app.delete(&path).await.status(), 204);
    assert_graph_error(app.get(&path).await, 404, "ResourceNotFound").await;
    assert_graph_error(app.delete(&path).await, 404, "ResourceNotFound").await;
}

async fn list_count_and_select(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for name in ["alpha", "beta", "gamma"] {
        app.create_setting(&json!({"tokenName": name})).await;
    }
    let list: Value = app.get(SETTINGS).await.json().await.unwrap();
    assert_eq!(
        list["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/depOnboardingSettings",
            app.base
        )
    );
    assert_eq!(
        list["@odata.count"], 3,
        "Intune sends @odata.count even without $count"
    );
    assert_eq!(list["value"].as_array().unwrap().len(), 3);
    assert!(list.get("@odata.nextLink").is_none());

    let resp = app
        .request(Method::GET, &format!("{SETTINGS}/$count"))
        .header("accept", "text/plain;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(resp.text().await.unwrap(), "3");
    let filtered = app
        .get(&format!(
            "{SETTINGS}/$count?$filter=startswith(tokenName,'g')"
        ))
        .await;
    assert_eq!(filtered.text().await.unwrap(), "1");

    let selected: Value = app
        .get(&format!(
            "{SETTINGS}?$select=id,TOKENNAME&$orderby=tokenName"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        selected["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/depOnboardingSettings(id,tokenName)",
            app.base
        )
    );
    let first = selected["value"][0].as_object().unwrap();
    let keys: HashSet<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(keys, HashSet::from(["@odata.type", "id", "tokenName"]));
    assert_eq!(first["tokenName"], "alpha");
    let msg = assert_graph_error(
        app.get(&format!("{SETTINGS}?$select=nope")).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("'nope'"), "{msg}");
}

async fn filter_supports_the_documented_operators(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_setting(&json!({"tokenName": "Reseller A", "dataSharingConsentGranted": true}))
        .await;
    app.create_setting(&json!({"tokenName": "Reseller B"}))
        .await;
    app.create_setting(&json!({"tokenName": "School"})).await;
    app.create_setting(&json!({})).await;
    let names = |filter: &'static str| {
        let app = &app;
        async move {
            let resp = app
                .get(&format!(
                    "{SETTINGS}?$filter={}&$orderby=tokenName",
                    urlencode(filter)
                ))
                .await;
            assert_eq!(resp.status(), 200, "{filter}");
            let body: Value = resp.json().await.unwrap();
            body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["tokenName"].as_str().unwrap_or("<null>").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("tokenName eq 'Reseller A'").await, ["Reseller A"]);
    assert_eq!(
        names("tokenName eq 'reseller a'").await,
        ["Reseller A"],
        "string eq is case-insensitive"
    );
    assert_eq!(
        names("tokenName ne 'School'").await,
        ["<null>", "Reseller A", "Reseller B"]
    );
    assert_eq!(
        names("startswith(tokenName,'Res')").await,
        ["Reseller A", "Reseller B"]
    );
    assert_eq!(
        names("endswith(tokenName,'B') or contains(tokenName,'hoo')").await,
        ["Reseller B", "School"]
    );
    assert_eq!(
        names("tokenName in ('School','Reseller B')").await,
        ["Reseller B", "School"]
    );
    assert_eq!(
        names("not startswith(tokenName,'Res')").await,
        ["<null>", "School"]
    );
    assert_eq!(names("tokenName eq null").await, ["<null>"]);
    assert_eq!(
        names("dataSharingConsentGranted eq true and tokenType eq 'none'").await,
        ["Reseller A"]
    );
    assert_eq!(
        names("tokenType eq 'NONE' and syncedDeviceCount ge 0 and lastSyncErrorCode lt 1")
            .await
            .len(),
        4
    );
    assert_eq!(
        names("tokenExpirationDateTime lt 2000-01-01T00:00:00Z")
            .await
            .len(),
        4
    );
    assert_eq!(names("(tokenName eq 'School' or tokenName eq 'Reseller A') and not (dataSharingConsentGranted eq true)").await, ["School"]);

    for (filter, needle) in [
        ("tokenName eq", "$filter"),
        ("nope eq 1", "'nope'"),
        (
            "tokenType eq 'blue'",
            "valid values are: none, dep, appleSchoolManager",
        ),
        ("tokenName has 'x'", "has"),
        ("roleScopeTagIds/any(t: t eq '0')", "'any'"),
        ("syncedDeviceCount eq 'many'", "syncedDeviceCount"),
    ] {
        let resp = app
            .get(&format!("{SETTINGS}?$filter={}", urlencode(filter)))
            .await;
        let msg = assert_graph_error(resp, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{filter}: {msg}");
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

async fn paging_follows_absolute_next_links(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut expected = Vec::new();
    for i in 0..7 {
        let name = format!("token-{i}");
        app.create_setting(&json!({"tokenName": name})).await;
        expected.push(name);
    }
    expected.reverse();
    let mut seen = Vec::new();
    let mut url = format!(
        "{}{SETTINGS}?$orderby=tokenName%20desc&$top=3&$select=tokenName",
        app.base
    );
    let mut pages = 0;
    loop {
        let resp = app
            .client
            .get(&url)
            .bearer_auth(app.token())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        let body: Value = resp.json().await.unwrap();
        pages += 1;
        seen.extend(
            body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["tokenName"].as_str().unwrap().to_owned()),
        );
        match body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&format!("{}/beta/", app.base)), "{next}");
                assert!(
                    !next.contains('{') && !next.contains('}') && !next.contains(' '),
                    "{next}"
                );
                next.clone_into(&mut url);
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);

    // $skip applies to the first page.
    let body: Value = app
        .get(&format!("{SETTINGS}?$orderby=tokenName&$skip=5"))
        .await
        .json()
        .await
        .unwrap();
    let rest: Vec<_> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["tokenName"].clone())
        .collect();
    assert_eq!(rest, [json!("token-5"), json!("token-6")]);
}

async fn skiptokens_are_tamper_evident(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for i in 0..3 {
        app.create_setting(&json!({"tokenName": format!("t{i}")}))
            .await;
    }
    let first: Value = app
        .get(&format!("{SETTINGS}?$top=1&$orderby=tokenName"))
        .await
        .json()
        .await
        .unwrap();
    let next = first["@odata.nextLink"].as_str().unwrap().to_owned();
    let token = next.split("skiptoken=").nth(1).unwrap().to_owned();
    let mut chars: Vec<char> = token.chars().collect();
    chars[2] = if chars[2] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for query in [
        format!("$top=1&$orderby=tokenName&$skiptoken={tampered}"),
        format!("$top=1&$orderby=tokenName%20desc&$skiptoken={token}"),
        format!("$top=1&$orderby=tokenName&$filter=tokenName%20ne%20'x'&$skiptoken={token}"),
        "$skiptoken=garbage".to_owned(),
    ] {
        let msg = assert_graph_error(
            app.get(&format!("{SETTINGS}?{query}")).await,
            400,
            "BadRequest",
        )
        .await;
        assert!(msg.contains("$skiptoken"), "{query}: {msg}");
    }
    let resp = app
        .client
        .get(&next)
        .bearer_auth(app.token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn maximum_dep_tokens_is_enforced_under_concurrency(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_dep_tokens = 3).await;
    let dm: Value = app
        .get("/beta/deviceManagement")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dm["maximumDepTokens"], 3);
    assert_eq!(
        dm["@odata.context"],
        format!("{}/beta/$metadata#deviceManagement", app.base)
    );
    let selected: Value = app
        .get("/beta/deviceManagement?$select=maximumDepTokens")
        .await
        .json()
        .await
        .unwrap();
    assert!(selected.get("intuneAccountId").is_none());

    let bodies: Vec<Value> = (0..8)
        .map(|i| json!({"tokenName": format!("n{i}")}))
        .collect();
    let attempts = bodies.iter().map(|b| app.post_json(SETTINGS, b));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        5,
        "{statuses:?}"
    );
    let count = app
        .get(&format!("{SETTINGS}/$count"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count, "3");
}

async fn tenants_never_see_each_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mine = app.create_setting(&json!({"tokenName": "mine"})).await;
    let id = mine["id"].as_str().unwrap();
    let other = app.token_for(TenantId::new(Uuid::new_v4()), &[READ_WRITE]);
    let as_other = |method: Method, path: String| {
        app.client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&other)
    };

    let list: Value = as_other(Method::GET, SETTINGS.into())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["value"], json!([]));
    assert_eq!(list["@odata.count"], 0);
    let count = as_other(Method::GET, format!("{SETTINGS}/$count"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(count, "0");
    let path = format!("{SETTINGS}/{id}");
    assert_graph_error(
        as_other(Method::GET, path.clone()).send().await.unwrap(),
        404,
        "ResourceNotFound",
    )
    .await;
    let resp = as_other(Method::PATCH, path.clone())
        .json(&json!({"tokenName": "stolen"}))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 404, "ResourceNotFound").await;
    assert_graph_error(
        as_other(Method::DELETE, path.clone()).send().await.unwrap(),
        404,
        "ResourceNotFound",
    )
    .await;
    let filtered: Value = as_other(Method::GET, format!("{SETTINGS}?$filter=id%20eq%20'{id}'"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["value"], json!([]));

    let still: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(still["tokenName"], "mine");
}

on_both_backends!(
    create_returns_201_with_the_full_entity,
    create_rejects_unknown_mistyped_and_navigation_properties,
    patch_is_partial_and_answers_204,
    delete_removes_the_setting,
    list_count_and_select,
    filter_supports_the_documented_operators,
    paging_follows_absolute_next_links,
    skiptokens_are_tamper_evident,
    maximum_dep_tokens_is_enforced_under_concurrency,
    tenants_never_see_each_other,
);
