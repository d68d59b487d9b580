//! Upstream mode, continued: tenant-wide lists answer as local mode does for the same data
//! (the upstream is a local-mode gateway, so the same old request is asked of both), the
//! upstream calls each request makes (counted on the upstream's `/metrics`), `/v1.0`
//! pass-through, and the legacy default token's configuration-only designation.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_graph_error};
use crate::legacy::{doc18_profile, get_json, import, json_of, new_setting};
use crate::on_both_backends;
use crate::upstream::{DEVICES, HEADER, PROFILES, Pair, SETTINGS, ios};

const DEFAULT_TOKEN: &str = "/beta/deviceManagement/depGateway.legacyDefaultToken";
const LISTS: &str = "dep_gateway_http_requests_total{operation=\"deviceManagement_ListDepOnboardingSetting\",status_class=\"2xx\"}";

/// Every item of a collection at `base`, following its nextLinks (which must stay on `base`),
/// and the `@odata.count` of each page.
async fn walk(app: &TestApp, base: &str, token: &str, path: &str) -> (Vec<Value>, Vec<Value>) {
    let (mut items, mut counts) = (Vec::new(), Vec::new());
    let mut url = format!("{base}{path}");
    loop {
        assert!(url.starts_with(base), "nextLink on {base}: {url}");
        let resp = app
            .client
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let page = json_of(resp, 200).await;
        counts.push(page["@odata.count"].clone());
        items.extend(page["value"].as_array().unwrap().iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(next) => next.clone_into(&mut url),
            None => return (items, counts),
        }
    }
}

/// Three tokens whose identities' serial numbers interleave (token `t` holds every third),
/// and a profile on each whose names interleave the other way.
async fn three_tokens(p: &Pair) -> Vec<String> {
    let mut tokens = Vec::new();
    for t in 0..3usize {
        let token = new_setting(&p.graph).await;
        let serials: Vec<String> = (0..10)
            .filter(|n| n % 3 == t)
            .map(|n| format!("MERGEX{n:04}"))
            .chain([format!("OTHERX000{t}")])
            .collect();
        let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
        import(
            &p.graph,
            &format!("{SETTINGS}/{token}/importedAppleDeviceIdentities"),
            &refs,
        )
        .await;
        for name in [format!("Profile {}", 9 - t), format!("Profile {t}")] {
            let mut body = doc18_profile();
            body["displayName"] = json!(name);
            let resp = p
                .req(Method::POST, PROFILES)
                .header(HEADER, &token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201);
        }
        tokens.push(token);
    }
    tokens
}

async fn merged_lists_answer_as_local_mode_does(backend: Backend) {
    // Different page sizes: the gateway's pages cut the merged list, not the upstream's pages.
    let p = Pair::with(backend, |s| s.max_page_size = 2, |s| s.max_page_size = 3).await;
    three_tokens(&p).await;
    let org = format!(
        "/beta/organization/{}/depOnboardingSettings",
        p.graph.tenant
    );
    let token = p.graph.token();
    for path in [
        DEVICES.to_owned(),
        format!("{DEVICES}?$orderby=serialNumber desc"),
        format!("{DEVICES}?$orderby=serialNumber&$count=true&$top=4"),
        format!(
            "{DEVICES}?$filter=startswith(serialNumber,'MERGEX')&$orderby=serialNumber desc&$count=true"
        ),
        format!("{DEVICES}?$search=\"MERGEX000\"&$count=true"),
        format!("{DEVICES}?$orderby=serialNumber&$skip=5"),
        format!("{DEVICES}?$count=true&$select=serialNumber"),
        PROFILES.to_owned(),
        format!("{PROFILES}?$orderby=displayName desc&$count=true"),
        format!(
            "{PROFILES}?$filter=startswith(displayName,'Profile')&$orderby=displayName&$top=2&$count=true"
        ),
        format!("{org}?$count=true"),
    ] {
        let (local, local_counts) = walk(&p.graph, &p.graph.base, &token, &path).await;
        let (up, up_counts) = walk(&p.gw, &p.gw.base, &token, &path).await;
        assert!(!local.is_empty(), "{path}");
        assert_eq!(up, local, "{path}");
        // @odata.count on every page, as local mode sends it (or on none).
        assert!(
            local_counts.iter().all(|c| *c == local_counts[0]),
            "{path}: {local_counts:?}"
        );
        assert!(
            up_counts.iter().all(|c| *c == local_counts[0]),
            "{path}: {up_counts:?} vs {local_counts:?}"
        );
    }
    // The order is really merged across tokens, not token by token.
    let (items, _) = walk(
        &p.gw,
        &p.gw.base,
        &token,
        &format!("{DEVICES}?$orderby=serialNumber"),
    )
    .await;
    let serials: Vec<&str> = items
        .iter()
        .map(|d| d["serialNumber"].as_str().unwrap())
        .collect();
    let mut sorted = serials.clone();
    sorted.sort_unstable();
    assert_eq!(serials, sorted);
    assert_eq!(serials.len(), 13);
    // An $orderby the old set cannot sort by is refused before any upstream call, as locally.
    let bad = format!("{DEVICES}?$orderby=nope");
    let local = assert_graph_error(p.graph.get(&bad).await, 400, "BadRequest").await;
    let up = assert_graph_error(p.get(&bad).await, 400, "BadRequest").await;
    assert_eq!(up, local);
}

/// The upstream's request counters: (token lists, every Graph request).
async fn upstream_requests(graph: &TestApp) -> (i64, i64) {
    let text = graph
        .client
        .get(format!("{}/metrics", graph.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (mut lists, mut all) = (0, 0);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<i64>() else {
            continue;
        };
        if series == LISTS {
            lists += value;
        }
        if series.starts_with("dep_gateway_http_requests_total{") {
            all += value;
        }
    }
    (lists, all)
}

/// What one request through the gateway cost the upstream: (token lists, requests).
async fn cost(p: &Pair, path: &str) -> (i64, i64, Value) {
    let before = upstream_requests(&p.graph).await;
    let resp = p.get(path).await;
    let body = json_of(resp, 200).await;
    let after = upstream_requests(&p.graph).await;
    (after.0 - before.0, after.1 - before.1, body)
}

async fn token_lists_only_where_needed(backend: Backend) {
    let p = Pair::with(backend, |s| s.max_page_size = 2, |s| s.max_page_size = 2).await;
    let tokens = three_tokens(&p).await;
    let listed = json_of(
        p.graph
            .get(&format!("{SETTINGS}/{}/enrollmentProfiles", tokens[1]))
            .await,
        200,
    )
    .await;
    let pid = listed["value"][0]["id"].as_str().unwrap().to_owned();
    // A profile id carries its token: one upstream call, no token list.
    let (lists, calls, got) = cost(&p, &format!("{PROFILES}/{pid}")).await;
    assert_eq!(got["id"], pid.as_str());
    assert_eq!((lists, calls), (0, 1));
    // An organization-scoped setting by id: the same.
    let org = format!(
        "/beta/organization/{}/depOnboardingSettings/{}",
        p.graph.tenant, tokens[0]
    );
    assert_eq!(cost(&p, &org).await.0, 0);
    assert_eq!(cost(&p, &org).await.1, 1);
    // A tenant-wide list: the token list once (three tokens, two per upstream page: two
    // requests), then each token's first page.
    let one_walk = 2;
    let (lists, calls, first) = cost(&p, DEVICES).await;
    assert_eq!(lists, one_walk);
    assert!(calls >= one_walk + 3, "{calls}");
    // Its continuation keeps each token's position: no token list.
    let next = first["@odata.nextLink"].as_str().unwrap();
    let path = next.strip_prefix(&p.gw.base).unwrap();
    let (lists, _, second) = cost(&p, path).await;
    assert_eq!(lists, 0);
    assert_eq!(second["value"].as_array().unwrap().len(), 2);
    // An identity id names no token: one token list per request, never kept for the next one.
    let id = first["value"][0]["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let (lists, _, got) = cost(&p, &format!("{DEVICES}/{id}")).await;
        assert_eq!(got["id"], id.as_str());
        assert_eq!(lists, one_walk);
    }
}

async fn v1_paths_are_passed_through(backend: Backend) {
    let p = Pair::start(backend).await;
    new_setting(&p.graph).await;
    for path in [
        "/v1.0/deviceManagement/depOnboardingSettings",
        "/v1.0/deviceManagement/auditEvents?$top=1",
    ] {
        let direct = p.graph.get(path).await;
        let status = direct.status();
        let direct: Value = direct.json().await.unwrap();
        let before = upstream_requests(&p.graph).await.1;
        let through = p.get(path).await;
        assert_eq!(through.status(), status, "{path}");
        let through: Value = through.json().await.unwrap();
        assert_eq!(upstream_requests(&p.graph).await.1, before + 1, "{path}");
        if status.is_success() {
            assert_eq!(through["value"], direct["value"], "{path}");
        } else {
            assert_eq!(through["error"]["code"], direct["error"]["code"], "{path}");
        }
    }
}

async fn the_default_token_is_configured_not_set(backend: Backend) {
    let p = Pair::start(backend).await;
    let a = new_setting(&p.graph).await;
    let b = new_setting(&p.graph).await;
    // Writes to the old designation call say where the designation lives.
    for method in [Method::PUT, Method::PATCH] {
        let resp = p
            .send(method, DEFAULT_TOKEN, &json!({"depOnboardingSettingId": a}))
            .await;
        let message = assert_graph_error(resp, 400, "BadRequest").await;
        for needle in [
            "upstream.default_tokens",
            HEADER,
            &p.graph.tenant.to_string(),
        ] {
            assert!(message.contains(needle), "{needle} in {message}");
        }
    }
    let resp = p.req(Method::DELETE, DEFAULT_TOKEN).send().await.unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
    let report = json_of(p.get(DEFAULT_TOKEN).await, 200).await;
    assert_eq!(report["effectiveDepOnboardingSettingId"], Value::Null);
    assert_eq!(report["depOnboardingSettingCount"], 2);
    // With the header it is decided per request.
    let resp = p
        .req(Method::GET, DEFAULT_TOKEN)
        .header(HEADER, &b)
        .send()
        .await
        .unwrap();
    let report = json_of(resp, 200).await;
    assert_eq!(report["effectiveDepOnboardingSettingId"], b.as_str());

    // The collection-bound uploadDepToken on two tokens and no default: 409 naming the
    // per-token call, on both old paths, and nothing reaches the upstream's tokens.
    let upload = json!({"appleId": "admin@contoso.com", "depToken": "not-a-token"});
    let stored = |t: String| {
        let graph = &p.graph;
        async move { get_json(graph, &format!("{SETTINGS}/{t}")).await }
    };
    let before = (stored(a.clone()).await, stored(b.clone()).await);
    for path in [
        format!("{SETTINGS}/uploadDepToken"),
        format!("/beta/organization/{}/uploadDepToken", p.graph.tenant),
    ] {
        let before = upstream_requests(&p.graph).await.1;
        let resp = p.send(Method::POST, &path, &upload).await;
        let message = assert_graph_error(resp, 409, "Conflict").await;
        assert!(
            message.contains("/depOnboardingSettings/{id}/uploadDepToken"),
            "{message}"
        );
        assert!(message.contains(HEADER), "{message}");
        // Only the token list was asked for.
        assert_eq!(upstream_requests(&p.graph).await.1, before + 1);
    }
    assert_eq!((stored(a.clone()).await, stored(b.clone()).await), before);
    // Named by the header, the upload goes to that token (whose upstream refuses this token).
    let resp = p
        .req(Method::POST, &format!("{SETTINGS}/uploadDepToken"))
        .header(HEADER, &a)
        .json(&upload)
        .send()
        .await
        .unwrap();
    assert_ne!(resp.status(), 409);
    // Other tenant-wide writes answer the same 409.
    let resp = p
        .send(
            Method::POST,
            &format!("{DEVICES}/importAppleDeviceIdentityList"),
            &ios(&["AMBIG00002"]),
        )
        .await;
    assert_graph_error(resp, 409, "Conflict").await;
}

on_both_backends!(
    merged_lists_answer_as_local_mode_does,
    token_lists_only_where_needed,
    v1_paths_are_passed_through,
    the_default_token_is_configured_not_set,
);
