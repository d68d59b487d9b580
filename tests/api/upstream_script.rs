//! The old PowerShell-sample sequence through upstream mode: a tenant without tokens on "Graph"
//! (a local-mode gateway over the Apple simulator), driven only through the upstream gateway.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, READ, TestApp, with_mdm};
use crate::legacy::{doc18_profile, json_of, simulator, wait_synced};
use crate::on_both_backends;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";
const PROFILES: &str = "/beta/deviceManagement/enrollmentProfiles";
const DEVICES: &str = "/beta/deviceManagement/importedAppleDeviceIdentities";

#[expect(
    clippy::too_many_lines,
    reason = "an old script replayed call for call"
)]
async fn the_old_script_runs_through_upstream_mode(backend: Backend) {
    let sim = simulator().await;
    let url = sim.base_url();
    let graph = TestApp::spawn_with(backend, move |s| {
        with_mdm(s);
        s.apple_base_url = url;
        s.max_page_size = 10;
        s.http_keep_alive_secs = 120;
    })
    .await;
    let base = graph.base.clone();
    let gw = TestApp::spawn_with(backend, move |s| {
        s.upstream.base_url = Some(base);
        s.max_page_size = 10;
    })
    .await;
    let call = |method: Method, path: &str| {
        gw.client
            .request(method, format!("{}{path}", gw.base))
            .bearer_auth(graph.token())
    };
    let org = format!("/beta/organization/{}", graph.tenant);

    // 2016 flow: the key of a tenant without tokens (made upstream), the token uploaded there.
    let key = json_of(
        call(Method::GET, &format!("{org}/getEncryptionPublicKey"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let pem = key["value"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let listed: Value = json_of(graph.get(SETTINGS).await, 200).await;
    let setting = listed["value"][0]["id"].as_str().unwrap().to_owned();
    let p7m = dep_gateway::apple_sim::make_dep_token(&sim.base_url(), "server-up", 12, pem)
        .await
        .unwrap();
    let resp = call(Method::POST, &format!("{org}/uploadDepToken"))
        .json(&json!({"appleId": "admin@contoso.com", "depToken": p7m}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = call(
        Method::POST,
        &format!("{SETTINGS}/syncWithAppleDeviceEnrollmentProgram"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 204, "a bodiless POST");
    wait_synced(&graph, &setting).await;

    // PowerShell sample: the DEP identities, following nextLink.
    let mut url = format!(
        "{}{DEVICES}?$filter=discoverySource eq 'deviceEnrollmentProgram'",
        gw.base
    );
    let (mut devices, mut pages) = (Vec::new(), 0);
    loop {
        let page = json_of(
            gw.client
                .get(&url)
                .bearer_auth(graph.token())
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        pages += 1;
        devices.extend(page["value"].as_array().unwrap().iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(next) => next.clone_into(&mut url),
            None => break,
        }
    }
    assert_eq!(devices.len(), 12);
    assert!(pages >= 2, "{pages}");
    assert!(devices.iter().all(|d| d.get("isDeleted").is_none()));
    let chosen: Vec<&str> = devices
        .iter()
        .take(3)
        .map(|d| d["serialNumber"].as_str().unwrap())
        .collect();

    // PowerShell sample: a profile, assigned to three devices, made the default.
    let profile = json_of(
        call(Method::POST, PROFILES)
            .json(&doc18_profile())
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let pid = profile["id"].as_str().unwrap().to_owned();
    let resp = call(
        Method::POST,
        &format!(
            "/beta/deviceManagement/enrollmentProfiles('{pid}')/updateDeviceProfileAssignment"
        ),
    )
    .json(&json!({"deviceIds": chosen}))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = call(Method::POST, &format!("{PROFILES}/{pid}/setDefaultProfile"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);

    // Seen through the multi-token API of the upstream: the profile on the token, the devices
    // asked for it, the default set.
    let direct = json_of(
        graph
            .get(&format!("{SETTINGS}/{setting}/enrollmentProfiles/{pid}"))
            .await,
        200,
    )
    .await;
    assert_eq!(direct["isDefault"], true, "{direct}");
    // The devices hold the profile's guid (the id without its token).
    let guid = pid.split_once('_').map_or(pid.as_str(), |(_, g)| g);
    let mut url = format!(
        "{}{SETTINGS}/{setting}/importedAppleDeviceIdentities",
        graph.base
    );
    let mut assigned = Vec::new();
    loop {
        let page = json_of(
            graph
                .client
                .get(&url)
                .bearer_auth(graph.token())
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        for d in page["value"].as_array().unwrap() {
            if d["requestedEnrollmentProfileId"] == guid {
                assigned.push(d["serialNumber"].as_str().unwrap().to_owned());
            }
        }
        match page["@odata.nextLink"].as_str() {
            Some(next) => next.clone_into(&mut url),
            None => break,
        }
    }
    assigned.sort();
    let mut chosen: Vec<String> = chosen.iter().map(|s| (*s).to_owned()).collect();
    chosen.sort();
    assert_eq!(assigned, chosen);
}

/// The Python Graph beta SDK's run (`tests/clients/python_sdk.py`), unchanged, through the
/// upstream gateway: multi-token calls passed through, old ones translated.
async fn python_graph_beta_sdk_through_upstream_mode(backend: Backend) {
    use crate::clients::{installed, repo, run_client};
    let python = installed(".venv-tests/bin/python");
    let sim = simulator().await;
    let sim_url = sim.base_url();
    let graph = TestApp::spawn_with(backend, move |s| {
        with_mdm(s);
        s.max_page_size = 3;
        s.apple_base_url = sim_url;
        s.http_keep_alive_secs = 120;
    })
    .await;
    let base = graph.base.clone();
    let gw = TestApp::spawn_with(backend, move |s| s.upstream.base_url = Some(base)).await;
    let mut command = std::process::Command::new(python);
    command
        .arg(repo("tests/clients/python_sdk.py"))
        .env("GATEWAY_URL", &gw.base)
        .env("GATEWAY_TOKEN", graph.token())
        .env("GATEWAY_READ_TOKEN", graph.token_for(graph.tenant, &[READ]))
        .env("GATEWAY_PAGE_SIZE", "3")
        .env("APPLE_SIM_URL", sim.base_url())
        .env("PYTHONDONTWRITEBYTECODE", "1");
    run_client("python msgraph-beta-sdk through upstream mode", command).await;
}

on_both_backends!(
    the_old_script_runs_through_upstream_mode,
    python_graph_beta_sdk_through_upstream_mode
);
