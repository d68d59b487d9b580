//! The rows of the resources that watch the others: the audit trail (read-only: the gateway's
//! own writes record its events) and change-notification subscriptions.

use super::{COLLECTION_OPTIONS, COUNT_OPTIONS, ENTITY, NONE, op};
use crate::api::catalog;
use crate::api::handlers::{audit, subscriptions};
use crate::api::table::{Nullable, Operation, Query, Reply, Request, Status, Verb};
use crate::auth::Permission;
use crate::domain::edm::EdmType;
use crate::handler;

const TAG_AUDIT: &str = "deviceManagement.auditEvent";
const AUDIT_EVENTS: &str = "/deviceManagement/auditEvents";
const SUBSCRIPTIONS: &str = "/subscriptions";
const SUBSCRIPTION: &str = "/subscriptions/{subscription-id}";
const TAG_SUBSCRIPTIONS: &str = "subscriptions.subscription";

/// The audit trail's rows (served on `/beta` and `/v1.0`; reads only: events are written by
/// the gateway's own writes).
#[rustfmt::skip]
pub(super) fn audit_rows() -> [Operation; 5] {
    use Permission::AuditRead;
    use Verb::Get;
    const EVENT: &str = "/deviceManagement/auditEvents/{auditEvent-id}";
    let lowered = |options| Query::Lowered(options, crate::service::audit::filter::lower_query);
    [
        op(Get, AUDIT_EVENTS, "deviceManagement_ListAuditEvent", "List auditEvents", AuditRead,
            lowered(COLLECTION_OPTIONS), Request::None, Reply::ComponentCollection(audit::AUDIT_EVENT),
            TAG_AUDIT, handler!(audit::list_audit_events)),
        op(Get, format!("{AUDIT_EVENTS}/$count"), "deviceManagement.auditEvent_GetCount",
            "Count auditEvents", AuditRead, lowered(COUNT_OPTIONS), Request::None, Reply::Count,
            TAG_AUDIT, handler!(audit::count_audit_events)),
        op(Get, format!("{AUDIT_EVENTS}/getAuditCategories()"),
            "deviceManagement.auditEvent_getAuditCategories", "Invoke function getAuditCategories",
            AuditRead, NONE, Request::None, Reply::Value(EdmType::StringCollection, Nullable::No), TAG_AUDIT,
            handler!(audit::get_audit_categories)),
        op(Get, format!("{AUDIT_EVENTS}/getAuditActivityTypes(category='{{category}}')"),
            "deviceManagement.auditEvent_getAuditActivityTypes",
            "Invoke function getAuditActivityTypes", AuditRead, NONE, Request::None,
            Reply::Value(EdmType::StringCollection, Nullable::No), TAG_AUDIT,
            handler!(audit::get_audit_activity_types)),
        op(Get, EVENT, "deviceManagement_GetAuditEvent", "Get an auditEvent", AuditRead, ENTITY,
            Request::None, Reply::Component(audit::AUDIT_EVENT, Status::Ok), TAG_AUDIT,
            handler!(audit::get_audit_event)),
    ]
}

/// `/subscriptions`: change notifications of the DEP resources.
// GRAPH-COMPAT: managing a subscription needs the read permission of the watched resource
// (change-notifications.md §3); every served resource reads with the same permission.
#[rustfmt::skip]
pub(super) fn subscription_rows() -> [Operation; 5] {
    use Permission::Read;
    use Verb::{Delete, Get, Patch, Post};
    let sub = &catalog::SUBSCRIPTION;
    let tag = TAG_SUBSCRIPTIONS;
    [
        op(Get, SUBSCRIPTIONS, "subscriptions.subscription.ListSubscription", "List subscriptions",
            Read, Query::Only(&[]), Request::None, Reply::Collection(sub), tag,
            handler!(subscriptions::list_subscriptions)),
        op(Post, SUBSCRIPTIONS, "subscriptions.subscription.CreateSubscription",
            "Create a subscription (after the validation handshake)", Read, NONE,
            Request::Entity(sub), Reply::Entity(sub, Status::Created), tag,
            handler!(subscriptions::create_subscription)),
        op(Get, SUBSCRIPTION, "subscriptions.subscription.GetSubscription", "Get a subscription",
            Read, Query::Only(&[]), Request::None, Reply::Entity(sub, Status::Ok), tag,
            handler!(subscriptions::get_subscription)),
        op(Patch, SUBSCRIPTION, "subscriptions.subscription.UpdateSubscription",
            "Renew a subscription or change its notificationUrl", Read, NONE,
            Request::Entity(sub), Reply::Entity(sub, Status::Ok), tag,
            handler!(subscriptions::update_subscription)),
        op(Delete, SUBSCRIPTION, "subscriptions.subscription.DeleteSubscription",
            "Delete a subscription", Read, NONE, Request::None, Reply::NoContent, tag,
            handler!(subscriptions::delete_subscription)),
    ]
}
