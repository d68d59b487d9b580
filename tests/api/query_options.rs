//! OData query options end to end (issue 13, items 4 and 5): `$expand` with nested options on
//! settings (collection and entity) and `*` on types without navigations, `$search` on settings,
//! and `tolower`/`toupper`, `has`, `isof` and type-cast paths in `$filter`/`$select`.

use dep_gateway::apple_sim::{self, SimConfig};
use dep_gateway::domain::ids::TenantId;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, READ_WRITE, TestApp, assert_graph_error, with_mdm};
use crate::on_both_backends;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

async fn json_ok(app: &TestApp, path: &str) -> Value {
    let resp = app.get(path).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    body
}

async fn setting(app: &TestApp, name: &str) -> String {
    app.create_setting(&json!({"tokenName": name})).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn profile(app: &TestApp, setting: &str, body: &Value) -> String {
    let path = format!("{SETTINGS}/{setting}/enrollmentProfiles");
    let resp = app.post_json(&path, body).await;
    let status = resp.status();
    let created: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

fn ios(name: &str, pairing: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": name,
        "iTunesPairingMode": pairing})
}

fn mac(name: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile", "displayName": name})
}

async fn device(app: &TestApp, setting: &str, serial: &str) {
    let path = format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities");
    let resp = app.post_json(&path, &json!({"serialNumber": serial})).await;
    assert_eq!(resp.status(), 201, "{serial}");
}

fn ids(items: &Value, key: &str) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

/// Ids in the default order of the sets (by id).
fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| (*s).clone()).collect();
    ids.sort();
    ids
}

/// Two tokens with profiles, a default and identities: what the expansion tests read.
struct Fixture {
    a: String,
    b: String,
    alpha: String,
    beta: String,
    gamma: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let a = setting(app, "token a").await;
    let b = setting(app, "token b").await;
    let alpha = profile(app, &a, &ios("alpha", "allow")).await;
    let beta = profile(app, &a, &mac("beta")).await;
    let gamma = profile(app, &b, &ios("gamma", "disallow")).await;
    let resp = app
        .request(
            Method::POST,
            &format!("{SETTINGS}/{a}/enrollmentProfiles/{alpha}/setDefaultProfile"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    for serial in [
        "C02AAAAA0001",
        "C02AAAAA0002",
        "C02AAAAA0003",
        "C02BBBBB0001",
    ] {
        device(app, &a, serial).await;
    }
    device(app, &b, "C02AZZZZ0001").await;
    Fixture {
        a,
        b,
        alpha,
        beta,
        gamma,
    }
}

/// The settings of a collection response, keyed by id, in the order of `want`.
fn by_id<'a>(body: &'a Value, want: &[&String]) -> Vec<&'a Value> {
    let items = body["value"].as_array().unwrap();
    want.iter()
        .map(|id| items.iter().find(|s| s["id"] == id.as_str()).unwrap())
        .collect()
}

async fn expand_on_the_settings_collection(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let f = fixture(&app).await;

    // The URL: each setting carries its own profiles, and nothing else changes.
    let body = json_ok(&app, &format!("{SETTINGS}?$expand=enrollmentProfiles")).await;
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/depOnboardingSettings(enrollmentProfiles())",
            app.base
        )
    );
    assert_eq!(body["@odata.count"], 2);
    let [a, b] = by_id(&body, &[&f.a, &f.b])[..] else {
        panic!("{body}")
    };
    // Ordered by id, as the navigation's own list is by default.
    assert_eq!(
        ids(&a["enrollmentProfiles"], "id"),
        sorted(&[&f.alpha, &f.beta])
    );
    assert_eq!(ids(&b["enrollmentProfiles"], "id"), [f.gamma.as_str()]);
    let expanded_beta = a["enrollmentProfiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == f.beta.as_str())
        .unwrap();
    assert_eq!(
        expanded_beta["@odata.type"],
        "#microsoft.graph.depMacOSEnrollmentProfile"
    );
    assert_eq!(expanded_beta["isDefault"], false);
    let expanded_alpha = a["enrollmentProfiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == f.alpha.as_str())
        .unwrap();
    assert_eq!(expanded_alpha["isDefault"], true);
    assert_eq!(a["tokenName"], "token a");
    assert!(a.get("importedAppleDeviceIdentities").is_none());

    // Nested options cut each token's list on its own (one windowed query for the devices).
    let url = format!(
        "{SETTINGS}?$select=id&$expand=enrollmentProfiles($select=displayName;$orderby=displayName%20desc;$top=1),importedAppleDeviceIdentities($filter=startswith(serialNumber,'C02A');$orderby=serialNumber%20desc;$top=2),defaultIosEnrollmentProfile($select=id)"
    );
    let body = json_ok(&app, &url).await;
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/depOnboardingSettings(id,enrollmentProfiles(displayName),importedAppleDeviceIdentities(),defaultIosEnrollmentProfile(id))",
            app.base
        )
    );
    let [a, b] = by_id(&body, &[&f.a, &f.b])[..] else {
        panic!("{body}")
    };
    assert!(a.get("tokenName").is_none());
    assert_eq!(ids(&a["enrollmentProfiles"], "displayName"), ["beta"]);
    assert!(a["enrollmentProfiles"][0].get("id").is_none());
    assert_eq!(
        ids(&a["importedAppleDeviceIdentities"], "serialNumber"),
        ["C02AAAAA0003", "C02AAAAA0002"]
    );
    assert_eq!(
        ids(&b["importedAppleDeviceIdentities"], "serialNumber"),
        ["C02AZZZZ0001"]
    );
    assert_eq!(
        a["defaultIosEnrollmentProfile"],
        json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "id": f.alpha})
    );
    assert!(b["defaultIosEnrollmentProfile"].is_null());

    // `$skip` inside, and a filter through a cast and a case function.
    let url = format!(
        "{SETTINGS}?$expand=importedAppleDeviceIdentities($orderby=serialNumber;$skip=3),enrollmentProfiles($filter=tolower(microsoft.graph.depIOSEnrollmentProfile/displayName)%20eq%20'alpha')"
    );
    let body = json_ok(&app, &url).await;
    let [a, b] = by_id(&body, &[&f.a, &f.b])[..] else {
        panic!("{body}")
    };
    assert_eq!(
        ids(&a["importedAppleDeviceIdentities"], "serialNumber"),
        ["C02BBBBB0001"]
    );
    assert_eq!(
        ids(&b["importedAppleDeviceIdentities"], "serialNumber"),
        Vec::<String>::new()
    );
    assert_eq!(ids(&a["enrollmentProfiles"], "id"), [f.alpha.as_str()]);
    assert_eq!(ids(&b["enrollmentProfiles"], "id"), Vec::<String>::new());
}

async fn expand_star_pages_the_settings(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    fixture(&app).await;
    // `*` expands every navigation Graph declares; paging of the settings is unaffected.
    let body = json_ok(&app, &format!("{SETTINGS}?$expand=*&$top=1")).await;
    let first = &body["value"][0];
    for nav in [
        "defaultIosEnrollmentProfile",
        "defaultMacOsEnrollmentProfile",
        "defaultTvOSEnrollmentProfile",
        "defaultVisionOSEnrollmentProfile",
        "enrollmentProfiles",
        "importedAppleDeviceIdentities",
    ] {
        assert!(first.get(nav).is_some(), "{nav}: {first}");
    }
    let next = body["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("$expand=%2A&"), "{next}");
    let page2 = json_ok(&app, next.strip_prefix(&app.base).unwrap()).await;
    assert_eq!(page2["value"].as_array().unwrap().len(), 1);
    assert!(page2["value"][0].get("enrollmentProfiles").is_some());
    assert_ne!(page2["value"][0]["id"], first["id"]);
}

async fn expand_on_one_setting_takes_nested_options(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let f = fixture(&app).await;

    // The URL.
    let body = json_ok(
        &app,
        &format!("{SETTINGS}/{}?$expand=enrollmentProfiles($select=id)", f.a),
    )
    .await;
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/depOnboardingSettings(enrollmentProfiles(id))/$entity",
            app.base
        )
    );
    assert_eq!(body["tokenName"], "token a");
    let profiles = body["enrollmentProfiles"].as_array().unwrap();
    let mut got = ids(&body["enrollmentProfiles"], "id");
    got.sort();
    let mut want = [f.alpha.clone(), f.beta.clone()];
    want.sort();
    assert_eq!(got, want);
    for p in profiles {
        let mut keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["@odata.type", "id"], "{p}");
    }

    let url = format!(
        "{SETTINGS}/{}?$expand=enrollmentProfiles($filter=isof('microsoft.graph.depMacOSEnrollmentProfile')),importedAppleDeviceIdentities($select=serialNumber;$top=1;$orderby=serialNumber)",
        f.a
    );
    let body = json_ok(&app, &url).await;
    assert_eq!(ids(&body["enrollmentProfiles"], "id"), [f.beta.as_str()]);
    assert_eq!(
        body["importedAppleDeviceIdentities"],
        json!([{"@odata.type": "#microsoft.graph.importedAppleDeviceIdentity", "serialNumber": "C02AAAAA0001"}])
    );
}

async fn expand_star_on_types_without_navigations(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let f = fixture(&app).await;
    let profiles = format!("{SETTINGS}/{}/enrollmentProfiles", f.a);
    let devices = format!("{SETTINGS}/{}/importedAppleDeviceIdentities", f.a);

    // The URL: enrollmentProfile declares no navigation, so `*` expands nothing.
    let plain = json_ok(&app, &profiles).await;
    let starred = json_ok(&app, &format!("{profiles}?$expand=*")).await;
    assert_eq!(starred["value"], plain["value"]);
    let one = json_ok(&app, &format!("{profiles}/{}?$expand=*", f.alpha)).await;
    assert_eq!(one["id"], f.alpha.as_str());
    let cast = json_ok(
        &app,
        &format!("{profiles}/microsoft.graph.depIOSEnrollmentProfile?$expand=*"),
    )
    .await;
    assert_eq!(ids(&cast["value"], "id"), [f.alpha.as_str()]);
    let listed = json_ok(&app, &format!("{devices}?$expand=*")).await;
    assert_eq!(listed["value"].as_array().unwrap().len(), 4);

    for path in [
        format!("{profiles}?$expand=assignments"),
        format!("{profiles}/{}?$expand=enrollmentProfiles", f.alpha),
        format!("{devices}?$expand=*,x"),
    ] {
        let msg = assert_graph_error(app.get(&path).await, 400, "BadRequest").await;
        assert!(
            msg.contains("Could not find a navigation property"),
            "{path}: {msg}"
        );
    }
}

async fn bad_expand_options_are_graph_400s_and_ids_are_checked(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    // Validated before anything is read: an empty tenant still gets the 400s.
    let empty = setting(&app, "empty").await;
    for (query, needle) in [
        ("$expand=nope", "navigation property named 'nope'"),
        (
            "$expand=enrollmentProfiles($expand=x)",
            "more than one level",
        ),
        ("$expand=enrollmentProfiles($search=x)", "$search"),
        ("$expand=enrollmentProfiles($select=nope)", "'nope'"),
        (
            "$expand=enrollmentProfiles($filter=nope%20eq%201)",
            "'nope'",
        ),
        (
            "$expand=enrollmentProfiles($filter=displayName%20eq)",
            "Syntax error",
        ),
        ("$expand=enrollmentProfiles($top=x)", "$top"),
        ("$expand=enrollmentProfiles($orderby=nope)", "'nope'"),
        (
            "$expand=importedAppleDeviceIdentities($filter=serialNumber%20eq%205)",
            "serialNumber",
        ),
        (
            "$expand=importedAppleDeviceIdentities($filter=isof('microsoft.graph.user'))",
            "invalid type cast",
        ),
        ("$expand=defaultIosEnrollmentProfile($top=1)", "$top"),
        ("$expand=enrollmentProfiles(", "$expand"),
        (
            "$expand=enrollmentProfiles,EnrollmentProfiles",
            "more than once",
        ),
        ("$expand=enrollmentProfiles/x", "Property path"),
        ("$expand=*($select=id)", "$expand"),
    ] {
        for path in [
            format!("{SETTINGS}?{query}"),
            format!("{SETTINGS}/{empty}?{query}"),
        ] {
            let msg = assert_graph_error(app.get(&path).await, 400, "BadRequest").await;
            assert!(msg.contains(needle), "{path}: {msg}");
        }
    }
    // An unknown id, and another tenant's, are 404s with or without `$expand`.
    let unknown = format!("{SETTINGS}/{}?$expand=*", Uuid::new_v4());
    assert_graph_error(app.get(&unknown).await, 404, "ResourceNotFound").await;
    let other = app.token_for(TenantId::new(Uuid::new_v4()), &[READ_WRITE]);
    let resp = app
        .client
        .get(format!(
            "{}{SETTINGS}/{empty}?$expand=enrollmentProfiles",
            app.base
        ))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 404, "ResourceNotFound").await;
    // The other tenant's collection expands only its own (no) settings.
    let resp = app
        .client
        .get(format!("{}{SETTINGS}?$expand=*", app.base))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["value"], json!([]));
    // Oversized: a `$filter` inside `$expand` has the same length limit as a top-level one.
    let long = format!(
        "{SETTINGS}?$expand=enrollmentProfiles($filter=displayName%20eq%20'{}')",
        "x".repeat(5000)
    );
    let msg = assert_graph_error(app.get(&long).await, 400, "BadRequest").await;
    assert!(msg.contains("too long"), "{msg}");
}

async fn search_matches_token_names_and_apple_ids(backend: Backend) {
    let sim = apple_sim::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        state_file: None,
    })
    .await
    .expect("simulator");
    let url = sim.base_url();
    let app = TestApp::spawn_with(backend, move |s| s.apple_base_url = url).await;
    // One token onboarded through Apple (its Apple ID is set by uploadDepToken) ...
    let onboarded = setting(&app, "first").await;
    let key: Value = app
        .get(&format!("{SETTINGS}/{onboarded}/getEncryptionPublicKey()"))
        .await
        .json()
        .await
        .unwrap();
    let dep_token = apple_sim::make_dep_token(
        &sim.base_url(),
        "Server One",
        3,
        key["value"].as_str().unwrap(),
    )
    .await
    .unwrap();
    let resp = app
        .post_json(
            &format!("{SETTINGS}/{onboarded}/uploadDepToken"),
            &json!({"appleId": "mdm-admin@example.com", "depToken": dep_token}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    // ... and one named by hand.
    let named = setting(&app, "Contoso ADMIN token").await;
    setting(&app, "unrelated").await;

    for (search, want) in [
        ("%22admin%22", vec![&onboarded, &named]),
        ("admin", vec![&onboarded, &named]),
        ("%22EXAMPLE.com%22", vec![&onboarded]),
        ("%22first%22", vec![&onboarded]),
        ("%22contoso%22", vec![&named]),
        ("%22nothing%22", vec![]),
    ] {
        let body = json_ok(
            &app,
            &format!("{SETTINGS}?$search={search}&$orderby=tokenName"),
        )
        .await;
        let mut got = ids(&body["value"], "id");
        got.sort();
        let mut want: Vec<String> = want.into_iter().cloned().collect();
        want.sort();
        assert_eq!(got, want, "{search}");
        assert_eq!(body["@odata.count"], want.len(), "{search}");
        let count = app
            .get(&format!("{SETTINGS}/$count?$search={search}"))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(count, want.len().to_string(), "{search}");
    }
    // `$search` and `$filter` combine; paging keeps the search.
    let body = json_ok(
        &app,
        &format!("{SETTINGS}?$search=%22admin%22&$filter=tokenType%20eq%20'dep'"),
    )
    .await;
    assert_eq!(ids(&body["value"], "id"), [onboarded.as_str()]);
    let body = json_ok(&app, &format!("{SETTINGS}?$search=%22admin%22&$top=1")).await;
    let next = body["@odata.nextLink"].as_str().unwrap();
    let page2 = json_ok(&app, next.strip_prefix(&app.base).unwrap()).await;
    assert_eq!(page2["value"].as_array().unwrap().len(), 1);
    assert!(page2.get("@odata.nextLink").is_none());
    for search in [
        "",
        "%22a%22%20OR%20%22b%22",
        "%22tokenName:x%22",
        "%22unbalanced",
    ] {
        assert_graph_error(
            app.get(&format!("{SETTINGS}?$search={search}")).await,
            400,
            "BadRequest",
        )
        .await;
    }
}

async fn filter_functions_casts_and_isof(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let f = fixture(&app).await;
    let profiles = format!("{SETTINGS}/{}/enrollmentProfiles", f.a);
    let devices = format!("{SETTINGS}/{}/importedAppleDeviceIdentities", f.a);
    let ios_type = "microsoft.graph.depIOSEnrollmentProfile";
    let cases: Vec<(String, Vec<&String>)> = vec![
        (
            format!("{profiles}?$filter=tolower(displayName)%20eq%20'alpha'"),
            vec![&f.alpha],
        ),
        (
            format!("{profiles}?$filter=toupper(displayName)%20eq%20'alpha'"),
            vec![],
        ),
        (
            format!("{profiles}?$filter=isof('{ios_type}')"),
            vec![&f.alpha],
        ),
        (
            format!("{profiles}?$filter=not%20isof({ios_type})"),
            vec![&f.beta],
        ),
        (
            format!("{profiles}?$filter=isof('microsoft.graph.depEnrollmentBaseProfile')"),
            vec![&f.alpha, &f.beta],
        ),
        (
            format!("{profiles}?$filter={ios_type}/iTunesPairingMode%20eq%20'allow'"),
            vec![&f.alpha],
        ),
        (
            format!("{profiles}?$filter={ios_type}/iTunesPairingMode%20has%20'ALLOW'"),
            vec![&f.alpha],
        ),
        (
            format!("{profiles}?$filter={ios_type}/iTunesPairingMode%20eq%20null"),
            vec![&f.beta],
        ),
    ];
    for (url, want) in cases {
        let body = json_ok(&app, &url).await;
        assert_eq!(ids(&body["value"], "id"), sorted(&want), "{url}");
        let count = app
            .get(&url.replace("enrollmentProfiles?", "enrollmentProfiles/$count?"))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(count, want.len().to_string(), "{url}");
    }
    // Cast paths in `$select`.
    let body = json_ok(
        &app,
        &format!("{profiles}?$select=id,{ios_type}/iTunesPairingMode&$orderby=displayName"),
    )
    .await;
    assert_eq!(body["value"][0]["iTunesPairingMode"], "allow");
    assert!(body["value"][0].get("displayName").is_none());
    assert!(body["value"][1].get("iTunesPairingMode").is_none());

    refusals(&app, &profiles, &devices).await;
}

/// Misused functions, casts and `isof` are Graph 400s naming the construct.
async fn refusals(app: &TestApp, profiles: &str, devices: &str) {
    for (url, needle) in [
        (
            format!("{profiles}?$filter=isof('microsoft.graph.user')"),
            "invalid type cast",
        ),
        (
            format!(
                "{profiles}?$filter=microsoft.graph.depMacOSEnrollmentProfile/iTunesPairingMode%20eq%20'allow'"
            ),
            "'iTunesPairingMode' on type 'microsoft.graph.depMacOSEnrollmentProfile'",
        ),
        (
            format!(
                "{profiles}?$select=microsoft.graph.depMacOSEnrollmentProfile/iTunesPairingMode"
            ),
            "iTunesPairingMode",
        ),
        (
            format!("{profiles}?$filter=tolower(isDefault)%20eq%20'true'"),
            "'tolower'",
        ),
        (
            format!("{profiles}?$filter=displayName%20has%20'x'"),
            "'has'",
        ),
        (
            format!("{devices}?$filter=platform%20has%20'blackberry'"),
            "'blackberry'",
        ),
        (
            format!(
                "{devices}?$filter=microsoft.graph.depIOSEnrollmentProfile/serialNumber%20eq%20'x'"
            ),
            "invalid type cast",
        ),
        (
            format!("{SETTINGS}?$filter=isof(tokenName,'Edm.String')"),
            "isof(property, type)",
        ),
    ] {
        let msg = assert_graph_error(app.get(&url).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{url}: {msg}");
    }
}

/// The same constructs on the SQL-backed sets (identities and settings), compiled to SQL.
async fn filter_functions_on_sql_backed_sets(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let f = fixture(&app).await;
    let devices = format!("{SETTINGS}/{}/importedAppleDeviceIdentities", f.a);
    for (url, want) in [
        (
            format!("{devices}?$filter=tolower(serialNumber)%20eq%20'c02aaaaa0002'"),
            vec!["C02AAAAA0002"],
        ),
        (
            format!("{devices}?$filter=toupper(serialNumber)%20eq%20'C02BBBBB0001'"),
            vec!["C02BBBBB0001"],
        ),
        (
            format!("{devices}?$filter=tolower(serialNumber)%20eq%20'C02AAAAA0002'"),
            vec![],
        ),
        (
            format!(
                "{devices}?$filter=discoverySource%20has%20microsoft.graph.discoverySource'adminImport'%20and%20startswith(toupper(serialNumber),'c02b')"
            ),
            vec!["C02BBBBB0001"],
        ),
        (
            format!(
                "{devices}?$filter=isof('microsoft.graph.importedAppleDeviceIdentity')%20and%20serialNumber%20ge%20'C02AAAAA0003'"
            ),
            vec!["C02AAAAA0003", "C02BBBBB0001"],
        ),
    ] {
        let body = json_ok(&app, &format!("{url}&$orderby=serialNumber")).await;
        assert_eq!(ids(&body["value"], "serialNumber"), want, "{url}");
    }
    let body = json_ok(
        &app,
        &format!("{SETTINGS}?$filter=microsoft.graph.depOnboardingSetting/tokenName%20eq%20'TOKEN%20B'%20and%20tokenType%20has%20'none'"),
    )
    .await;
    assert_eq!(ids(&body["value"], "id"), [f.b.as_str()]);
}

on_both_backends!(
    expand_on_the_settings_collection,
    expand_star_pages_the_settings,
    expand_on_one_setting_takes_nested_options,
    expand_star_on_types_without_navigations,
    bad_expand_options_are_graph_400s_and_ids_are_checked,
    search_matches_token_names_and_apple_ids,
    filter_functions_casts_and_isof,
    filter_functions_on_sql_backed_sets,
);
