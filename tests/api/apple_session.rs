//! One Apple auth session per server token in the process: the upload check, syncs and
//! assignment pushes of a token share it, and when Apple drops it the jobs re-authenticate once
//! between them (never two `/session` calls racing for the token).

use reqwest::Method;
use serde_json::json;

use crate::helpers::Backend;
use crate::on_both_backends;
use crate::profile_push::{assign, create_profile, settled, spawn, wait_rows};
use crate::sync::{Sim, by_serial, setting_with_token, sync_ok, trigger, wait_for};

const SERVER: &str = "one-session";

async fn jobs_of_a_token_share_one_session(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim).await;
    let setting = setting_with_token(&app, &sim, SERVER, 6).await;
    sync_ok(&app, &setting).await;
    let mut serials: Vec<String> = by_serial(&app, &setting).await.into_keys().collect();
    serials.sort();
    let profile = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Staff").await;
    assign(&app, &setting, &profile, &serials[..2]).await;
    wait_rows(&app, &setting, |r| settled(r, 2)).await;
    sync_ok(&app, &setting).await;
    assert!(sim.requests(SERVER, "profile_assign").await >= 1);
    assert_eq!(
        sim.requests(SERVER, "session").await,
        1,
        "upload, two syncs and a push share one session"
    );

    // Apple drops the session; a sync and a push start together and re-authenticate once.
    sim.send(
        Method::POST,
        "/admin/sessions/expire",
        &json!({"server": SERVER}),
    )
    .await;
    let before = crate::sync::setting(&app, &setting).await;
    trigger(&app, &setting).await;
    assign(&app, &setting, &profile, &serials[2..4]).await;
    wait_rows(&app, &setting, |r| settled(r, 4)).await;
    let previous = before["lastSuccessfulSyncDateTime"].clone();
    let after = wait_for(&app, &setting, |s| {
        s["lastSuccessfulSyncDateTime"] != previous && s["lastSyncErrorCode"] == 0
    })
    .await;
    assert_eq!(after["lastSyncErrorCode"], 0, "{after}");
    assert_eq!(
        sim.requests(SERVER, "session").await,
        2,
        "exactly one more session after the expiry"
    );
}

on_both_backends!(jobs_of_a_token_share_one_session);
