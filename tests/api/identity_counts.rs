//! The per-token identity counts the database keeps (triggers in the same transaction as each
//! write): an unfiltered `/$count` and `$count=true` read them, a filtered count counts rows, so
//! after every kind of write the two must agree.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::profiles::{SETTINGS, token};

async fn devices_path(app: &TestApp) -> String {
    let (setting, _) = token(app).await;
    format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities")
}

async fn import(app: &TestApp, path: &str, serials: &[&str], overwrite: bool) {
    let items: Vec<Value> = serials
        .iter()
        .map(|s| json!({"serialNumber": s, "platform": "ios"}))
        .collect();
    let resp = app
        .post_json(
            &format!("{path}/importAppleDeviceIdentityList"),
            &json!({"importedAppleDeviceIdentities": items,
            "overwriteImportedDeviceIdentities": overwrite}),
        )
        .await;
    assert_eq!(resp.status(), 200);
}

async fn text(app: &TestApp, url: &str) -> String {
    let resp = app.get(url).await;
    assert_eq!(resp.status(), 200, "{url}");
    resp.text().await.unwrap()
}

/// The kept count (unfiltered `/$count` and `$count=true`) and the counted rows (a filter every
/// serial matches), which must be equal, and that number.
async fn counts(app: &TestApp, path: &str) -> i64 {
    let kept: i64 = text(app, &format!("{path}/$count")).await.parse().unwrap();
    let counted: i64 = text(
        app,
        &format!("{path}/$count?$filter=startswith(serialNumber,'')"),
    )
    .await
    .parse()
    .unwrap();
    let listed: Value = app
        .get(&format!("{path}?$count=true&$top=1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept, counted, "kept vs counted");
    assert_eq!(listed["@odata.count"], json!(kept), "$count=true");
    kept
}

async fn kept_counts_follow_every_write(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mine = devices_path(&app).await;
    let other = devices_path(&app).await;
    assert_eq!(counts(&app, &mine).await, 0, "a new token");

    import(
        &app,
        &mine,
        &["C02CNT000001", "C02CNT000002", "C02CNT000003"],
        false,
    )
    .await;
    assert_eq!(counts(&app, &mine).await, 3, "after an import");

    // A refused duplicate adds nothing; an overwrite moves one identity to the other token.
    import(&app, &mine, &["C02CNT000003"], false).await;
    import(&app, &other, &["C02CNT000002"], true).await;
    assert_eq!(counts(&app, &mine).await, 2, "after a move away");
    assert_eq!(counts(&app, &other).await, 1, "after a move in");

    let created: Value = app
        .post_json(&mine, &json!({"serialNumber": "C02CNT000009"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(counts(&app, &mine).await, 3, "after a create");
    let item = format!("{mine}/{}", created["id"].as_str().unwrap());
    assert_eq!(
        app.patch_json(&item, &json!({"description": "lab"}))
            .await
            .status(),
        204
    );
    assert_eq!(counts(&app, &mine).await, 3, "a patch changes no count");
    assert_eq!(app.delete(&item).await.status(), 204);
    assert_eq!(counts(&app, &mine).await, 2, "after a delete");

    // Deleting a token takes its identities and its count; the other token keeps its own.
    let setting = mine.trim_end_matches("/importedAppleDeviceIdentities");
    assert_eq!(app.delete(setting).await.status(), 204);
    assert_eq!(
        counts(&app, &other).await,
        1,
        "the other token after a delete"
    );
}

on_both_backends!(kept_counts_follow_every_write);
