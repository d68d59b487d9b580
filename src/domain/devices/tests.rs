//! Unit tests of importedAppleDeviceIdentity.

use serde_json::json;

use super::*;

const NOW: i64 = 17_583_006_515_063_355; // 2025-09-19T16:50:51.5063355Z

fn identity() -> ImportedAppleDeviceIdentity {
    ImportedAppleDeviceIdentity::new(
        "557cfb4a-fb4a-557c-4afb-7c554afb7c55".into(),
        "C02TEST00002".into(),
        NOW,
    )
}

fn body(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

#[test]
fn serialises_in_csdl_order_and_graph_shape() {
    let v = serde_json::to_value(identity()).unwrap();
    let keys: Vec<_> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "createdDateTime",
            "description",
            "discoverySource",
            "enrollmentState",
            "isDeleted",
            "isSupervised",
            "lastContactedDateTime",
            "platform",
            "requestedEnrollmentProfileAssignmentDateTime",
            "requestedEnrollmentProfileId",
            "serialNumber",
        ]
    );
    assert_eq!(v["createdDateTime"], "2025-09-19T16:50:51.5063355Z");
    assert_eq!(v["lastContactedDateTime"], "0001-01-01T00:00:00Z");
    assert_eq!(v["discoverySource"], "adminImport");
    assert_eq!(v["enrollmentState"], "notContacted");
    assert_eq!(v["platform"], "unknown");
    assert_eq!(v["isDeleted"], false);
    assert!(v["requestedEnrollmentProfileAssignmentDateTime"].is_null());
    assert!(v["description"].is_null());
}

#[test]
fn result_adds_status() {
    let mut identity = identity();
    identity.assign_profile(Some("p".into()), NOW);
    let v = serde_json::to_value(ImportedAppleDeviceIdentityResult {
        identity,
        status: true,
    })
    .unwrap();
    assert_eq!(v["status"], true);
    assert_eq!(v["serialNumber"], "C02TEST00002");
    assert_eq!(
        v["requestedEnrollmentProfileAssignmentDateTime"],
        "2025-09-19T16:50:51.5063355Z"
    );
    assert_eq!(v.as_object().unwrap().keys().next_back().unwrap(), "status");
    assert_eq!(
        RESULT_ODATA_TYPE,
        "#microsoft.graph.importedAppleDeviceIdentityResult"
    );
}

#[test]
fn normalises_serial_numbers() {
    assert_eq!(
        crate::domain::ids::Serial::parse(" c02t 0hl0 ggc0 ")
            .unwrap()
            .as_str(),
        "C02T0HL0GGC0"
    );
    assert_eq!(
        crate::domain::ids::Serial::parse("dmpxxxxx")
            .unwrap()
            .as_str(),
        "DMPXXXXX"
    );
    for bad in [
        "SHORT12",
        "ABCDEFGHIJKLMNOPQRSTU",
        "C02T-0HL0GGC0",
        "C02T0HL0GGÇ0",
        "",
    ] {
        let err = crate::domain::ids::Serial::parse(bad).unwrap_err().message;
        assert!(
            err.contains("8 to 20 ASCII letters and digits"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn create_applies_writable_properties_and_ignores_server_managed_ones() {
    let mut d = ImportedAppleDeviceIdentity::new("i".into(), String::new(), NOW);
    d.apply(
        &body(&json!({"serialNumber": "c02test00002", "description": "imported", "platform": "IOS",
            "isSupervised": true, "requestedEnrollmentProfileId": "1ec10a60-0a60-1ec1-600a-c11e600ac11e",
            "enrollmentState": "enrolled", "createdDateTime": "2016-12-31T23:59:43.797191-08:00",
            "@odata.type": "#microsoft.graph.importedAppleDeviceIdentity", "id": "ignored"})),
        Write::Create,
    )
    .unwrap();
    assert_eq!(d.serial_number, "C02TEST00002");
    assert_eq!(d.platform, DevicePlatform::Ios);
    assert!(d.is_supervised);
    assert_eq!(d.description.as_deref(), Some("imported"));
    assert_eq!(d.enrollment_state, EnrollmentState::NotContacted);
    assert_eq!(d.created_date_time, NOW);
    assert_eq!(
        d.requested_enrollment_profile_assignment_date_time,
        Some(NOW)
    );
    assert_eq!(d.id, "i");
}

#[test]
fn create_requires_a_serial_number() {
    let mut d = ImportedAppleDeviceIdentity::new("i".into(), String::new(), NOW);
    let err = d
        .apply(&body(&json!({"description": "x"})), Write::Create)
        .unwrap_err();
    assert!(
        err.message.contains("'serialNumber' is required"),
        "{}",
        err.message
    );
    assert!(d.description.is_none());
}

#[test]
fn patch_keeps_the_serial_and_ignores_derived_values() {
    let mut d = identity();
    d.apply(
        &body(&serde_json::to_value(identity()).unwrap()),
        Write::Update,
    )
    .unwrap();
    assert_eq!(d, identity());
    d.apply(
        &body(&json!({"serialNumber": "c02test 00002", "discoverySource": "ADMINIMPORT"})),
        Write::Update,
    )
    .unwrap();
    let err = d
        .apply(
            &body(&json!({"serialNumber": "C02TEST00003"})),
            Write::Update,
        )
        .unwrap_err();
    assert!(
        err.message.contains("'serialNumber' cannot be changed"),
        "{}",
        err.message
    );
    // GRAPH-COMPAT: documented properties never make a 400; derived ones are ignored.
    for change in [
        json!({"enrollmentState": "enrolled"}),
        json!({"createdDateTime": "2020-01-01T00:00:00Z"}),
        json!({"isDeleted": true}),
        json!({"discoverySource": "deviceEnrollmentProgram"}),
        json!({"lastContactedDateTime": "2020-01-01T00:00:00Z"}),
        json!({"requestedEnrollmentProfileAssignmentDateTime": "2020-01-01T00:00:00Z"}),
    ] {
        d.apply(&body(&change), Write::Update).unwrap();
        assert_eq!(d, identity(), "{change}");
    }
}

#[test]
fn failed_apply_changes_nothing_and_rejects_bad_values() {
    let mut d = identity();
    let before = d.clone();
    assert!(
        d.apply(
            &body(&json!({"description": "x", "isSupervised": "yes"})),
            Write::Update
        )
        .is_err()
    );
    assert_eq!(d, before);
    let cases = [
        (json!({"status": true}), "'status' does not exist"),
        (
            json!({"platform": "blackberry"}),
            "not a member of 'microsoft.graph.platform' (unknown, ios",
        ),
        (
            json!({"discoverySource": 4}),
            "not a member of 'microsoft.graph.discoverySource'",
        ),
        (
            json!({"description": "x".repeat(MAX_DESCRIPTION_CHARS + 1)}),
            "longer than 1024",
        ),
        (json!({"requestedEnrollmentProfileId": 7}), "'Edm.String'"),
        (json!({"serialNumber": null}), "'Edm.String'"),
        (
            json!({"lastContactedDateTime": "soon"}),
            "'Edm.DateTimeOffset'",
        ),
    ];
    for (change, expected) in cases {
        let err = d.apply(&body(&change), Write::Update).unwrap_err();
        assert!(err.message.contains(expected), "{change}: {}", err.message);
    }
    d.apply(
        &body(&json!({"requestedEnrollmentProfileId": null, "description": null})),
        Write::Update,
    )
    .unwrap();
}

#[test]
fn enums_have_csdl_members() {
    assert_eq!(
        DiscoverySource::MEMBERS,
        ["unknown", "adminImport", "deviceEnrollmentProgram"]
    );
    assert_eq!(
        EnrollmentState::MEMBERS,
        [
            "unknown",
            "enrolled",
            "pendingReset",
            "failed",
            "notContacted",
            "blocked"
        ]
    );
    assert_eq!(
        DevicePlatform::MEMBERS,
        [
            "unknown",
            "ios",
            "android",
            "windows",
            "windowsMobile",
            "macOS",
            "visionOS",
            "tvOS",
            "unknownFutureValue"
        ]
    );
    for p in DevicePlatform::ALL {
        assert_eq!(DevicePlatform::parse(&p.as_str().to_uppercase()), Some(*p));
    }
    assert_eq!(
        DiscoverySource::parse("AdminImport"),
        Some(DiscoverySource::AdminImport)
    );
    assert_eq!(EnrollmentState::parse("nope"), None);
    assert_eq!(serde_json::to_value(DevicePlatform::TvOs).unwrap(), "tvOS");
}

#[test]
fn maps_apple_device_families() {
    for (family, platform) in [
        ("iPhone", DevicePlatform::Ios),
        ("iPad", DevicePlatform::Ios),
        ("iPod", DevicePlatform::Ios),
        ("Mac", DevicePlatform::MacOs),
        ("AppleTV", DevicePlatform::TvOs),
        ("Vision", DevicePlatform::VisionOs),
        ("RealityDevice", DevicePlatform::VisionOs),
        ("Watch", DevicePlatform::Unknown),
        ("", DevicePlatform::Unknown),
    ] {
        assert_eq!(platform_from_device_family(family), platform, "{family}");
    }
}

#[test]
fn assign_profile_sets_and_clears_both_fields() {
    let mut d = identity();
    d.assign_profile(Some("p1".into()), NOW + 1);
    assert_eq!(d.requested_enrollment_profile_id.as_deref(), Some("p1"));
    assert_eq!(
        d.requested_enrollment_profile_assignment_date_time,
        Some(NOW + 1)
    );
    d.assign_profile(None, NOW + 2);
    assert_eq!(d.requested_enrollment_profile_id, None);
    assert_eq!(d.requested_enrollment_profile_assignment_date_time, None);
}
