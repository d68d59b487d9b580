//! `exportMobileConfig()`: the `.mobileconfig` of an Apple Configurator profile, an
//! over-the-air "Profile Service" payload pointing the device at the profile's
//! `configurationEndpointUrl`.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use uuid::{Builder, Uuid};

use super::ENROLLMENT_PROFILE;
use crate::domain::ValidationError;
use crate::domain::edm::EntityType;

/// Prefix of the generated `PayloadIdentifier`s.
pub const PAYLOAD_IDENTIFIER_PREFIX: &str = "dep-gateway.enrollment-profile";
/// Attributes the device reports to the profile service.
const DEVICE_ATTRIBUTES: [&str; 6] = ["UDID", "IMEI", "ICCID", "VERSION", "PRODUCT", "SERIAL"];

/// Base64 of the `.mobileconfig` (an XML property list) of profile `profile_id`. Only Apple
/// Configurator profiles (type `enrollmentProfile`) without user affinity have one: DEP profiles
/// reach devices from Apple during Setup Assistant. The file is a "Profile Service" payload
/// (Apple's over-the-air enrollment phase 1): the device posts its `DeviceAttributes` and the
/// `Challenge` to `URL`, the profile's `configurationEndpointUrl`. `PayloadUUID`,
/// `PayloadIdentifier` and `Challenge` derive from the profile id, so exports are repeatable.
pub fn export_mobileconfig(
    ty: &EntityType,
    props: &Map<String, Value>,
    profile_id: &str,
) -> Result<String, ValidationError> {
    let requires_user = props.get("requiresUserAuthentication") == Some(&Value::Bool(true));
    if ty.name != ENROLLMENT_PROFILE.name || requires_user {
        return Err(ValidationError::new(format!(
            "exportMobileConfig is only available for Apple Configurator enrollment profiles \
             ('{}') without user affinity (requiresUserAuthentication false); this profile is \
             a '{}'{}. DEP profiles are delivered by Apple during Setup Assistant.",
            ENROLLMENT_PROFILE.odata_type(),
            ty.odata_type(),
            if requires_user {
                " that requires user authentication"
            } else {
                ""
            }
        )));
    }
    let url = text(props, "configurationEndpointUrl").ok_or_else(|| {
        ValidationError::new(
            "The profile has no configurationEndpointUrl, so no .mobileconfig can point at it.",
        )
    })?;
    Ok(STANDARD.encode(plist(props, profile_id, url)))
}

fn plist(props: &Map<String, Value>, profile_id: &str, url: &str) -> String {
    let uuid = derived_uuid("payload", profile_id);
    let challenge = derived_uuid("challenge", profile_id).simple().to_string();
    let mut x = String::from(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" ",
        "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n",
        "<plist version=\"1.0\">\n<dict>\n",
        "\t<key>PayloadContent</key>\n\t<dict>\n"
    ));
    entry(&mut x, 2, "URL", url);
    x.push_str("\t\t<key>DeviceAttributes</key>\n\t\t<array>\n");
    for attribute in DEVICE_ATTRIBUTES {
        let _ = writeln!(x, "\t\t\t<string>{attribute}</string>");
    }
    x.push_str("\t\t</array>\n");
    entry(&mut x, 2, "Challenge", &challenge);
    x.push_str("\t</dict>\n");
    let name = text(props, "displayName").unwrap_or("Enrollment profile");
    entry(&mut x, 1, "PayloadDisplayName", name);
    if let Some(description) = text(props, "description") {
        entry(&mut x, 1, "PayloadDescription", description);
    }
    if let Some(organization) = text(props, "supportDepartment") {
        entry(&mut x, 1, "PayloadOrganization", organization);
    }
    let identifier = format!("{PAYLOAD_IDENTIFIER_PREFIX}.{}", uuid.hyphenated());
    entry(&mut x, 1, "PayloadIdentifier", &identifier);
    entry(
        &mut x,
        1,
        "PayloadUUID",
        &uuid.hyphenated().to_string().to_uppercase(),
    );
    entry(&mut x, 1, "PayloadType", "Profile Service");
    x.push_str("\t<key>PayloadVersion</key>\n\t<integer>1</integer>\n</dict>\n</plist>\n");
    x
}

/// A non-empty string property.
fn text<'a>(props: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    props
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn entry(x: &mut String, depth: usize, key: &str, value: &str) {
    let tabs = "\t".repeat(depth);
    let _ = writeln!(
        x,
        "{tabs}<key>{}</key>\n{tabs}<string>{}</string>",
        escape(key),
        escape(value)
    );
}

/// XML text escaping; characters XML 1.0 cannot carry at all are dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

/// A version-8 UUID from a 128-bit FNV-1a hash of `purpose` and `id`: stable across exports
/// without being a copy of the profile id.
fn derived_uuid(purpose: &str, id: &str) -> Uuid {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let hash = purpose
        .bytes()
        .chain([0])
        .chain(id.bytes())
        .fold(OFFSET, |h, b| (h ^ u128::from(b)).wrapping_mul(PRIME));
    Builder::from_custom_bytes(hash.to_be_bytes()).into_uuid()
}

#[cfg(test)]
mod tests {
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

    fn decode(b64: &str) -> String {
        String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()
    }

    /// A small well-formedness check: declaration, doctype, balanced tags, one `plist` root,
    /// only the five predefined entities in text.
    fn assert_well_formed(xml: &str) {
        let mut rest = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist ")
            .unwrap();
        rest = &rest[rest.find('>').unwrap() + 1..];
        let mut stack: Vec<&str> = Vec::new();
        let mut roots = 0;
        while let Some(open) = rest.find('<') {
            check_text(&rest[..open]);
            let close = open + rest[open..].find('>').unwrap();
            let tag = &rest[open + 1..close];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "unbalanced </{name}>");
            } else {
                let name = tag.split(' ').next().unwrap();
                if stack.is_empty() {
                    roots += 1;
                    assert_eq!(name, "plist");
                }
                stack.push(name);
            }
            rest = &rest[close + 1..];
        }
        check_text(rest);
        assert!(stack.is_empty(), "unclosed {stack:?}");
        assert_eq!(roots, 1);
    }

    fn check_text(text: &str) {
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "raw & in {text:?}"
            );
        }
        assert!(
            !text
                .chars()
                .any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
        );
    }

    #[test]
    fn exports_a_well_formed_profile_service_payload() {
        let xml = decode(&export_mobileconfig(&ENROLLMENT_PROFILE, &configurator(), ID).unwrap());
        assert_well_formed(&xml);
        assert!(
            xml.contains("<string>https://gw.example/enroll?p=1&amp;t=2</string>"),
            "{xml}"
        );
        assert!(
            xml.contains("<string>Fish &amp; Chips &lt;EU&gt;</string>"),
            "{xml}"
        );
        assert!(
            xml.contains("<string>Shop &quot;tills&quot;</string>"),
            "{xml}"
        );
        assert!(xml.contains("<key>PayloadType</key>\n\t<string>Profile Service</string>"));
        for attribute in DEVICE_ATTRIBUTES {
            assert!(xml.contains(&format!("<string>{attribute}</string>")));
        }
        assert!(xml.contains("<key>Challenge</key>"));
        assert!(!xml.contains("PayloadOrganization"));
    }

    #[test]
    fn export_is_deterministic_per_profile() {
        let a = export_mobileconfig(&ENROLLMENT_PROFILE, &configurator(), ID).unwrap();
        let b = export_mobileconfig(&ENROLLMENT_PROFILE, &configurator(), ID).unwrap();
        let other = export_mobileconfig(&ENROLLMENT_PROFILE, &configurator(), "x_y").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, other);
        let uuid = derived_uuid("payload", ID);
        assert_eq!(uuid.get_version_num(), 8);
        assert!(decode(&a).contains(&uuid.hyphenated().to_string().to_uppercase()));
        assert_ne!(uuid, derived_uuid("challenge", ID));
    }

    #[test]
    fn organization_comes_from_support_department() {
        let mut p = configurator();
        p.insert("supportDepartment".into(), json!("IT"));
        let xml = decode(&export_mobileconfig(&ENROLLMENT_PROFILE, &p, ID).unwrap());
        assert!(xml.contains("<key>PayloadOrganization</key>\n\t<string>IT</string>"));
    }

    #[test]
    fn refuses_dep_profiles_user_affinity_and_missing_url() {
        let dep =
            export_mobileconfig(&DEP_IOS_ENROLLMENT_PROFILE, &configurator(), ID).unwrap_err();
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
}
