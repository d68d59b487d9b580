//! The principal cache, the permissions of each caller kind and the dev authority's key.

use super::*;

#[tokio::test]
async fn cache_returns_the_same_principal_and_refuses_expired_entries() {
    let auth = authenticator().await;
    let header = format!("Bearer {}", signed(|_| {}));
    let first = auth.authenticate(Some(&header)).await.unwrap();
    assert_eq!(auth.authenticate(Some(&header)).await.unwrap(), first);
    assert_eq!(auth.cache().len(), 1);
    // A cache entry whose exp has passed is refused even though validation never runs again.
    auth.cache()
        .insert(TokenCache::key("cached"), first, now() - 3600, now());
    assert_eq!(
        auth.authenticate(Some("Bearer cached")).await,
        Err(AuthError::Expired)
    );
}

#[test]
fn full_cache_drops_expired_entries_then_everything() {
    let cache = TokenCache::new(2, 0);
    let p = Principal::new(tenant(), CallerKind::Delegated, None, None, vec![]);
    let t = now();
    cache.insert(TokenCache::key("old"), p.clone(), t - 10, t);
    cache.insert(TokenCache::key("a"), p.clone(), t + 10, t);
    cache.insert(TokenCache::key("b"), p.clone(), t + 10, t);
    assert!(cache.get(&TokenCache::key("old"), t).is_none());
    assert_eq!(cache.len(), 2);
    cache.insert(TokenCache::key("c"), p, t + 10, t);
    assert_eq!(cache.len(), 1);
}

#[tokio::test]
async fn permissions_follow_the_caller_kind() {
    let read = check(&signed(|_| {})).await.unwrap();
    assert_eq!(read.require(Permission::Read), Ok(()));
    let denied = read.require(Permission::Write).unwrap_err();
    assert_eq!(denied.accepted, [READ_WRITE]);
    let rw = check(&signed(|c| {
        c["scp"] = json!(format!("openid {}", READ_WRITE.to_lowercase()));
    }))
    .await;
    let rw = rw.unwrap();
    assert!(rw.require(Permission::Read).is_ok() && rw.require(Permission::Write).is_ok());
    // Delegated tokens use scp only: a matching app role does not count.
    let roles = json!([READ_WRITE]);
    let delegated = check(&signed(|c| c["roles"] = roles.clone()))
        .await
        .unwrap();
    assert!(delegated.require(Permission::Write).is_err());
    // idtyp=app makes it app-only even with scp; then roles count.
    let app = check(&signed(|c| {
        (c["roles"], c["idtyp"]) = (roles, json!("app"));
    }))
    .await
    .unwrap();
    assert_eq!(app.caller, CallerKind::Application);
    assert!(app.require(Permission::Write).is_ok());
    let bare = check(&signed(|c| drop(c.as_object_mut().unwrap().remove("scp"))))
        .await
        .unwrap();
    assert!(bare.permissions().is_empty() && bare.require(Permission::Read).is_err());
}

#[test]
fn dev_authority_key_is_reused_and_private() {
    let again = dev();
    assert_eq!(again.kid(), dev().kid());
    assert_eq!(again.kid().len(), 16);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(dev_dir().join("dev-authority-key.pem")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
}
