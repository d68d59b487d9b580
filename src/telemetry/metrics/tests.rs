//! Rendering: labels, snapshot values, vanished tokens, counters that never go down.

use super::*;

#[test]
fn counts_render_with_labels_and_snapshot_values() {
    let m = Metrics::new();
    m.http_request(
        "deviceManagement_ListDepOnboardingSettings",
        200,
        Duration::from_millis(3),
    );
    m.http_request("none", 401, Duration::ZERO);
    let snap = Snapshot {
        pool: PoolStats {
            max_size: 8,
            connections: 2,
            in_use: 1,
            checkouts: 5,
            ..PoolStats::default()
        },
        assignment_queue_depth: 3,
        background_restarts: 2,
        dep_tokens: vec![TokenGauges {
            tenant: "t".into(),
            token: "s".into(),
            seconds_to_expiry: 86_400,
            last_sync_error_code: 403,
            seconds_since_sync: None,
        }],
    };
    let text = m.render(&snap);
    assert!(text.contains("dep_gateway_http_requests_total{operation=\"deviceManagement_ListDepOnboardingSettings\",status_class=\"2xx\"} 1"), "{text}");
    assert!(
        text.contains("dep_gateway_http_requests_total{operation=\"none\",status_class=\"4xx\"} 1")
    );
    assert!(text.contains("dep_gateway_db_pool_connections{state=\"in_use\"} 1"));
    assert!(text.contains("dep_gateway_db_pool_checkouts_total 5"));
    assert!(text.contains("dep_gateway_assignment_queue_depth 3"));
    assert!(text.contains("dep_gateway_background_restarts_total 2"));
    assert!(text.contains("dep_gateway_dep_token_expiry_seconds{tenant=\"t\",token=\"s\"} 86400"));
    assert!(
        text.contains("dep_gateway_dep_token_last_sync_error_code{tenant=\"t\",token=\"s\"} 403")
    );
    assert!(!text.contains("dep_gateway_dep_token_seconds_since_last_sync{"));
    // A token gone from the database is gone from the next scrape; counters never go down.
    let text = m.render(&Snapshot::default());
    assert!(!text.contains("dep_gateway_dep_token_expiry_seconds{"));
    assert!(text.contains("dep_gateway_db_pool_checkouts_total 5"));
}
