//! Imported Apple device identities of a token end to end: CRUD, bulk import, OData options.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, READ_WRITE, TestApp, assert_graph_error};
use crate::on_both_backends;
use crate::profiles::{SETTINGS, token};

async fn devices_path(app: &TestApp) -> (String, String) {
    let (setting, _) = token(app).await;
    (
        setting.clone(),
        format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities"),
    )
}

async fn import(app: &TestApp, path: &str, serials: &[&str], overwrite: bool) -> Value {
    let items: Vec<Value> = serials
        .iter()
        .map(|s| json!({"serialNumber": s, "platform": "ios", "description": "batch"}))
        .collect();
    let resp = app
        .post_json(
            &format!("{path}/importAppleDeviceIdentityList"),
            &json!({"importedAppleDeviceIdentities": items,
            "overwriteImportedDeviceIdentities": overwrite}),
        )
        .await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn statuses(body: &Value) -> Vec<bool> {
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_bool().unwrap())
        .collect()
}

async fn create_normalises_the_serial(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (setting, path) = devices_path(&app).await;
    let resp = app
        .post_json(
            &path,
            &json!({"serialNumber": " c02 tk 123abc ", "platform": "IOS", "description": "desk"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(
        created["@odata.type"],
        "#microsoft.graph.importedAppleDeviceIdentity"
    );
    assert_eq!(created["serialNumber"], "C02TK123ABC");
    assert_eq!(created["platform"], "ios");
    assert_eq!(created["discoverySource"], "adminImport");
    assert_eq!(created["enrollmentState"], "notContacted");
    crate::profiles::entity_snapshot(&["createdDateTime"])
        .bind(|| insta::assert_json_snapshot!("importedAppleDeviceIdentity", created));
    assert_eq!(
        created["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/depOnboardingSettings('{setting}')/importedAppleDeviceIdentities/$entity",
            app.base
        )
    );
    let fetched: Value = app
        .get(&format!("{path}/{}", created["id"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, created);

    // A serial belongs to one token of a tenant at a time.
    let (_, other) = devices_path(&app).await;
    let msg = assert_graph_error(
        app.post_json(&other, &json!({"serialNumber": "C02TK123ABC"}))
            .await,
        409,
        "Conflict",
    )
    .await;
    assert!(msg.contains(&setting), "{msg}");
    for (body, needle) in [
        (json!({"serialNumber": "AB"}), "serial number"),
        (json!({"serialNumber": "C02TK123ABC!"}), "serial number"),
        (json!({"description": "no serial"}), "serialNumber"),
        (json!({"serialNumber": 12_345_678}), "Edm.String"),
        (
            json!({"serialNumber": "C02NEW000001", "platform": "blackberry"}),
            "platform",
        ),
        (
            json!({"serialNumber": "C02NEW000001", "color": "red"}),
            "'color'",
        ),
        (
            json!({"serialNumber": "C02NEW000001", "requestedEnrollmentProfileId": "nope"}),
            "requestedEnrollmentProfileId",
        ),
    ] {
        let msg = assert_graph_error(app.post_json(&other, &body).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{body}: {msg}");
    }
}

async fn import_handles_duplicates_and_overwrite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, path) = devices_path(&app).await;
    let first = import(
        &app,
        &path,
        &["C02IMPORT001", "C02IMPORT002", "c02import001"],
        false,
    )
    .await;
    assert_eq!(
        statuses(&first),
        [true, true, false],
        "a repeated serial is imported once"
    );
    for item in first["value"].as_array().unwrap() {
        assert_eq!(
            item["@odata.type"],
            "#microsoft.graph.importedAppleDeviceIdentityResult"
        );
    }
    let again = import(&app, &path, &["C02IMPORT002", "C02IMPORT003"], false).await;
    assert_eq!(statuses(&again), [false, true]);
    let count = app
        .get(&format!("{path}/$count"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count, "3");

    // With overwrite, an identity held by another token moves here.
    let (_, other) = devices_path(&app).await;
    let moved = import(&app, &other, &["C02IMPORT003"], true).await;
    assert_eq!(statuses(&moved), [true]);
    assert_eq!(
        app.get(&format!("{path}/$count"))
            .await
            .text()
            .await
            .unwrap(),
        "2"
    );
    assert_eq!(
        app.get(&format!("{other}/$count"))
            .await
            .text()
            .await
            .unwrap(),
        "1"
    );
}

async fn a_bad_import_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, path) = devices_path(&app).await;
    let op = format!("{path}/importAppleDeviceIdentityList");
    for (body, needle) in [
        (
            json!({"importedAppleDeviceIdentities": [{"serialNumber": "C02GOOD00001"}, {"serialNumber": "bad!"}]}),
            "[1]",
        ),
        (
            json!({"importedAppleDeviceIdentities": [{"serialNumber": "C02GOOD00001"}, "C02GOOD00002"]}),
            "[1]",
        ),
        (
            json!({"importedAppleDeviceIdentities": "C02GOOD00001"}),
            "importedAppleDeviceIdentities",
        ),
        (
            json!({"importedAppleDeviceIdentities": [], "overwriteImportedDeviceIdentities": "yes"}),
            "Edm.Boolean",
        ),
        (json!({"devices": []}), "'devices'"),
    ] {
        let msg = assert_graph_error(app.post_json(&op, &body).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    let too_many: Vec<Value> = (0..20_001)
        .map(|i| json!({"serialNumber": format!("C02{i:09}")}))
        .collect();
    let resp = app
        .post_json(&op, &json!({"importedAppleDeviceIdentities": too_many}))
        .await;
    let msg = assert_graph_error(resp, 400, "BadRequest").await;
    assert!(msg.contains("at most 20000"), "{msg}");
    assert_eq!(
        app.get(&format!("{path}/$count"))
            .await
            .text()
            .await
            .unwrap(),
        "0"
    );
}

async fn filters_search_order_and_paging(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (setting, path) = devices_path(&app).await;
    let serials: Vec<String> = (0..9).map(|i| format!("C02PAGE{i:05}")).collect();
    let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
    import(&app, &path, &refs, false).await;
    import(&app, &path, &["DMPOTHER0001"], false).await;
    let profile_path = format!("{SETTINGS}/{setting}/enrollmentProfiles");
    let profile: Value = app
        .post_json(
            &profile_path,
            &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let guid = profile["id"]
        .as_str()
        .unwrap()
        .split_once('_')
        .unwrap()
        .1
        .to_owned();
    app.patch_json(
        &format!("{path}/{}", first_id(&app, &path, "DMPOTHER0001").await),
        &json!({"requestedEnrollmentProfileId": guid}),
    )
    .await;

    let get = |query: String| {
        let app = &app;
        let path = &path;
        async move {
            let resp = app.get(&format!("{path}?{query}")).await;
            assert_eq!(resp.status(), 200, "{query}");
            resp.json::<Value>().await.unwrap()
        }
    };
    let body = get("$filter=discoverySource%20eq%20'AdminImport'%20and%20contains(serialNumber,'PAGE')&$count=true".into()).await;
    assert_eq!(body["@odata.count"], 9);
    let body = get(format!(
        "$filter=requestedEnrollmentProfileId%20eq%20'{guid}'"
    ))
    .await;
    assert_eq!(body["value"][0]["serialNumber"], "DMPOTHER0001");
    let body = get("$search=%22other%22".into()).await;
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    let body = get("$filter=createdDateTime%20gt%202020-01-01T00:00:00Z%20and%20platform%20eq%20'ios'&$top=1&$count=true".into()).await;
    assert_eq!(body["@odata.count"], 10);
    assert!(body["@odata.nextLink"].is_string());

    let mut seen = Vec::new();
    let mut url = format!(
        "{}{path}?$orderby=serialNumber%20desc&$top=4&$select=serialNumber",
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
        seen.extend(
            body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["serialNumber"].as_str().unwrap().to_owned()),
        );
        match body["@odata.nextLink"].as_str() {
            Some(next) => next.clone_into(&mut url),
            None => break,
        }
    }
    let mut expected: Vec<String> = serials.clone();
    expected.push("DMPOTHER0001".into());
    expected.sort();
    expected.reverse();
    assert_eq!(seen, expected);
    let msg = assert_graph_error(
        app.get(&format!("{path}?$search=%22serialNumber:C02%22"))
            .await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("$search"), "{msg}");
}

async fn first_id(app: &TestApp, path: &str, serial: &str) -> String {
    let body: Value = app
        .get(&format!("{path}?$filter=serialNumber%20eq%20'{serial}'"))
        .await
        .json()
        .await
        .unwrap();
    body["value"][0]["id"].as_str().unwrap().to_owned()
}

async fn patch_and_delete(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, path) = devices_path(&app).await;
    let created: Value = app
        .post_json(&path, &json!({"serialNumber": "C02PATCH0001"}))
        .await
        .json()
        .await
        .unwrap();
    let item = format!("{path}/{}", created["id"].as_str().unwrap());
    assert_eq!(
        app.patch_json(
            &item,
            &json!({"description": "moved to lab", "isSupervised": true})
        )
        .await
        .status(),
        204
    );
    let after: Value = app.get(&item).await.json().await.unwrap();
    assert_eq!(after["description"], "moved to lab");
    assert_eq!(after["isSupervised"], true);
    for (body, needle) in [
        (json!({"serialNumber": "C02OTHER0001"}), "serialNumber"),
        (json!({"enrollmentState": "sideways"}), "enrollmentState"),
        (json!({"isSupervised": "true"}), "Edm.Boolean"),
    ] {
        let msg = assert_graph_error(app.patch_json(&item, &body).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    assert_eq!(app.delete(&item).await.status(), 204);
    assert_graph_error(app.get(&item).await, 404, "ResourceNotFound").await;
    assert_graph_error(app.delete(&item).await, 404, "ResourceNotFound").await;
}

async fn other_tenants_and_tokens_see_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, path) = devices_path(&app).await;
    let (_, other_path) = devices_path(&app).await;
    let created: Value = app
        .post_json(&path, &json!({"serialNumber": "C02MINE00001"}))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    assert_graph_error(
        app.get(&format!("{other_path}/{id}")).await,
        404,
        "ResourceNotFound",
    )
    .await;
    assert_graph_error(
        app.delete(&format!("{other_path}/{id}")).await,
        404,
        "ResourceNotFound",
    )
    .await;
    let stranger = app.token_for(
        dep_gateway::domain::ids::TenantId::new(Uuid::new_v4()),
        &[READ_WRITE],
    );
    let import = json!({"importedAppleDeviceIdentities": [{"serialNumber": "C02MINE00001"}]});
    for (method, url, body) in [
        (Method::GET, format!("{path}/{id}"), json!({})),
        (Method::GET, path.clone(), json!({})),
        (
            Method::PATCH,
            format!("{path}/{id}"),
            json!({"description": "x"}),
        ),
        (Method::DELETE, format!("{path}/{id}"), json!({})),
        (
            Method::POST,
            path.clone(),
            json!({"serialNumber": "C02THEIRS001"}),
        ),
        (
            Method::POST,
            format!("{path}/importAppleDeviceIdentityList"),
            import,
        ),
    ] {
        let resp = app
            .client
            .request(method.clone(), format!("{}{url}", app.base))
            .bearer_auth(&stranger)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_graph_error(resp, 404, "ResourceNotFound").await;
    }
    let still: Value = app.get(&format!("{path}/{id}")).await.json().await.unwrap();
    assert_eq!(still["serialNumber"], "C02MINE00001");
}

on_both_backends!(
    create_normalises_the_serial,
    import_handles_duplicates_and_overwrite,
    a_bad_import_changes_nothing,
    filters_search_order_and_paging,
    patch_and_delete,
    other_tenants_and_tokens_see_404,
);
