//! Cross-property rules of enrollment profiles: create-time defaults and the checks run after
//! every create and PATCH. Each error names its rule.

use serde_json::{Map, Value};

use crate::domain::ValidationError;
use crate::domain::edm::EntityType;

const COMPANY_PORTAL_AUTH: &str = "enableAuthenticationViaCompanyPortal";

/// Numeric ranges: (property path, minimum, maximum if any, unit).
// Sources: the rotation ranges are the ones graph-dep-api.md §3.10 quotes from the Python SDK
// ("1–180 days", "1–24 hours"). The others are not stated by the reference: a user count and
// durations in seconds simply cannot be negative.
const RANGES: &[(&[&str], i64, Option<i64>, &str)] = &[
    (
        &[
            "depProfileAdminAccountPasswordRotationSetting",
            "autoRotationPeriodInDays",
        ],
        1,
        Some(180),
        "days",
    ),
    (
        &[
            "depProfileAdminAccountPasswordRotationSetting",
            "depProfileDelayAutoRotationSetting",
            "onRetrievalDelayAutoRotatePasswordInHours",
        ],
        1,
        Some(24),
        "hours",
    ),
    (&["sharedIPadMaximumUserCount"], 0, None, "users"),
    (&["passcodeLockGracePeriodInSeconds"], 0, None, "seconds"),
    (&["temporarySessionTimeoutInSeconds"], 0, None, "seconds"),
    (&["userSessionTimeoutInSeconds"], 0, None, "seconds"),
];

/// User affinity: a new profile that `requiresUserAuthentication` authenticates with Company
/// Portal (`enableAuthenticationViaCompanyPortal: true`) unless the create `body` says otherwise.
/// `props` are the profile's properties after the body was applied; run [`check_rules`] next.
pub fn apply_create_defaults(
    ty: &EntityType,
    body: &Map<String, Value>,
    props: &mut Map<String, Value>,
) {
    if ty.property(COMPANY_PORTAL_AUTH).is_some()
        && is_true(props, "requiresUserAuthentication")
        && !body.contains_key(COMPANY_PORTAL_AUTH)
    {
        props.insert(COMPANY_PORTAL_AUTH.to_owned(), Value::Bool(true));
    }
}

/// The rules every profile must satisfy after a create or PATCH: Company Portal options only
/// with Company Portal authentication, Platform SSO not with `configurationWebUrl`, and the
/// numeric ranges.
pub fn check_rules(ty: &EntityType, props: &Map<String, Value>) -> Result<(), ValidationError> {
    let company_portal = is_true(props, COMPANY_PORTAL_AUTH);
    let vpp_token = props
        .get("companyPortalVppTokenId")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if vpp_token && !company_portal {
        return Err(rule(
            ty,
            "Company Portal VPP token requires Company Portal authentication",
            "'companyPortalVppTokenId' can only be set when 'enableAuthenticationViaCompanyPortal' is true",
        ));
    }
    if is_true(props, "enableSingleAppEnrollmentMode") && !company_portal {
        return Err(rule(
            ty,
            "Single App mode requires Company Portal authentication",
            "'enableSingleAppEnrollmentMode' can only be true when 'enableAuthenticationViaCompanyPortal' is true",
        ));
    }
    if is_true(props, "usePlatformSSODuringSetupAssistant") && is_true(props, "configurationWebUrl")
    {
        return Err(rule(
            ty,
            "Platform SSO excludes the Setup Assistant web URL",
            "'usePlatformSSODuringSetupAssistant' cannot be true when 'configurationWebUrl' is true",
        ));
    }
    check_ranges(ty, props)
}

fn check_ranges(ty: &EntityType, props: &Map<String, Value>) -> Result<(), ValidationError> {
    for (path, min, max, unit) in RANGES {
        let Some(n) = lookup(props, path).and_then(Value::as_i64) else {
            continue;
        };
        if n >= *min && max.is_none_or(|max| n <= max) {
            continue;
        }
        let shown = path.join("/");
        let detail = match max {
            Some(max) => format!("'{shown}' must be between {min} and {max} {unit}; got {n}"),
            None => format!("'{shown}' cannot be negative ({unit}); got {n}"),
        };
        return Err(rule(ty, "Value range", &detail));
    }
    Ok(())
}

fn lookup<'a>(props: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(props.get(*first)?, |v, name| v.as_object()?.get(*name))
}

fn is_true(props: &Map<String, Value>, name: &str) -> bool {
    props.get(name) == Some(&Value::Bool(true))
}

fn rule(ty: &EntityType, name: &str, detail: &str) -> ValidationError {
    ValidationError::new(format!(
        "Rule '{name}' violated on type '{}': {detail}.",
        ty.qualified_name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::profiles::{DEP_IOS_ENROLLMENT_PROFILE, DEP_MACOS_ENROLLMENT_PROFILE};
    use serde_json::json;

    fn obj(v: &Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn ios_err(v: &Value) -> String {
        check_rules(&DEP_IOS_ENROLLMENT_PROFILE, &obj(v))
            .unwrap_err()
            .message
    }

    #[test]
    fn user_affinity_defaults_to_company_portal() {
        let ios = &DEP_IOS_ENROLLMENT_PROFILE;
        let mut props = obj(&json!({"requiresUserAuthentication": true}));
        apply_create_defaults(ios, &obj(&json!({})), &mut props);
        assert_eq!(props[COMPANY_PORTAL_AUTH], true);

        let body = obj(&json!({COMPANY_PORTAL_AUTH: false}));
        let mut props =
            obj(&json!({"requiresUserAuthentication": true, COMPANY_PORTAL_AUTH: false}));
        apply_create_defaults(ios, &body, &mut props);
        assert_eq!(props[COMPANY_PORTAL_AUTH], false);

        let mut props = obj(&json!({"requiresUserAuthentication": false}));
        apply_create_defaults(ios, &obj(&json!({})), &mut props);
        assert!(props.get(COMPANY_PORTAL_AUTH).is_none());
    }

    #[test]
    fn vpp_token_requires_company_portal() {
        let err = ios_err(&json!({"companyPortalVppTokenId": "vpp-1"}));
        assert!(
            err.contains("Company Portal VPP token requires Company Portal authentication"),
            "{err}"
        );
        let ok = json!({"companyPortalVppTokenId": "vpp-1", COMPANY_PORTAL_AUTH: true});
        check_rules(&DEP_IOS_ENROLLMENT_PROFILE, &obj(&ok)).unwrap();
        let unset = json!({"companyPortalVppTokenId": null});
        check_rules(&DEP_IOS_ENROLLMENT_PROFILE, &obj(&unset)).unwrap();
    }

    #[test]
    fn single_app_mode_requires_company_portal() {
        let err = ios_err(&json!({"enableSingleAppEnrollmentMode": true}));
        assert!(
            err.contains("Single App mode requires Company Portal authentication"),
            "{err}"
        );
        let ok = json!({"enableSingleAppEnrollmentMode": true, COMPANY_PORTAL_AUTH: true});
        check_rules(&DEP_IOS_ENROLLMENT_PROFILE, &obj(&ok)).unwrap();
    }

    #[test]
    fn platform_sso_excludes_configuration_web_url() {
        let mac = &DEP_MACOS_ENROLLMENT_PROFILE;
        let both = json!({"usePlatformSSODuringSetupAssistant": true, "configurationWebUrl": true});
        let err = check_rules(mac, &obj(&both)).unwrap_err().message;
        assert!(
            err.contains("Platform SSO excludes the Setup Assistant web URL")
                && err.contains("'configurationWebUrl'"),
            "{err}"
        );
        let one = json!({"usePlatformSSODuringSetupAssistant": true, "configurationWebUrl": false});
        check_rules(mac, &obj(&one)).unwrap();
    }

    #[test]
    fn numeric_ranges() {
        let mac = &DEP_MACOS_ENROLLMENT_PROFILE;
        let rotation = |days: i64, hours: Value| {
            json!({"depProfileAdminAccountPasswordRotationSetting": {
                "autoRotationPeriodInDays": days,
                "depProfileDelayAutoRotationSetting": {
                    "onRetrievalAutoRotatePasswordEnabled": true,
                    "onRetrievalDelayAutoRotatePasswordInHours": hours}}})
        };
        check_rules(mac, &obj(&rotation(180, json!(24)))).unwrap();
        check_rules(mac, &obj(&rotation(1, Value::Null))).unwrap();
        let err = check_rules(mac, &obj(&rotation(181, json!(1))))
            .unwrap_err()
            .message;
        assert!(err.contains("'depProfileAdminAccountPasswordRotationSetting/autoRotationPeriodInDays' must be between 1 and 180 days; got 181"), "{err}");
        let err = check_rules(mac, &obj(&rotation(30, json!(0))))
            .unwrap_err()
            .message;
        assert!(
            err.contains(
                "onRetrievalDelayAutoRotatePasswordInHours' must be between 1 and 24 hours"
            ),
            "{err}"
        );
        let err = ios_err(&json!({"sharedIPadMaximumUserCount": -1}));
        assert!(
            err.contains("Rule 'Value range'") && err.contains("cannot be negative"),
            "{err}"
        );
        let err = ios_err(&json!({"userSessionTimeoutInSeconds": -5}));
        assert!(
            err.contains("'userSessionTimeoutInSeconds' cannot be negative"),
            "{err}"
        );
        check_rules(
            &DEP_IOS_ENROLLMENT_PROFILE,
            &obj(&json!({"sharedIPadMaximumUserCount": 0})),
        )
        .unwrap();
    }
}
