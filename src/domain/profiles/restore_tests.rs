//! Restore and copy at the domain level: the GET body of a profile of every instantiable type,
//! every property set away from its default, is a valid create body for the same type and
//! yields the same profile, server-managed values aside (issue 13).

use serde_json::{Map, Value, json};

use super::*;
use crate::domain::edm::{self, Access, ComplexType, EdmType, Property};

/// A valid, non-default value for `p` (rules respected: `configurationWebUrl` stays false so
/// that Platform SSO may be on; numbers are 1, inside every range).
fn sample(p: &Property) -> Value {
    match p.ty {
        EdmType::Boolean => Value::Bool(p.name != "configurationWebUrl"),
        EdmType::String => json!(format!("{}-value", p.name)),
        EdmType::Int32 => json!(1),
        EdmType::Guid => json!("0b1c7a3e-5f1a-4a0e-9a59-0d6b5d0c6a11"),
        EdmType::DateTimeOffset => json!("2026-12-03T08:00:00.0000000Z"),
        EdmType::Enum(e) => json!(e.members.last().copied().unwrap_or_default()),
        EdmType::Complex(c) => complex_sample(c),
        EdmType::StringCollection => json!(["Location"]),
        EdmType::GuidCollection => json!(["0b1c7a3e-5f1a-4a0e-9a59-0d6b5d0c6a11"]),
        EdmType::ComplexCollection(c) => json!([complex_sample(c)]),
    }
}

fn complex_sample(c: &ComplexType) -> Value {
    Value::Object(
        c.properties
            .iter()
            .map(|p| (p.name.to_owned(), sample(p)))
            .collect(),
    )
}

/// What the service seeds a new profile with before applying the body.
fn seeded(url: &str) -> Map<String, Value> {
    let mut props = Map::new();
    props.insert("configurationEndpointUrl".into(), json!(url));
    props.insert("isDefault".into(), json!(false));
    props
}

#[test]
fn a_get_body_of_every_type_creates_an_equal_profile() {
    for ty in all_profile_types().iter().filter(|t| !t.is_abstract) {
        let mut stored = seeded("https://gw/enroll/source");
        for p in ty.all_properties() {
            if p.access == Access::Writable {
                stored.insert(p.name.to_owned(), sample(p));
            }
        }
        check_rules(ty, &stored).unwrap_or_else(|e| panic!("{}: {e}", ty.name));
        // The source is its token's default (where the type says so).
        if ty.property("isDefault").is_some() {
            stored.insert("isDefault".into(), json!(true));
        }
        let mut body = edm::render_with_id(ty, "source_guid", &stored);
        body.remove("id");
        body.insert("@odata.type".into(), json!(ty.odata_type()));
        body.insert(
            "@odata.context".into(),
            json!("https://graph/$metadata#x/$entity"),
        );

        assert_eq!(create_type(&body).unwrap().name, ty.name);
        let mut copy = seeded("https://gw/enroll/copy");
        edm::apply(ty, &mut copy, &body).unwrap_or_else(|e| panic!("{}: {e}", ty.name));
        apply_create_defaults(ty, &body, &mut copy);
        check_rules(ty, &copy).unwrap();

        let (mut got, mut want) = (edm::render(ty, &copy), edm::render(ty, &stored));
        assert_eq!(
            got.remove("configurationEndpointUrl"),
            Some(json!("https://gw/enroll/copy"))
        );
        assert_eq!(
            got.remove("isDefault"),
            ty.property("isDefault").map(|_| json!(false))
        );
        want.remove("configurationEndpointUrl");
        want.remove("isDefault");
        assert_eq!(got, want, "{}", ty.name);
    }
}
