//! In-memory `$filter` and `$select` on a polymorphic set (shaped like the enrollment profiles):
//! `isof` and type-cast paths.

use serde_json::json;

use super::super::*;
use crate::odata::filter::parse_filter;
use crate::odata::spec::{Field, FieldKind, SpecType};
use crate::odata::{compile_filter, resolve_select};

const IOS: &str = "microsoft.graph.depIOSEnrollmentProfile";

const fn poly_field(name: &'static str, kind: FieldKind) -> Field {
    Field {
        name,
        column: name,
        kind,
        nullable: true,
        filterable: true,
        sortable: true,
    }
}

/// A polymorphic set shaped like the enrollment profiles: a base type, an abstract middle type
/// and two derived types, one of which declares `iTunesPairingMode`.
static POLY: EntitySpec = EntitySpec {
    entity: "microsoft.graph.enrollmentProfile",
    fields: &[
        poly_field("id", FieldKind::Id),
        poly_field("displayName", FieldKind::Text),
        poly_field(
            "iTunesPairingMode",
            FieldKind::Enum(&["disallow", "allow", "requiresCertificate"]),
        ),
    ],
    types: &[
        SpecType {
            name: "enrollmentProfile",
            qualified: "microsoft.graph.enrollmentProfile",
            is: &["enrollmentProfile"],
            properties: &["id", "displayName"],
        },
        SpecType {
            name: "depEnrollmentBaseProfile",
            qualified: "microsoft.graph.depEnrollmentBaseProfile",
            is: &["depEnrollmentBaseProfile", "enrollmentProfile"],
            properties: &["id", "displayName"],
        },
        SpecType {
            name: "depIOSEnrollmentProfile",
            qualified: IOS,
            is: &[
                "depIOSEnrollmentProfile",
                "depEnrollmentBaseProfile",
                "enrollmentProfile",
            ],
            properties: &["id", "displayName", "iTunesPairingMode"],
        },
        SpecType {
            name: "depMacOSEnrollmentProfile",
            qualified: "microsoft.graph.depMacOSEnrollmentProfile",
            is: &[
                "depMacOSEnrollmentProfile",
                "depEnrollmentBaseProfile",
                "enrollmentProfile",
            ],
            properties: &["id", "displayName"],
        },
    ],
};

fn poly_kept(filter: &str) -> Result<Vec<String>, String> {
    let items = [
        json!({"@odata.type": format!("#{IOS}"), "id": "p1", "displayName": "iPad",
            "iTunesPairingMode": "allow"}),
        // A stray property on a type that does not declare it: a cast must not see it.
        json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile", "id": "p2",
            "displayName": "Mac", "iTunesPairingMode": "allow"}),
        json!({"@odata.type": "#microsoft.graph.enrollmentProfile", "id": "p3",
            "displayName": "Cfg"}),
        json!({"@odata.type": format!("#{IOS}"), "id": "p4", "displayName": "iPhone",
            "iTunesPairingMode": "disallow"}),
    ];
    let expr = parse_filter(filter).map_err(|e| e.to_string())?;
    let predicate = compile_predicate(&expr, &POLY).map_err(|e| e.to_string())?;
    Ok(items
        .iter()
        .filter(|i| predicate.matches(i))
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect())
}

#[test]
fn evaluates_isof_and_casts_on_polymorphic_sets() {
    let ok = |ids: &[&str]| Ok(ids.iter().map(|i| (*i).to_owned()).collect::<Vec<_>>());
    let cases: &[(&str, &[&str])] = &[
        (&format!("isof('{IOS}')"), &["p1", "p4"]),
        (
            "isof('microsoft.graph.depEnrollmentBaseProfile')",
            &["p1", "p2", "p4"],
        ),
        ("isof(graph.enrollmentProfile)", &["p1", "p2", "p3", "p4"]),
        (
            "not isof('#microsoft.graph.depMacOSEnrollmentProfile')",
            &["p1", "p3", "p4"],
        ),
        (&format!("{IOS}/iTunesPairingMode eq 'allow'"), &["p1"]),
        ("iTunesPairingMode eq 'allow'", &["p1", "p2"]),
        (&format!("{IOS}/iTunesPairingMode has 'ALLOW'"), &["p1"]),
        (&format!("{IOS}/iTunesPairingMode eq null"), &["p2", "p3"]),
        (
            "tolower(microsoft.graph.depEnrollmentBaseProfile/displayName) eq 'mac'",
            &["p2"],
        ),
    ];
    for (filter, want) in cases {
        assert_eq!(poly_kept(filter), ok(want), "{filter}");
    }
    let errors = [
        (
            "isof('microsoft.graph.user')",
            "Encountered invalid type cast. 'microsoft.graph.user' is not assignable from 'microsoft.graph.enrollmentProfile'.",
        ),
        (
            "microsoft.graph.depMacOSEnrollmentProfile/iTunesPairingMode eq 'allow'",
            "Could not find a property named 'iTunesPairingMode' on type 'microsoft.graph.depMacOSEnrollmentProfile'.",
        ),
        (
            "tolower(iTunesPairingMode) eq 'allow'",
            "The operator 'tolower' cannot be applied to the property 'iTunesPairingMode' in $filter.",
        ),
        (
            "displayName has 'x'",
            "The operator 'has' cannot be applied to the property 'displayName' in $filter.",
        ),
    ];
    for (filter, want) in errors {
        assert_eq!(poly_kept(filter), Err(want.to_owned()), "{filter}");
    }
    // Polymorphic sets have no type column: SQL compilation refuses them instead of guessing.
    let expr = parse_filter("displayName eq 'x'").unwrap();
    assert!(compile_filter(&expr, &POLY).is_err());
}

#[test]
fn selects_through_casts() {
    let select = |names: &[&str]| {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        resolve_select(&names, &POLY)
            .map(|fields| fields.iter().map(|f| f.name).collect::<Vec<_>>())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        select(&[&format!("{IOS}/itunespairingmode"), "id"]),
        Ok(vec!["iTunesPairingMode", "id"])
    );
    assert_eq!(
        select(&["microsoft.graph.depMacOSEnrollmentProfile/iTunesPairingMode"]),
        Err("Could not find a property named 'iTunesPairingMode' on type 'microsoft.graph.depMacOSEnrollmentProfile'.".to_owned())
    );
    assert!(select(&["microsoft.graph.user/id"]).is_err());
}
