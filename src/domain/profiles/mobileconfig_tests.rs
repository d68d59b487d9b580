//! Unit tests of the `.mobileconfig` export: the document is parsed back (strict XML, then as a
//! property list) rather than compared as text.

use super::*;
use crate::domain::profiles::{DEP_IOS_ENROLLMENT_PROFILE, DEP_TVOS_ENROLLMENT_PROFILE};
use serde_json::json;

const ID: &str = "40342229-2229-4034-2922-344029223440_1ec10a60-0a60-1ec1-600a-c11e600ac11e";

fn props(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn configurator() -> Map<String, Value> {
    props(&json!({
        "configurationEndpointUrl": "https://gw.example/enroll?p=1&t=2",
        "displayName": "Fish & Chips <EU>",
        "description": "Shop \"tills\"\u{1}",
        "requiresUserAuthentication": false
    }))
}

/// The decoded document, checked to be well-formed XML with Apple's plist doctype, parsed as a
/// property list whose root is a dictionary.
fn parse(b64: &str) -> Dictionary {
    let xml = String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap();
    assert!(
        xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \
             \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
             <plist version=\"1.0\">"
        ),
        "{xml}"
    );
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(&xml, options).unwrap();
    Plist::from_reader_xml(xml.as_bytes())
        .unwrap()
        .into_dictionary()
        .unwrap()
}

fn get<'a>(dict: &'a Dictionary, key: &str) -> Option<&'a str> {
    dict.get(key).and_then(Plist::as_string)
}

#[test]
fn exports_a_well_formed_profile_service_payload() {
    let root = parse(&export_mobileconfig(&ENROLLMENT_PROFILE, &configurator(), ID).unwrap());
    let keys: Vec<&str> = root.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "PayloadContent",
            "PayloadDisplayName",
            "PayloadDescription",
            "PayloadIdentifier",
            "PayloadUUID",
            "PayloadType",
            "PayloadVersion"
        ]
    );
    let content = root["PayloadContent"].as_dictionary().unwrap();
    assert_eq!(
        get(content, "URL"),
        Some("https://gw.example/enroll?p=1&t=2")
    );
    let attributes: Vec<&str> = content["DeviceAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_string().unwrap())
        .collect();
    assert_eq!(attributes, DEVICE_ATTRIBUTES);
    let challenge = get(content, "Challenge").unwrap();
    assert!(challenge.len() == 32 && challenge.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(get(&root, "PayloadDisplayName"), Some("Fish & Chips <EU>"));
    assert_eq!(
        get(&root, "PayloadDescription"),
        Some("Shop \"tills\""),
        "markup is escaped, a control character XML cannot carry is dropped"
    );
    assert_eq!(get(&root, "PayloadType"), Some("Profile Service"));
    assert_eq!(
        root["PayloadVersion"].as_signed_integer(),
        Some(1),
        "an <integer>, not a string"
    );
}

#[test]
fn export_is_deterministic_per_profile() {
    let a = export_mobileconfig(&ENROLLMENT_PROFILE, &configurator(), ID).unwrap();
    let b = export_mobileconfig(&ENROLLMENT_PROFILE, &configurator(), ID).unwrap();
    let other = export_mobileconfig(&ENROLLMENT_PROFILE, &configurator(), "x_y").unwrap();
    assert_eq!(a, b);
    assert_ne!(a, other);
    let uuid = derived_uuid("payload", ID);
    assert_eq!(uuid.get_version_num(), 5);
    let root = parse(&a);
    let upper = uuid.hyphenated().to_string().to_uppercase();
    assert_eq!(get(&root, "PayloadUUID"), Some(upper.as_str()));
    assert_eq!(
        get(&root, "PayloadIdentifier").unwrap(),
        format!("{PAYLOAD_IDENTIFIER_PREFIX}.{}", uuid.hyphenated())
    );
    assert_ne!(uuid, derived_uuid("challenge", ID));
}

#[test]
fn organization_comes_from_support_department() {
    let mut p = configurator();
    p.insert("supportDepartment".into(), json!("IT"));
    let root = parse(&export_mobileconfig(&ENROLLMENT_PROFILE, &p, ID).unwrap());
    assert_eq!(get(&root, "PayloadOrganization"), Some("IT"));
    let root = parse(&export_mobileconfig(&ENROLLMENT_PROFILE, &configurator(), ID).unwrap());
    assert!(!root.contains_key("PayloadOrganization"));
}

#[test]
fn refuses_dep_profiles_user_affinity_and_missing_url() {
    let dep = export_mobileconfig(&DEP_IOS_ENROLLMENT_PROFILE, &configurator(), ID).unwrap_err();
    assert!(
        dep.message
            .contains("only available for Apple Configurator enrollment profiles"),
        "{}",
        dep.message
    );
    assert!(
        dep.message
            .contains("#microsoft.graph.depIOSEnrollmentProfile")
    );
    assert!(export_mobileconfig(&DEP_TVOS_ENROLLMENT_PROFILE, &configurator(), ID).is_err());
    let mut user = configurator();
    user.insert("requiresUserAuthentication".into(), json!(true));
    let err = export_mobileconfig(&ENROLLMENT_PROFILE, &user, ID).unwrap_err();
    assert!(
        err.message.contains("without user affinity"),
        "{}",
        err.message
    );
    let mut no_url = configurator();
    no_url.insert("configurationEndpointUrl".into(), Value::Null);
    let err = export_mobileconfig(&ENROLLMENT_PROFILE, &no_url, ID).unwrap_err();
    assert!(
        err.message.contains("configurationEndpointUrl"),
        "{}",
        err.message
    );
}
