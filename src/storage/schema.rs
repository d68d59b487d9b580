//! The portable diesel schema shared by SQLite and PostgreSQL (written by hand: ids and JSON
//! are `Text`, times are `BigInt` ticks).

diesel::table! {
    gateway_secrets (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    tenants (tenant_id) {
        tenant_id -> Text,
        created_ticks -> BigInt,
    }
}

diesel::table! {
    dep_onboarding_settings (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        apple_identifier -> Nullable<Text>,
        data_sharing_consent_granted -> Bool,
        last_modified_date_time -> BigInt,
        last_successful_sync_date_time -> BigInt,
        last_sync_error_code -> Integer,
        last_sync_triggered_date_time -> BigInt,
        role_scope_tag_ids -> Text,
        share_token_with_school_data_sync_service -> Bool,
        synced_device_count -> Integer,
        token_expiration_date_time -> BigInt,
        token_name -> Nullable<Text>,
        token_type -> Text,
        created_ticks -> BigInt,
    }
}

diesel::table! {
    enrollment_profiles (tenant_id, setting_id, id) {
        tenant_id -> Text,
        setting_id -> Text,
        id -> Text,
        odata_type -> Text,
        properties -> Text,
        created_ticks -> BigInt,
    }
}

diesel::table! {
    default_profiles (tenant_id, setting_id, platform) {
        tenant_id -> Text,
        setting_id -> Text,
        platform -> Text,
        profile_id -> Text,
    }
}

diesel::table! {
    imported_devices (tenant_id, setting_id, id) {
        tenant_id -> Text,
        setting_id -> Text,
        id -> Text,
        serial_number -> Text,
        description -> Nullable<Text>,
        discovery_source -> Text,
        enrollment_state -> Text,
        is_deleted -> Nullable<Bool>,
        is_supervised -> Bool,
        last_contacted_date_time -> BigInt,
        platform -> Text,
        requested_enrollment_profile_assignment_date_time -> Nullable<BigInt>,
        requested_enrollment_profile_id -> Nullable<Text>,
        created_date_time -> BigInt,
    }
}

diesel::table! {
    /// Identities per token, kept by triggers (migration `2026-12-03-000001`).
    imported_device_counts (tenant_id, setting_id) {
        tenant_id -> Text,
        setting_id -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    vpp_tokens (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        organization_name -> Text,
        vpp_token_account_type -> Text,
        apple_id -> Nullable<Text>,
        expiration_date_time -> BigInt,
        last_sync_date_time -> BigInt,
        // SECRET: the .vpptoken content as uploaded (not yet encrypted at rest).
        token -> Text,
        token_sha256 -> Text,
        last_modified_date_time -> BigInt,
        last_sync_status -> Text,
        automatically_update_apps -> Bool,
        country_or_region -> Nullable<Text>,
        data_sharing_consent_granted -> Bool,
        display_name -> Nullable<Text>,
        location_name -> Nullable<Text>,
        claim_token_management_from_external_mdm -> Bool,
        role_scope_tag_ids -> Text,
        last_app_count -> Integer,
        apple_device_app_delivery_protocol_type -> Text,
        created_ticks -> BigInt,
    }
}

diesel::table! {
    dep_token_keys (tenant_id, setting_id, slot) {
        tenant_id -> Text,
        setting_id -> Text,
        slot -> Text,
        private_key -> Text,
        certificate -> Text,
        created_ticks -> BigInt,
    }
}

diesel::table! {
    dep_token_credentials (tenant_id, setting_id) {
        tenant_id -> Text,
        setting_id -> Text,
        server_uuid -> Text,
        server_name -> Nullable<Text>,
        credentials -> Text,
        access_token_expiry -> BigInt,
        uploaded_ticks -> BigInt,
    }
}

diesel::table! {
    dep_sync_state (tenant_id, setting_id) {
        tenant_id -> Text,
        setting_id -> Text,
        cursor -> Nullable<Text>,
        fetch_complete -> Bool,
        requested -> Bool,
        next_run_ticks -> BigInt,
        lease_owner -> Nullable<Text>,
        lease_until_ticks -> BigInt,
    }
}

diesel::table! {
    dep_apple_profiles (tenant_id, setting_id, profile_id) {
        tenant_id -> Text,
        setting_id -> Text,
        profile_id -> Text,
        profile_uuid -> Text,
        digest -> Text,
        defined_ticks -> BigInt,
    }
}

diesel::table! {
    dep_profile_assignments (tenant_id, setting_id, serial_number) {
        tenant_id -> Text,
        setting_id -> Text,
        serial_number -> Text,
        profile_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_ticks -> Nullable<BigInt>,
        profile_uuid -> Nullable<Text>,
        updated_ticks -> BigInt,
    }
}

diesel::table! {
    dep_assign_leases (tenant_id, setting_id) {
        tenant_id -> Text,
        setting_id -> Text,
        lease_owner -> Nullable<Text>,
        lease_until_ticks -> BigInt,
    }
}

diesel::table! {
    legacy_default_tokens (tenant_id) {
        tenant_id -> Text,
        setting_id -> Text,
    }
}

diesel::table! {
    dep_sync_failures (tenant_id, setting_id) {
        tenant_id -> Text,
        setting_id -> Text,
        consecutive -> Integer,
    }
}

diesel::table! {
    token_warnings (tenant_id, token_kind, token_id, warning) {
        tenant_id -> Text,
        token_kind -> Text,
        token_id -> Text,
        warning -> Text,
        warned_ticks -> BigInt,
    }
}

diesel::table! {
    audit_events (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        activity_date_time -> BigInt,
        display_name -> Text,
        component_name -> Text,
        activity -> Nullable<Text>,
        activity_type -> Text,
        activity_operation_type -> Text,
        activity_result -> Text,
        correlation_id -> Text,
        category -> Text,
        actor_upn -> Nullable<Text>,
        actor_app_id -> Nullable<Text>,
        actor_json -> Text,
        resource_ids -> Text,
        resource_types -> Text,
        resources_json -> Text,
    }
}

diesel::table! {
    subscriptions (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        resource -> Text,
        change_types -> Text,
        notification_url -> Text,
        lifecycle_notification_url -> Nullable<Text>,
        client_state -> Nullable<Text>,
        signing_secret -> Nullable<Text>,
        expiration_ticks -> BigInt,
        application_id -> Nullable<Text>,
        creator_id -> Nullable<Text>,
        created_ticks -> BigInt,
        reauthorize_sent -> Bool,
        lease_owner -> Nullable<Text>,
        lease_until_ticks -> BigInt,
        attempts -> Integer,
        next_attempt_ticks -> BigInt,
        removed -> Bool,
    }
}

diesel::table! {
    notification_outbox (seq) {
        seq -> BigInt,
        tenant_id -> Text,
        subscription_id -> Text,
        lifecycle -> Bool,
        payload -> Text,
        changes -> Integer,
        created_ticks -> BigInt,
    }
}

diesel::joinable!(dep_onboarding_settings -> tenants (tenant_id));
diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    dep_onboarding_settings,
    enrollment_profiles,
    default_profiles,
    imported_devices,
    imported_device_counts,
    vpp_tokens,
    dep_token_keys,
    dep_token_credentials,
    dep_sync_state,
    dep_apple_profiles,
    dep_profile_assignments,
    dep_assign_leases,
    legacy_default_tokens,
    dep_sync_failures,
    token_warnings,
    audit_events,
    subscriptions,
    notification_outbox
);
