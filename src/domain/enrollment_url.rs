//! The MDM server's enrollment URL (`mdm_enrollment_url`): the `url` of every profile the
//! gateway defines at Apple. The gateway is not an MDM server; Apple hands this URL to the
//! device, and Setup Assistant fetches its enrollment profile there.
//!
//! A template: `{profileId}` (the Graph enrollment profile id) and `{tokenId}` (the
//! depOnboardingSetting id) are replaced, percent-encoded, so one MDM server can tell the
//! gateway's profiles apart. There is no `{serial}`: Apple defines a profile once and assigns
//! that one definition to many serials, so its `url` cannot vary per device — and the device
//! names itself anyway (Setup Assistant sends its serial and UDID in the signed request it makes
//! to this URL).

use std::net::IpAddr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The placeholders a template may hold.
pub const PLACEHOLDERS: &[&str] = &["{profileId}", "{tokenId}"];

/// Apple's limit on a profile's `url` (`CONFIG_URL_INVALID` above it).
const APPLE_MAX_URL: usize = 2000;

/// Room a placeholder may take once replaced: ids are GUIDs (`{tokenId}_{guid}` for profiles),
/// percent-encoding aside; the template is checked with this much in each.
const LONGEST_ID: usize = 80;

/// Characters left as they are in a replaced id (RFC 3986 unreserved).
const ID_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A validated enrollment URL template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentUrl {
    template: String,
}

impl EnrollmentUrl {
    /// Checks `template`: an absolute `https` URL (or `http` to a loopback host, for an MDM
    /// server on the same machine), only known placeholders, and short enough for Apple once
    /// the ids are in. The error says what is wrong, for a start-up message.
    pub fn parse(template: &str) -> Result<Self, String> {
        let template = template.trim();
        check_placeholders(template)?;
        let sample = fill(template, &"0".repeat(LONGEST_ID), &"0".repeat(LONGEST_ID));
        if sample.len() > APPLE_MAX_URL {
            return Err(format!(
                "it is longer than Apple's {APPLE_MAX_URL} characters once the ids are in"
            ));
        }
        let url = url::Url::parse(&sample)
            .map_err(|e| format!("'{template}' is not an absolute URL ({e})"))?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => return Err(format!("'{template}' has no host")),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(format!(
                    "'{template}' is plain http: devices enroll over https only (http is accepted for a loopback host)"
                ));
            }
            other => return Err(format!("'{template}' has scheme '{other}', not https")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("it must not carry credentials".to_owned());
        }
        Ok(Self {
            template: template.to_owned(),
        })
    }

    /// The URL for profile `profile_id` of token `token_id`.
    pub fn render(&self, token_id: &str, profile_id: &str) -> String {
        let escape = |s: &str| utf8_percent_encode(s, ID_ESCAPE).to_string();
        fill(&self.template, &escape(token_id), &escape(profile_id))
    }

    /// The template as configured.
    pub fn template(&self) -> &str {
        &self.template
    }
}

fn fill(template: &str, token_id: &str, profile_id: &str) -> String {
    template
        .replace("{tokenId}", token_id)
        .replace("{profileId}", profile_id)
}

/// Every `{…}` must be a known placeholder; a stray brace is refused too (it would reach
/// Apple as a literal and most likely be a typo).
fn check_placeholders(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(start) = rest.find(['{', '}']) {
        let tail = &rest[start..];
        let Some(known) = PLACEHOLDERS.iter().find(|p| tail.starts_with(**p)) else {
            let end = tail.find('}').map_or(tail.len(), |i| i + 1);
            let found = &tail[..end];
            let hint = if found == "{serial}" {
                " (Apple's profile is defined once for many devices, so it cannot name one serial)"
            } else {
                ""
            };
            return Err(format!(
                "unknown placeholder '{found}'{hint}; known: {}",
                PLACEHOLDERS.join(", ")
            ));
        };
        rest = &tail[known.len()..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_and_escaped() {
        let u =
            EnrollmentUrl::parse("https://mdm.example.com/enroll/{tokenId}?p={profileId}").unwrap();
        assert_eq!(
            u.render("t-1", "t-1_a b/c"),
            "https://mdm.example.com/enroll/t-1?p=t-1_a%20b%2Fc"
        );
        let fixed = EnrollmentUrl::parse(" https://mdm.example.com/mdm/enroll ").unwrap();
        assert_eq!(fixed.render("t", "p"), "https://mdm.example.com/mdm/enroll");
    }

    #[test]
    fn http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:9000/enroll",
            "http://localhost/enroll",
            "http://[::1]/e",
        ] {
            assert!(EnrollmentUrl::parse(ok).is_ok(), "{ok}");
        }
        let err = EnrollmentUrl::parse("http://mdm.example.com/enroll").unwrap_err();
        assert!(err.contains("plain http"), "{err}");
        let err = EnrollmentUrl::parse("ftp://mdm.example.com/enroll").unwrap_err();
        assert!(err.contains("scheme 'ftp'"), "{err}");
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        let err = EnrollmentUrl::parse("https://mdm.example.com/{serial}").unwrap_err();
        assert!(
            err.contains("unknown placeholder '{serial}'") && err.contains("many devices"),
            "{err}"
        );
        let err = EnrollmentUrl::parse("https://mdm.example.com/{profileid}").unwrap_err();
        assert!(err.contains("'{profileid}'"), "{err}");
        let err = EnrollmentUrl::parse("https://mdm.example.com/{profileId").unwrap_err();
        assert!(err.contains("unknown placeholder"), "{err}");
        let err = EnrollmentUrl::parse("mdm.example.com/enroll").unwrap_err();
        assert!(err.contains("not an absolute URL"), "{err}");
        let err = EnrollmentUrl::parse("https://u:pw@mdm.example.com/").unwrap_err();
        assert!(err.contains("credentials"), "{err}");
        let long = format!("https://mdm.example.com/{}", "a".repeat(1990));
        assert!(EnrollmentUrl::parse(&long).unwrap_err().contains("2000"));
    }
}
