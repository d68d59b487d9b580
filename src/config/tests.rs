//! Settings: redaction, defaults, the enrollment URL and CORS lists.

use super::*;

#[test]
fn debug_hides_the_database_password() {
    let settings = Settings {
        database_url: Some("postgres://dep:hunter2@db/dep?password=hunter3".to_owned()),
        ..Settings::default()
    };
    let debug = format!("{settings:?}");
    assert!(
        debug.contains("postgres://dep:***@db/dep?password=***"),
        "{debug}"
    );
    assert!(!debug.contains("hunter"), "{debug}");
}

#[test]
fn dev_authority_defaults_to_loopback_only() {
    let mut s = Settings::default();
    assert!(s.dev_authority_enabled());
    s.bind = "0.0.0.0:8080".to_owned();
    assert!(!s.dev_authority_enabled());
    s.auth.dev_authority = Some(true);
    assert!(s.dev_authority_enabled());
}

fn from_toml(text: &str) -> Settings {
    Figment::from(Serialized::defaults(Settings::default()))
        .merge(Toml::string(text))
        .extract()
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn cors_origins_come_as_a_list_or_one_comma_separated_string() {
    // The environment can only give a string: DEP_GATEWAY_CORS_ALLOWED_ORIGINS="a, b".
    let s = from_toml(r#"cors_allowed_origins = "https://a.example, https://b.example,""#);
    assert_eq!(
        s.cors_allowed_origins,
        ["https://a.example", "https://b.example"]
    );
    let s = from_toml(r#"cors_allowed_origins = ["*"]"#);
    assert_eq!(s.cors_allowed_origins, ["*"]);
    assert!(Settings::default().cors_allowed_origins.is_empty());
}

#[test]
fn the_enrollment_url_is_checked_with_the_setting_named() {
    let s = from_toml(r#"mdm_enrollment_url = "https://mdm.example.com/enroll?p={profileId}""#);
    let url = s.enrollment_url().unwrap().expect("configured");
    assert_eq!(url.render("t", "p1"), "https://mdm.example.com/enroll?p=p1");
    let s = from_toml(r#"mdm_enrollment_url = "https://mdm.example.com/{serial}""#);
    let err = s.enrollment_url().unwrap_err().to_string();
    assert!(
        err.starts_with("mdm_enrollment_url (DEP_GATEWAY_MDM_ENROLLMENT_URL): unknown placeholder"),
        "{err}"
    );
    let s = from_toml(r#"mdm_enrollment_url = " ""#);
    assert!(s.enrollment_url().unwrap().is_none());
}
