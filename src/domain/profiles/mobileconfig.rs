//! `exportMobileConfig()`: the `.mobileconfig` of an Apple Configurator profile, an
//! over-the-air "Profile Service" payload pointing the device at the profile's
//! `configurationEndpointUrl`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use plist::{Dictionary, Value as Plist};
use serde_json::{Map, Value};
use uuid::Uuid;

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
    let mut xml = Vec::new();
    // Writing strings and an integer into a `Vec` has no failure mode; should the writer ever
    // refuse, the client learns why instead of receiving a truncated file.
    Plist::Dictionary(profile_service(props, profile_id, url))
        .to_writer_xml(&mut xml)
        .map_err(|e| {
            ValidationError::new(format!("The .mobileconfig could not be written: {e}"))
        })?;
    Ok(STANDARD.encode(xml))
}

/// The top-level dictionary: a `Profile Service` payload whose content is the enrollment URL,
/// the requested device attributes and the challenge.
fn profile_service(props: &Map<String, Value>, profile_id: &str, url: &str) -> Dictionary {
    let uuid = derived_uuid("payload", profile_id);
    let mut content = Dictionary::new();
    content.insert("URL".into(), string(url));
    content.insert(
        "DeviceAttributes".into(),
        Plist::Array(DEVICE_ATTRIBUTES.iter().map(|a| string(a)).collect()),
    );
    let challenge = derived_uuid("challenge", profile_id).simple().to_string();
    content.insert("Challenge".into(), Plist::String(challenge));
    let mut root = Dictionary::new();
    root.insert("PayloadContent".into(), Plist::Dictionary(content));
    let name = text(props, "displayName").unwrap_or("Enrollment profile");
    root.insert("PayloadDisplayName".into(), string(name));
    if let Some(description) = text(props, "description") {
        root.insert("PayloadDescription".into(), string(description));
    }
    if let Some(organization) = text(props, "supportDepartment") {
        root.insert("PayloadOrganization".into(), string(organization));
    }
    let identifier = format!("{PAYLOAD_IDENTIFIER_PREFIX}.{}", uuid.hyphenated());
    root.insert("PayloadIdentifier".into(), Plist::String(identifier));
    let payload_uuid = uuid.hyphenated().to_string().to_uppercase();
    root.insert("PayloadUUID".into(), Plist::String(payload_uuid));
    root.insert("PayloadType".into(), string("Profile Service"));
    root.insert("PayloadVersion".into(), Plist::Integer(1.into()));
    root
}

/// A non-empty string property.
fn text<'a>(props: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    props
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A plist string without the characters XML 1.0 cannot carry at all (C0 controls other than
/// tab, newline and carriage return; U+FFFE and U+FFFF): the writer escapes markup but passes
/// those through, which would make the document unparseable.
fn string(s: &str) -> Plist {
    let allowed = |c: &char| {
        !((*c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    };
    Plist::String(s.chars().filter(allowed).collect())
}

/// A name-based (version 5, SHA-1) UUID of `purpose` and `id` under the gateway's own
/// namespace: stable across exports without being a copy of the profile id.
fn derived_uuid(purpose: &str, id: &str) -> Uuid {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:dep-gateway:mobileconfig");
    Uuid::new_v5(&namespace, format!("{purpose}\0{id}").as_bytes())
}

#[cfg(test)]
#[path = "mobileconfig_tests.rs"]
mod tests;
