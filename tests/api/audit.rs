//! The audit trail end to end: every accepted write records one event with the caller from the
//! token and what changed (never a secret), reads and refused writes record nothing, `IntuneCD`'s
//! exact v1.0 query, filters, paging, the two functions, isolation and permissions.

use dep_gateway::domain::ids::TenantId;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{AUDIENCE, Backend, READ_WRITE, TestApp, assert_graph_error};
use crate::on_both_backends;

const EVENTS: &str = "/beta/deviceManagement/auditEvents";
const V1_EVENTS: &str = "/v1.0/deviceManagement/auditEvents";
const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";
pub(crate) const AUDIT_READ: &str = "DeviceManagementApps.Read.All";
pub(crate) const UPN: &str = "admin@contoso.com";
const PASSWORD: &str = "P@ss-SECRET-admin-1";

/// A delegated token for `tenant` that names its user and app, as Entra's do.
pub(crate) fn token(app: &TestApp, tenant: TenantId, scopes: &[&str]) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({
        "aud": AUDIENCE, "iss": app.authority.issuer_for(&tenant), "tid": tenant.to_string(),
        "oid": "00000000-0000-0000-0000-000000000004", "sub": "s", "ver": "2.0",
        "appid": "11111111-2222-3333-4444-555555555555", "app_displayname": "IntuneCD",
        "upn": UPN, "scp": scopes.join(" "), "iat": now, "nbf": now, "exp": now + 600,
    });
    app.authority.sign_claims(&claims).expect("sign")
}

pub(crate) async fn send(
    app: &TestApp,
    bearer: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(bearer);
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Every event of the tenant, oldest first.
pub(crate) async fn events(app: &TestApp, tenant: TenantId) -> Vec<Value> {
    let bearer = token(app, tenant, &[AUDIT_READ]);
    let path = format!("{EVENTS}?$orderby=activityDateTime%20asc&$top=999");
    let (status, body) = send(app, &bearer, Method::GET, &path, None).await;
    assert_eq!(status, 200, "{body}");
    body["value"].as_array().expect("value").clone()
}

/// Writes of every family through the multi-token API; returns (setting id, profile id).
async fn write_everything(app: &TestApp, rw: &str) -> (String, String) {
    let (s, setting) = send(
        app,
        rw,
        Method::POST,
        SETTINGS,
        Some(&json!({"tokenName": "Main"})),
    )
    .await;
    assert_eq!(s, 201, "{setting}");
    let id = setting["id"].as_str().expect("id").to_owned();
    let one = format!("{SETTINGS}/{id}");
    let (s, _) = send(
        app,
        rw,
        Method::PATCH,
        &one,
        Some(&json!({"tokenName": "Renamed"})),
    )
    .await;
    assert_eq!(s, 204);
    let profiles = format!("{one}/enrollmentProfiles");
    let body = json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile",
        "displayName": "Mac", "adminAccountUserName": "admin", "adminAccountPassword": PASSWORD});
    let (s, profile) = send(app, rw, Method::POST, &profiles, Some(&body)).await;
    assert_eq!(s, 201, "{profile}");
    let pid = profile["id"].as_str().expect("id").to_owned();
    let patch = json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile",
        "description": "d", "adminAccountPassword": format!("{PASSWORD}-2")});
    let (s, _) = send(
        app,
        rw,
        Method::PATCH,
        &format!("{profiles}/{pid}"),
        Some(&patch),
    )
    .await;
    assert_eq!(s, 204);
    let import = json!({"importedAppleDeviceIdentities": [{"serialNumber": "C02AUDIT0001"}],
        "overwriteImportedDeviceIdentities": false});
    let import_path = format!("{one}/importedAppleDeviceIdentities/importAppleDeviceIdentityList");
    let (s, body) = send(app, rw, Method::POST, &import_path, Some(&import)).await;
    assert_eq!(s, 200, "{body}");
    (id, pid)
}

async fn every_write_records_one_event_with_actor_and_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rw = token(&app, app.tenant, &[READ_WRITE]);
    let (setting, profile) = write_everything(&app, &rw).await;
    // Reads and refused writes record nothing.
    let (s, _) = send(&app, &rw, Method::GET, SETTINGS, None).await;
    assert_eq!(s, 200);
    let bad = json!({"tokenName": 5});
    let (s, _) = send(
        &app,
        &rw,
        Method::PATCH,
        &format!("{SETTINGS}/{setting}"),
        Some(&bad),
    )
    .await;
    assert_eq!(s, 400);
    let got = events(&app, app.tenant).await;
    let types: Vec<&str> = got
        .iter()
        .map(|e| e["activityType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Create DepOnboardingSetting",
            "Patch DepOnboardingSetting",
            "Create EnrollmentProfile",
            "Patch EnrollmentProfile",
            "Action ImportedAppleDeviceIdentity",
        ]
    );
    for e in &got {
        assert_eq!(e["componentName"], "Enrollment");
        assert_eq!(e["category"], "Enrollment");
        assert_eq!(e["activityResult"], "Success");
        assert!(Uuid::parse_str(e["correlationId"].as_str().unwrap()).is_ok());
        let actor = &e["actor"];
        assert_eq!(actor["auditActorType"], "ItPro");
        assert_eq!(actor["userPrincipalName"], UPN);
        assert_eq!(actor["applicationDisplayName"], "IntuneCD");
        assert_eq!(
            actor["applicationId"],
            "11111111-2222-3333-4444-555555555555"
        );
        assert_eq!(actor["userId"], "00000000-0000-0000-0000-000000000004");
        assert!(
            actor["ipAddress"].as_str().is_some_and(|ip| !ip.is_empty()),
            "{actor}"
        );
        assert!(
            !e["resources"][0]["auditResourceType"]
                .as_str()
                .unwrap()
                .is_empty()
        );
    }
    let rename = &got[1]["resources"][0];
    assert_eq!(rename["resourceId"], setting.as_str());
    assert_eq!(
        rename["modifiedProperties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["displayName"] == "TokenName")
            .unwrap(),
        &json!({"displayName": "TokenName", "oldValue": "Main", "newValue": "Renamed"})
    );
    let created = &got[2]["resources"][0];
    assert_eq!(created["resourceId"], profile.as_str());
    assert_eq!(created["auditResourceType"], "DepMacOSEnrollmentProfile");
    assert_eq!(created["displayName"], "Mac");
    let all = serde_json::to_string(&got).unwrap();
    assert!(
        !all.contains(PASSWORD) && !all.contains("AdminAccountPassword"),
        "{all}"
    );
    assert_eq!(got[4]["resources"][0]["displayName"], "C02AUDIT0001");
    // The request id is the correlation id: a write's response header names its event.
    let resp = app
        .client
        .delete(format!(
            "{}{SETTINGS}/{setting}/enrollmentProfiles/{profile}",
            app.base
        ))
        .bearer_auth(&rw)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let request_id = resp.headers()["request-id"].to_str().unwrap().to_owned();
    let last = events(&app, app.tenant).await.pop().unwrap();
    assert_eq!(last["correlationId"], request_id.as_str());
    assert_eq!(last["activityType"], "Delete EnrollmentProfile");
    assert_eq!(
        last["activity"],
        "deviceManagement.depOnboardingSetting_DeleteEnrollmentProfile"
    );
}

async fn intunecd_query_on_v1_gets_the_v1_shape(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rw = token(&app, app.tenant, &[READ_WRITE]);
    let (_, profile) = write_everything(&app, &rw).await;
    let now = chrono::Utc::now();
    let fmt = "%Y-%m-%dT%H:%M:%S%.6fZ";
    let start = (now - chrono::Duration::days(1)).format(fmt);
    let end = (now + chrono::Duration::minutes(1)).format(fmt);
    let filter = format!(
        "componentName eq 'Enrollment' and activityDateTime gt {start} and activityDateTime le {end} and activityOperationType ne 'Get'"
    );
    let url = reqwest::Url::parse_with_params(
        &format!("{}{V1_EVENTS}", app.base),
        [
            ("$filter", filter.as_str()),
            ("$select", "actor,activityDateTime,activityType,activityOperationType,activityResult,resources"),
            ("$orderby", "activityDateTime desc"),
        ],
    )
    .unwrap();
    let bearer = token(&app, app.tenant, &[AUDIT_READ]);
    let resp = app
        .client
        .get(url)
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .contains("/v1.0/$metadata#"),
        "{body}"
    );
    let value = body["value"].as_array().unwrap();
    assert_eq!(value.len(), 5);
    let times: Vec<&str> = value
        .iter()
        .map(|e| e["activityDateTime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    for e in value {
        assert!(
            e.get("id").is_none() && e.get("componentName").is_none(),
            "{e}"
        );
        let actor = e["actor"].as_object().unwrap();
        assert!(actor.contains_key("auditActorType") && !actor.contains_key("type"));
        assert!(!actor.contains_key("userRoleScopeTags") && !actor.contains_key("remoteTenantId"));
        let r = e["resources"][0].as_object().unwrap();
        assert!(r.contains_key("auditResourceType") && r.contains_key("resourceId"));
        assert!(!r.contains_key("type"), "{e}");
    }
    // IntuneCD attributes the profile by resourceId.
    assert!(
        value
            .iter()
            .any(|e| e["resources"][0]["resourceId"] == profile.as_str())
    );
    // Beta keeps the beta-only members.
    let (_, beta) = send(&app, &bearer, Method::GET, EVENTS, None).await;
    assert!(
        beta["value"][0]["actor"]
            .as_object()
            .unwrap()
            .contains_key("type")
    );
}

async fn filters_paging_count_and_functions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rw = token(&app, app.tenant, &[READ_WRITE]);
    let (setting, profile) = write_everything(&app, &rw).await;
    let bearer = token(&app, app.tenant, &[AUDIT_READ]);
    assert_eq!(
        count(
            &app,
            &bearer,
            "Actor/UserPrincipalName eq 'ADMIN@contoso.com'"
        )
        .await,
        5
    );
    assert_eq!(
        count(
            &app,
            &bearer,
            "actor/applicationId eq '11111111-2222-3333-4444-555555555555'"
        )
        .await,
        5
    );
    assert_eq!(
        count(
            &app,
            &bearer,
            &format!("Resources/any(c: c/ResourceId eq '{profile}')")
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &app,
            &bearer,
            &format!("resources/any(r:r/resourceId eq '{setting}')")
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &app,
            &bearer,
            "resources/any(s:s/auditResourceType eq 'DepOnboardingSetting')"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &app,
            &bearer,
            "category eq 'Enrollment' and activityDateTime ge 2020-01-01"
        )
        .await,
        5
    );
    assert_eq!(
        count(&app, &bearer, "activityType eq 'Patch EnrollmentProfile'").await,
        1
    );
    assert_eq!(
        count(&app, &bearer, "componentName eq 'DeviceConfiguration'").await,
        0
    );

    paging_get_and_functions(&app, &bearer).await;
}

/// Keyset paging (newest first by default), one event, and the two functions.
async fn paging_get_and_functions(app: &TestApp, bearer: &str) {
    let (s, page) = send(app, bearer, Method::GET, &format!("{EVENTS}?$top=2"), None).await;
    assert_eq!(s, 200);
    let mut seen: Vec<String> = Vec::new();
    let mut page = page;
    loop {
        seen.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        let Some(next) = page["@odata.nextLink"].as_str() else {
            break;
        };
        let path = next.strip_prefix(app.base.as_str()).unwrap().to_owned();
        page = send(app, bearer, Method::GET, &path, None).await.1;
    }
    assert_eq!(seen.len(), 5);
    let first = &seen[0];
    let (s, one) = send(app, bearer, Method::GET, &format!("{EVENTS}/{first}"), None).await;
    assert_eq!((s, one["id"].as_str()), (200, Some(first.as_str())));
    assert_eq!(one["activityType"], "Action ImportedAppleDeviceIdentity");
    let (s, _) = send(
        app,
        bearer,
        Method::GET,
        &format!("{EVENTS}/{}", Uuid::new_v4()),
        None,
    )
    .await;
    assert_eq!(s, 404);

    let (s, cats) = send(
        app,
        bearer,
        Method::GET,
        &format!("{EVENTS}/getAuditCategories()"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        cats["value"]
            .as_array()
            .unwrap()
            .contains(&json!("Enrollment"))
    );
    let path = format!("{V1_EVENTS}/getAuditActivityTypes(category='Enrollment')");
    let (s, types) = send(app, bearer, Method::GET, &path, None).await;
    assert_eq!(s, 200, "{types}");
    assert_eq!(types["value"].as_array().unwrap().len(), 5);
}

async fn count(app: &TestApp, bearer: &str, filter: &str) -> i64 {
    let path = format!("{EVENTS}/$count?$filter={}", urlencode(filter));
    let (s, body) = send(app, bearer, Method::GET, &path, None).await;
    assert_eq!(s, 200, "{filter}: {body}");
    body.as_i64()
        .or_else(|| body.as_str().and_then(|t| t.parse().ok()))
        .unwrap()
}

fn urlencode(s: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", [("f", s)])
        .unwrap()
        .query()
        .unwrap()[2..]
        .to_owned()
}

async fn isolated_gated_and_bad_filters_are_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rw = token(&app, app.tenant, &[READ_WRITE]);
    write_everything(&app, &rw).await;
    let mine = events(&app, app.tenant).await;
    let other = TenantId::new(Uuid::new_v4());
    assert!(events(&app, other).await.is_empty());
    let bearer = token(&app, other, &[AUDIT_READ]);
    let id = mine[0]["id"].as_str().unwrap();
    let (s, _) = send(&app, &bearer, Method::GET, &format!("{EVENTS}/{id}"), None).await;
    assert_eq!(s, 404);

    let resp = app
        .client
        .get(format!("{}{EVENTS}", app.base))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    // The DEP permissions do not reach the trail (audit-events.md §4).
    let dep_only = app
        .client
        .get(format!("{}{V1_EVENTS}", app.base))
        .bearer_auth(&rw)
        .send()
        .await
        .unwrap();
    let message = assert_graph_error(dep_only, 403, "Forbidden").await;
    assert!(
        message.contains("DeviceManagementApps.Read.All"),
        "{message}"
    );

    let bearer = token(&app, app.tenant, &[AUDIT_READ]);
    for filter in [
        "resources/any(r: r/displayName eq 'x')",
        "actor/ipAddress eq '1.2.3.4'",
        "activityDateTime gt 'yesterday'",
        "nosuch eq 1",
    ] {
        let path = format!("{EVENTS}?$filter={}", urlencode(filter));
        let resp = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap();
        assert_graph_error(resp, 400, "BadRequest").await;
    }
    // Writes to the trail are not served.
    let (s, _) = send(&app, &bearer, Method::POST, EVENTS, Some(&json!({}))).await;
    assert_eq!(s, 405);
    assert_eq!(events(&app, app.tenant).await.len(), mine.len());
}

on_both_backends!(
    every_write_records_one_event_with_actor_and_changes,
    intunecd_query_on_v1_gets_the_v1_shape,
    filters_paging_count_and_functions,
    isolated_gated_and_bad_filters_are_400,
);
