//! Claim checks: types, audience, issuer, tenant, size and critical headers.

use super::*;

#[tokio::test]
async fn claims_of_the_wrong_type_are_refused() {
    let exp_string = signed(|c| c["exp"] = json!((now() + 600).to_string()));
    assert_eq!(
        check(&exp_string).await,
        Err(AuthError::InvalidClaim("exp".into()))
    );
    let nbf_string = signed(|c| c["nbf"] = json!(now().to_string()));
    assert_eq!(
        check(&nbf_string).await,
        Err(AuthError::InvalidClaim("nbf".into()))
    );
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let token = signed(|c| c["aud"] = json!("https://graph.microsoft.com"));
    assert_eq!(check(&token).await, Err(AuthError::BadAudience));
    assert_eq!(
        AuthError::BadAudience.message(),
        "Access token validation failure. Invalid audience."
    );
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    let token =
        signed(|c| c["iss"] = json!(format!("https://login.microsoftonline.com/{TENANT}/v2.0")));
    assert_eq!(check(&token).await, Err(AuthError::BadIssuer));
    assert_eq!(
        AuthError::BadIssuer.message(),
        "Access token validation failure. Invalid issuer."
    );
}

#[tokio::test]
async fn issuer_of_another_tenant_is_refused() {
    let token = signed(|c| c["tid"] = json!(OTHER_TENANT));
    assert_eq!(check(&token).await, Err(AuthError::BadIssuer));
}

#[tokio::test]
async fn non_guid_tenant_is_refused() {
    for tid in ["not-a-guid", "8f1c2a8e3b5d4c6e9f701a2b3c4d5e6f"] {
        let iss = format!("https://dev-authority.dep-gateway.invalid/{tid}/v2.0");
        let token = signed(|c| (c["tid"], c["iss"]) = (json!(tid), json!(iss)));
        assert_eq!(check(&token).await, Err(AuthError::BadTenant), "{tid}");
    }
}

#[tokio::test]
async fn oversized_token_is_refused_before_decoding() {
    let token = "a".repeat(settings().max_token_bytes + 1);
    assert_eq!(check(&token).await, Err(AuthError::TooLarge));
}

#[tokio::test]
async fn crit_header_is_refused() {
    let header = json!({"alg": "RS256", "kid": dev().kid(), "crit": ["exp"], "exp": 1});
    let token = rs256(&dev_private_key(), &header, &claims_with(|_| {}));
    assert!(matches!(check(&token).await, Err(AuthError::Malformed(_))));
    let plain = json!({"alg": "RS256", "typ": "JWT", "kid": dev().kid()});
    assert!(
        check(&rs256(&dev_private_key(), &plain, &claims_with(|_| {})))
            .await
            .is_ok()
    );
}
