//! Handlers of `/subscriptions` (Graph change notifications for the DEP resources).

use actix_web::http::StatusCode;
use serde::Serialize;

use crate::api::error::ApiError;
use crate::api::json_object;
use crate::api::response::GraphResponse;
use crate::api::table::Call;
use crate::domain::time::format_ticks;
use crate::service::notify::{self as service, SubscribeError, Subscription};

/// `{subscription-id}`.
pub const SUBSCRIPTION_ID: &str = "subscription-id";
const SET_PATH: &str = "subscriptions";

/// `graph.subscription` as rendered (catalog order; see `catalog::SUBSCRIPTION`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionView<'a> {
    #[serde(rename = "@odata.context", skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    id: &'a str,
    application_id: Option<&'a str>,
    change_type: &'a str,
    client_state: Option<&'a str>,
    creator_id: Option<&'a str>,
    encryption_certificate: Option<&'a str>,
    encryption_certificate_id: Option<&'a str>,
    expiration_date_time: String,
    include_resource_data: bool,
    latest_supported_tls_version: &'a str,
    lifecycle_notification_url: Option<&'a str>,
    notification_content_type: Option<&'a str>,
    notification_query_options: Option<&'a str>,
    notification_url: &'a str,
    notification_url_app_id: Option<&'a str>,
    resource: &'a str,
}

/// The wire form; `clientState` only in the create response, as Graph returns it.
// GRAPH-COMPAT: Graph's list (and reads) leave clientState out (change-notifications.md §3).
fn view(s: &Subscription, context: Option<String>, with_state: bool) -> SubscriptionView<'_> {
    SubscriptionView {
        context,
        id: &s.id,
        application_id: s.application_id.as_deref(),
        change_type: &s.change_types,
        client_state: s.client_state.as_deref().filter(|_| with_state),
        creator_id: s.creator_id.as_deref(),
        encryption_certificate: None,
        encryption_certificate_id: None,
        expiration_date_time: format_ticks(s.expiration_ticks),
        include_resource_data: false,
        latest_supported_tls_version: "v1_2",
        lifecycle_notification_url: s.lifecycle_notification_url.as_deref(),
        notification_content_type: None,
        notification_query_options: None,
        notification_url: &s.notification_url,
        notification_url_app_id: None,
        resource: &s.resource,
    }
}

fn entity_context(c: &Call<'_>) -> String {
    format!("{}/beta/$metadata#{SET_PATH}/$entity", c.ctx.public_url)
}

fn subscribe_error(e: SubscribeError) -> ApiError {
    match e {
        SubscribeError::Service(s) => s.into(),
        SubscribeError::Handshake(m) => ApiError::InvalidRequest(m),
        SubscribeError::Quota(m) => ApiError::QuotaExceeded(m),
    }
}

/// `GET /subscriptions`.
pub async fn list_subscriptions(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    #[derive(Serialize)]
    struct Page<'a> {
        #[serde(rename = "@odata.context")]
        context: String,
        value: Vec<SubscriptionView<'a>>,
    }
    let all = service::list(c.services, c.tenant).await?;
    let page = Page {
        context: format!("{}/beta/$metadata#{SET_PATH}", c.ctx.public_url),
        value: all.iter().map(|s| view(s, None, false)).collect(),
    };
    Ok(GraphResponse::serialized(StatusCode::OK, &page))
}

/// `GET /subscriptions/{id}`.
pub async fn get_subscription(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let s = service::get(c.services, c.tenant, c.params.get(SUBSCRIPTION_ID)).await?;
    Ok(GraphResponse::serialized(
        StatusCode::OK,
        &view(&s, Some(entity_context(&c)), false),
    ))
}

/// `POST /subscriptions` → 201 once the receivers passed the validation handshake.
pub async fn create_subscription(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let body = json_object(c.body)?;
    let caller = c
        .ctx
        .principal
        .as_ref()
        .map(|p| (p.app_id.clone(), p.object_id.clone()))
        .unwrap_or_default();
    let s = service::create(c.services, c.tenant, caller, body)
        .await
        .map_err(subscribe_error)?;
    let mut resp = GraphResponse::serialized(
        StatusCode::CREATED,
        &view(&s, Some(entity_context(&c)), true),
    );
    resp.headers.push((
        "Location",
        format!("{}/beta/{SET_PATH}/{}", c.ctx.public_url, s.id),
    ));
    Ok(resp)
}

/// `PATCH /subscriptions/{id}` → 200 with the subscription (renewal; a new URL is validated).
pub async fn update_subscription(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let body = json_object(c.body)?;
    let s = service::update(c.services, c.tenant, c.params.get(SUBSCRIPTION_ID), body)
        .await
        .map_err(subscribe_error)?;
    Ok(GraphResponse::serialized(
        StatusCode::OK,
        &view(&s, Some(entity_context(&c)), false),
    ))
}

/// `DELETE /subscriptions/{id}` → 204.
pub async fn delete_subscription(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    service::delete(c.services, c.tenant, c.params.get(SUBSCRIPTION_ID)).await?;
    Ok(GraphResponse::no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_has_the_catalog_properties_in_order() {
        let s = Subscription {
            tenant_id: "t".into(),
            id: "i".into(),
            resource: "r".into(),
            change_types: "created".into(),
            notification_url: "https://x".into(),
            lifecycle_notification_url: None,
            client_state: Some("secret".into()),
            signing_secret: Some("sealed".into()),
            expiration_ticks: 0,
            application_id: None,
            creator_id: None,
            created_ticks: 0,
            reauthorize_sent: false,
        };
        let v = serde_json::to_value(view(&s, None, false)).unwrap();
        let names: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec!["id"];
        want.extend(
            crate::api::catalog::SUBSCRIPTION
                .properties
                .iter()
                .map(|p| p.name),
        );
        assert_eq!(names, want);
        assert!(v["clientState"].is_null() && v.get("signingSecret").is_none());
    }
}
