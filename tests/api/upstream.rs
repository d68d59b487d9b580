//! Upstream mode against a real multi-token upstream: a second gateway in local mode plays
//! Graph (both on loopback), so every translated call runs against real multi-token semantics.

use std::collections::BTreeMap;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::helpers::{Backend, READ, TestApp, assert_graph_error};
use crate::legacy::{doc18_profile, get_json, import, json_of, new_setting, serials};
use crate::on_both_backends;

pub(crate) const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";
pub(crate) const PROFILES: &str = "/beta/deviceManagement/enrollmentProfiles";
pub(crate) const DEVICES: &str = "/beta/deviceManagement/importedAppleDeviceIdentities";
pub(crate) const HEADER: &str = "depGateway-LegacyDefaultToken";

/// "Graph" (a gateway in local mode) and a gateway in upstream mode in front of it; callers
/// hold Graph's tokens.
pub(crate) struct Pair {
    pub(crate) graph: TestApp,
    pub(crate) gw: TestApp,
}

impl Pair {
    pub(crate) async fn start(backend: Backend) -> Self {
        Self::with(backend, |_| {}, |_| {}).await
    }

    pub(crate) async fn with(
        backend: Backend,
        graph: impl FnOnce(&mut dep_gateway::config::Settings),
        gw: impl FnOnce(&mut dep_gateway::config::Settings),
    ) -> Self {
        let graph = TestApp::spawn_with(backend, |s| {
            long_keep_alive(s);
            graph(s);
        })
        .await;
        let base = graph.base.clone();
        let gw = TestApp::spawn_with(backend, move |s| {
            s.upstream.base_url = Some(base);
            gw(s);
        })
        .await;
        Self { graph, gw }
    }

    /// A request through the gateway with Graph's read-write token for its tenant.
    pub(crate) fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.gw
            .client
            .request(method, format!("{}{path}", self.gw.base))
            .bearer_auth(self.graph.token())
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.req(Method::GET, path).send().await.unwrap()
    }

    pub(crate) async fn send(&self, method: Method, path: &str, body: &Value) -> Response {
        self.req(method, path).json(body).send().await.unwrap()
    }

    /// Every item of a gateway collection, following its nextLinks; and the page count.
    async fn all_pages(&self, path: &str) -> (Vec<Value>, usize) {
        let (mut items, mut pages) = (Vec::new(), 0);
        let mut url = format!("{}{path}", self.gw.base);
        loop {
            assert!(
                url.starts_with(&self.gw.base),
                "nextLink on the gateway: {url}"
            );
            let resp = self
                .gw
                .client
                .get(&url)
                .bearer_auth(self.graph.token())
                .send()
                .await
                .unwrap();
            let page = json_of(resp, 200).await;
            pages += 1;
            items.extend(page["value"].as_array().unwrap().iter().cloned());
            match page["@odata.nextLink"].as_str() {
                Some(next) => next.clone_into(&mut url),
                None => return (items, pages),
            }
        }
    }
}

/// Graph keeps idle connections longer than a test's pauses (a gateway restart on PostgreSQL),
/// so a pooled connection is not closed under a request.
pub(crate) fn long_keep_alive(s: &mut dep_gateway::config::Settings) {
    s.http_keep_alive_secs = 120;
}

pub(crate) fn ios(serials: &[&str]) -> Value {
    let items: Vec<Value> = serials
        .iter()
        .map(|s| json!({"serialNumber": s, "platform": "ios"}))
        .collect();
    json!({"importedAppleDeviceIdentities": items, "overwriteImportedDeviceIdentities": false})
}

#[expect(clippy::too_many_lines, reason = "every translated call, end to end")]
async fn old_calls_are_translated_onto_the_upstream(backend: Backend) {
    let p = Pair::start(backend).await;
    let token = new_setting(&p.graph).await;
    let org = format!(
        "/beta/organization/{}/depOnboardingSettings",
        p.graph.tenant
    );

    // Settings, in the old shape.
    let list = json_of(p.get(&org).await, 200).await;
    let old = &list["value"][0];
    assert_eq!(old["id"], token.as_str());
    assert!(
        old.get("tokenType").is_none() && old.get("appleIdentifier").is_some(),
        "{old}"
    );
    let one = json_of(p.get(&format!("{org}/{token}")).await, 200).await;
    assert_eq!(one["id"], token.as_str());
    assert!(one.get("tokenName").is_none(), "{one}");
    let resp = p
        .send(
            Method::PATCH,
            &format!("{org}/{token}"),
            &json!({"shareTokenWithSchoolDataSyncService": true}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let direct = get_json(&p.graph, &format!("{SETTINGS}/{token}")).await;
    assert_eq!(
        direct["shareTokenWithSchoolDataSyncService"], true,
        "{direct}"
    );
    // A current-only property is not old: refused by the conversion, nothing sent upstream.
    let resp = p
        .send(
            Method::PATCH,
            &format!("{org}/{token}"),
            &json!({"tokenName": "x"}),
        )
        .await;
    assert_graph_error(resp, 400, "BadRequest").await;
    assert_ne!(
        get_json(&p.graph, &format!("{SETTINGS}/{token}")).await["tokenName"],
        "x"
    );
    // Another organization is a 404.
    let other = format!(
        "/beta/organization/{}/depOnboardingSettings",
        uuid::Uuid::new_v4()
    );
    assert_graph_error(p.get(&other).await, 404, "ResourceNotFound").await;

    // The collection-bound key is the default (only) token's.
    let key = json_of(
        p.get(&format!("{SETTINGS}/getEncryptionPublicKey")).await,
        200,
    )
    .await;
    let direct = get_json(
        &p.graph,
        &format!("{SETTINGS}/{token}/getEncryptionPublicKey()"),
    )
    .await;
    assert_eq!(key["value"], direct["value"]);

    // Profiles: created on the only token, old shape both ways.
    let created = json_of(p.send(Method::POST, PROFILES, &doc18_profile()).await, 201).await;
    assert_eq!(
        created["@odata.type"],
        "#microsoft.graph.depEnrollmentProfile"
    );
    let pid = created["id"].as_str().unwrap().to_owned();
    assert!(pid.starts_with(&token), "{pid}");
    let got = json_of(p.get(&format!("{PROFILES}/{pid}")).await, 200).await;
    assert_eq!(got["macOSFileVaultDisabled"], true, "{got}");
    let resp = p
        .send(
            Method::PATCH,
            &format!("{PROFILES}/{pid}"),
            &json!({"displayName": "Renamed"}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let direct = get_json(
        &p.graph,
        &format!("{SETTINGS}/{token}/enrollmentProfiles/{pid}"),
    )
    .await;
    assert_eq!(direct["displayName"], "Renamed");
    let listed = json_of(p.get(PROFILES).await, 200).await;
    assert_eq!(listed["value"].as_array().unwrap().len(), 1, "{listed}");
    let count = p.get(&format!("{PROFILES}/$count")).await;
    assert_eq!(count.text().await.unwrap(), "1");
    // An action on the token the id names: the upstream's answer, whatever it is.
    let config = p
        .get(&format!("{PROFILES}/{pid}/exportMobileConfig()"))
        .await;
    let direct = p
        .graph
        .get(&format!(
            "{SETTINGS}/{token}/enrollmentProfiles/{pid}/exportMobileConfig()"
        ))
        .await;
    assert_eq!(config.status(), direct.status());
    let unknown = format!("{token}_{}", uuid::Uuid::new_v4());
    assert_graph_error(
        p.get(&format!("{PROFILES}/{unknown}")).await,
        404,
        "ResourceNotFound",
    )
    .await;

    // Identities: imported on the only token, old shape, found by id, changed, deleted.
    let results = import_through(&p, &["UPSTREAM0001", "UPSTREAM0002"]).await;
    let first = &results["value"][0];
    assert_eq!(
        first["@odata.type"],
        "#microsoft.graph.importedAppleDeviceIdentityResult"
    );
    assert_eq!(first["status"], true, "{results}");
    let devices = json_of(p.get(DEVICES).await, 200).await;
    let items = devices["value"].as_array().unwrap().clone();
    assert_eq!(serials(&items).len(), 2);
    assert!(
        items.iter().all(|d| d.get("isDeleted").is_none()),
        "{devices}"
    );
    assert_eq!(
        p.get(&format!("{DEVICES}/$count"))
            .await
            .text()
            .await
            .unwrap(),
        "2"
    );
    let id = items[0]["id"].as_str().unwrap().to_owned();
    let resp = p
        .send(
            Method::PATCH,
            &format!("{DEVICES}/{id}"),
            &json!({"description": "old script"}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let got = json_of(p.get(&format!("{DEVICES}/{id}")).await, 200).await;
    assert_eq!(got["description"], "old script");
    assert_eq!(
        p.req(Method::DELETE, &format!("{DEVICES}/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_graph_error(
        p.get(&format!("{DEVICES}/{id}")).await,
        404,
        "ResourceNotFound",
    )
    .await;
    assert_eq!(
        p.req(Method::DELETE, &format!("{PROFILES}/{pid}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_graph_error(
        p.get(&format!("{PROFILES}/{pid}")).await,
        404,
        "ResourceNotFound",
    )
    .await;
}

/// An old importAppleDeviceIdentityList through the gateway.
async fn import_through(p: &Pair, serials: &[&str]) -> Value {
    json_of(
        p.send(
            Method::POST,
            &format!("{DEVICES}/importAppleDeviceIdentityList"),
            &ios(serials),
        )
        .await,
        200,
    )
    .await
}

async fn tenant_wide_reads_page_across_three_tokens(backend: Backend) {
    let p = Pair::with(backend, |s| s.max_page_size = 2, |s| s.max_page_size = 2).await;
    let mut expected = Vec::new();
    for (t, n) in [3usize, 0, 4].into_iter().enumerate() {
        let token = new_setting(&p.graph).await;
        let serials: Vec<String> = (0..n).map(|i| format!("PAGE{t}X{i:04}")).collect();
        let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
        if n > 0 {
            import(
                &p.graph,
                &format!("{SETTINGS}/{token}/importedAppleDeviceIdentities"),
                &refs,
            )
            .await;
        }
        expected.extend(serials);
    }
    let (items, pages) = p.all_pages(DEVICES).await;
    assert_eq!(serials(&items), expected.iter().cloned().collect());
    assert_eq!(items.len(), 7, "no item twice");
    // Two per page, merged: the gateway reads ahead to know whether more follow, so no empty
    // last page.
    assert_eq!(pages, 4);
    // The continuation is the gateway's, signed: a changed one is refused.
    let first = json_of(p.get(DEVICES).await, 200).await;
    let next = first["@odata.nextLink"].as_str().unwrap();
    let tampered = next.replace("$skiptoken=", "$skiptoken=A");
    let resp =
        p.gw.client
            .get(&tampered)
            .bearer_auth(p.graph.token())
            .send()
            .await
            .unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
    // $count is every token's.
    assert_eq!(
        p.get(&format!("{DEVICES}/$count"))
            .await
            .text()
            .await
            .unwrap(),
        "7"
    );
}

async fn tenant_wide_writes_need_a_default_token(backend: Backend) {
    let graph = TestApp::spawn_with(backend, long_keep_alive).await;
    let a = new_setting(&graph).await;
    let b = new_setting(&graph).await;
    let base = graph.base.clone();
    let tenant = graph.tenant.to_string();
    let configured = b.clone();
    let plain = TestApp::spawn_with(backend, |s| s.upstream.base_url = Some(base.clone())).await;
    let p = Pair { graph, gw: plain };
    // Two tokens, none named: 409 naming the per-token call; nothing created.
    let resp = p
        .send(
            Method::POST,
            &format!("{DEVICES}/importAppleDeviceIdentityList"),
            &ios(&["AMBIG00001"]),
        )
        .await;
    let message = assert_graph_error(resp, 409, "Conflict").await;
    assert!(
        message.contains("/depOnboardingSettings/{id}/importedAppleDeviceIdentities"),
        "{message}"
    );
    for t in [&a, &b] {
        let d = get_json(
            &p.graph,
            &format!("{SETTINGS}/{t}/importedAppleDeviceIdentities"),
        )
        .await;
        assert_eq!(d["value"].as_array().unwrap().len(), 0);
    }
    // Named by the header: that token.
    let resp = p
        .req(
            Method::POST,
            &format!("{DEVICES}/importAppleDeviceIdentityList"),
        )
        .header(HEADER, &a)
        .json(&ios(&["HEADER0001"]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let d = get_json(
        &p.graph,
        &format!("{SETTINGS}/{a}/importedAppleDeviceIdentities"),
    )
    .await;
    assert_eq!(d["value"][0]["serialNumber"], "HEADER0001");
    // Named in the configuration: that token.
    let Pair { graph, .. } = p;
    let gw = TestApp::spawn_with(backend, move |s| {
        s.upstream.base_url = Some(base);
        s.upstream.default_tokens = BTreeMap::from([(tenant, configured)]);
    })
    .await;
    let p = Pair { graph, gw };
    import_through(&p, &["CONFIG0001"]).await;
    let d = get_json(
        &p.graph,
        &format!("{SETTINGS}/{b}/importedAppleDeviceIdentities"),
    )
    .await;
    assert_eq!(d["value"][0]["serialNumber"], "CONFIG0001");
    // The resource reports it; setting it is refused (no state here).
    let report = json_of(
        p.get("/beta/deviceManagement/depGateway.legacyDefaultToken")
            .await,
        200,
    )
    .await;
    assert_eq!(report["effectiveDepOnboardingSettingId"], b.as_str());
    let resp = p
        .send(
            Method::PUT,
            "/beta/deviceManagement/depGateway.legacyDefaultToken",
            &json!({"depOnboardingSettingId": a}),
        )
        .await;
    assert_graph_error(resp, 400, "BadRequest").await;
}

async fn upstream_errors_and_limits_come_back_unchanged(backend: Backend) {
    let p = Pair::with(
        backend,
        |s| {
            s.throttling.window_secs = 600;
            s.throttling.tenant_requests = 8;
        },
        |_| {},
    )
    .await;
    // No token: the gateway's own 401. A token the upstream rejects: the upstream's 401.
    let resp =
        p.gw.client
            .get(format!("{}{DEVICES}", p.gw.base))
            .send()
            .await
            .unwrap();
    assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    let foreign = p.gw.token();
    let resp =
        p.gw.client
            .get(format!("{}{SETTINGS}", p.gw.base))
            .bearer_auth(&foreign)
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["error"]["code"], "InvalidAuthenticationToken",
        "{body}"
    );
    // A read-only token on an old write: the upstream's 403, and nothing created.
    new_setting(&p.graph).await;
    let read_only = p.graph.token_for(p.graph.tenant, &[READ]);
    let resp =
        p.gw.client
            .post(format!("{}{PROFILES}", p.gw.base))
            .bearer_auth(&read_only)
            .json(&doc18_profile())
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Forbidden", "{body}");
    // Another tenant's setting id: the upstream's 404 envelope, passed through.
    let other = uuid::Uuid::new_v4();
    let resp = p
        .get(&format!(
            "/beta/organization/{}/depOnboardingSettings/{other}",
            p.graph.tenant
        ))
        .await;
    let message = assert_graph_error(resp, 404, "ResourceNotFound").await;
    assert!(message.contains(&other.to_string()), "{message}");
    // Malformed JSON stops at the gateway.
    let resp = p
        .req(Method::POST, PROFILES)
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
    // The upstream's throttling: 429 with its Retry-After, on translated and passed-through calls.
    let mut throttled = None;
    for _ in 0..20 {
        let resp = p.get(DEVICES).await;
        if resp.status() == 429 {
            throttled = Some(resp);
            break;
        }
        assert_eq!(resp.status(), 200);
    }
    let resp = throttled.expect("the upstream throttles");
    assert!(resp.headers().get("Retry-After").is_some());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TooManyRequests", "{body}");
    let resp = p.get(SETTINGS).await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("Retry-After").is_some());
}

async fn other_calls_and_batches_pass_through(backend: Backend) {
    let p = Pair::start(backend).await;
    let resp = p
        .req(Method::POST, SETTINGS)
        .header("client-request-id", "3f1c1a9e-0000-4000-8000-000000000001")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(
        resp.headers()["client-request-id"],
        "3f1c1a9e-0000-4000-8000-000000000001"
    );
    assert!(resp.headers().get("Location").is_some());
    let created: Value = resp.json().await.unwrap();
    let token = created["id"].as_str().unwrap().to_owned();
    // The upstream holds it; the gateway holds nothing.
    get_json(&p.graph, &format!("{SETTINGS}/{token}")).await;
    // $batch: the old item is translated, the new one forwarded.
    let batch = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/deviceManagement/importedAppleDeviceIdentities"},
        {"id": "2", "method": "GET", "url": format!("/deviceManagement/depOnboardingSettings/{token}")},
    ]});
    let out = json_of(p.send(Method::POST, "/beta/$batch", &batch).await, 200).await;
    let responses = out["responses"].as_array().unwrap();
    for r in responses {
        assert_eq!(r["status"], 200, "{out}");
    }
    let by_id = |id: &str| responses.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(by_id("2")["body"]["id"], token.as_str());
    assert!(by_id("1")["body"]["value"].is_array());
}

async fn an_upstream_that_does_not_answer_is_a_504(backend: Backend) {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", silent.local_addr().unwrap());
    let graph = TestApp::spawn(backend).await;
    let gw = TestApp::spawn_with(backend, move |s| {
        s.upstream.base_url = Some(base);
        s.upstream.timeout_secs = 1;
    })
    .await;
    let p = Pair { graph, gw };
    assert_graph_error(p.get(DEVICES).await, 504, "GatewayTimeout").await;
    assert_graph_error(p.get(SETTINGS).await, 504, "GatewayTimeout").await;
    drop(silent);
}

on_both_backends!(
    old_calls_are_translated_onto_the_upstream,
    tenant_wide_reads_page_across_three_tokens,
    tenant_wide_writes_need_a_default_token,
    upstream_errors_and_limits_come_back_unchanged,
    other_calls_and_batches_pass_through,
    an_upstream_that_does_not_answer_is_a_504,
);
