//! Unit tests of the EDM model with a small made-up type hierarchy.

use serde_json::{Map, Value, json};

use super::*;

static COLOUR: EnumType = EnumType {
    name: "colour",
    members: &["red", "greenBlue"],
};
static INNER: ComplexType = ComplexType {
    name: "inner",
    properties: &[
        Property::new("flag", EdmType::Boolean),
        Property::new("hours", EdmType::Int32),
    ],
};
static OUTER: ComplexType = ComplexType {
    name: "outer",
    properties: &[
        Property::new("label", EdmType::String).max_chars(4),
        Property::new("inner", EdmType::Complex(&INNER)),
    ],
};
static BASE: EntityType = EntityType {
    name: "thing",
    base: None,
    is_abstract: true,
    properties: &[
        Property::new("serverUrl", EdmType::String).server_managed("It is generated."),
        Property::new("name", EdmType::String).max_chars(8),
        Property::new("enabled", EdmType::Boolean).not_null(),
    ],
    navigations: &["owner"],
};
static DERIVED: EntityType = EntityType {
    name: "specialThing",
    base: Some(&BASE),
    is_abstract: false,
    properties: &[
        Property::new("colour", EdmType::Enum(&COLOUR)).not_null(),
        Property::new("count", EdmType::Int32).not_null(),
        Property::new("groups", EdmType::GuidCollection)
            .not_null()
            .max_items(2),
        Property::new("isDefault", EdmType::Boolean)
            .not_null()
            .server_managed(""),
        Property::new("keys", EdmType::StringCollection).max_chars(3),
        Property::new("outer", EdmType::Complex(&OUTER)),
        Property::new("outers", EdmType::ComplexCollection(&OUTER)),
        Property::new("seen", EdmType::DateTimeOffset).not_null(),
        Property::new("when", EdmType::DateTimeOffset),
    ],
    navigations: &[],
};

fn obj(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn apply_err(body: &Value) -> String {
    let mut current = Map::new();
    apply(&DERIVED, &mut current, &obj(body))
        .unwrap_err()
        .message
}

#[test]
fn names_and_hierarchy() {
    assert_eq!(DERIVED.odata_type(), "#microsoft.graph.specialThing");
    assert_eq!(DERIVED.qualified_name(), "microsoft.graph.specialThing");
    let names: Vec<_> = DERIVED.all_properties().iter().map(|p| p.name).collect();
    assert_eq!(&names[..4], ["serverUrl", "name", "enabled", "colour"]);
    assert_eq!(names.len(), 12);
    assert!(DERIVED.derives_from(&BASE));
    assert!(DERIVED.derives_from(&DERIVED));
    assert!(!BASE.derives_from(&DERIVED));
    assert!(DERIVED.is_navigation("owner"));
    assert_eq!(DERIVED.property("name").map(|p| p.max_chars), Some(8));
    assert_eq!(
        EdmType::ComplexCollection(&OUTER).name(),
        "Collection(microsoft.graph.outer)"
    );
    assert_eq!(EdmType::GuidCollection.name(), "Collection(Edm.Guid)");
}

#[test]
fn render_fills_defaults_in_order() {
    let out = render(&DERIVED, &obj(&json!({"name": "x", "id": "42"})));
    let v = Value::Object(out.clone());
    let keys: Vec<_> = out.keys().map(String::as_str).collect();
    assert_eq!(&keys[..3], ["id", "serverUrl", "name"]);
    assert_eq!(v["name"], "x");
    assert_eq!(v["serverUrl"], Value::Null);
    assert_eq!(v["enabled"], false);
    assert_eq!(v["colour"], "red");
    assert_eq!(v["count"], 0);
    assert_eq!(v["groups"], json!([]));
    assert_eq!(v["keys"], json!([]));
    assert_eq!(v["outer"], Value::Null);
    assert_eq!(v["outers"], json!([]));
    assert_eq!(v["seen"], "0001-01-01T00:00:00Z");
    assert_eq!(v["when"], Value::Null);
}

#[test]
fn render_with_id_puts_id_first_and_completes_complex_values() {
    let stored = obj(&json!({"outer": {"label": "a"}, "outers": [{"inner": {"flag": true}}]}));
    let out = Value::Object(render_with_id(&DERIVED, "p1", &stored));
    assert_eq!(out.as_object().unwrap().keys().next().unwrap(), "id");
    assert_eq!(out["outer"], json!({"label": "a", "inner": null}));
    assert_eq!(
        out["outers"],
        json!([{"label": null, "inner": {"flag": true, "hours": null}}])
    );
}

#[test]
fn apply_normalises_values() {
    let mut current = Map::new();
    let body = json!({
        "colour": "GREENBLUE",
        "groups": ["6F9619FF-8B86-D011-B42D-00C04FC964FF"],
        "seen": "2017-01-01T00:00:35.1329464-08:00",
        "outer": {"@odata.type": "microsoft.graph.outer", "inner": {"@odata.type": "#microsoft.graph.inner", "hours": 3}},
        "keys": ["abc"],
        "@odata.type": "#microsoft.graph.specialThing",
        "id": "ignored",
        "name@odata.annotation": 1
    });
    apply(&DERIVED, &mut current, &obj(&body)).unwrap();
    let v = Value::Object(current);
    assert_eq!(v["colour"], "greenBlue");
    assert_eq!(v["groups"], json!(["6f9619ff-8b86-d011-b42d-00c04fc964ff"]));
    assert_eq!(v["seen"], "2017-01-01T08:00:35.1329464Z");
    assert_eq!(
        v["outer"],
        json!({"label": null, "inner": {"flag": null, "hours": 3}})
    );
    assert!(v.get("id").is_none());
    assert!(v.get("@odata.type").is_none());
}

#[test]
fn apply_accepts_nulls_where_nullable() {
    let mut current = obj(&json!({"name": "x", "keys": ["a"]}));
    apply(
        &DERIVED,
        &mut current,
        &obj(&json!({"name": null, "keys": null, "outer": null})),
    )
    .unwrap();
    assert_eq!(current["name"], Value::Null);
    assert_eq!(current["keys"], json!([]));
    let err = apply_err(&json!({"enabled": null}));
    assert!(
        err.contains("'enabled'") && err.contains("cannot be null"),
        "{err}"
    );
}

#[test]
fn server_managed_values_are_type_checked_and_ignored() {
    let mut current = obj(&json!({"serverUrl": "https://generated"}));
    let body = obj(&json!({"serverUrl": "https://copied", "isDefault": true, "name": "n"}));
    apply(&DERIVED, &mut current, &body).unwrap();
    assert_eq!(current["serverUrl"], "https://generated");
    assert!(current.get("isDefault").is_none());
    assert_eq!(current["name"], "n");
    apply(&DERIVED, &mut current, &obj(&json!({"serverUrl": null}))).unwrap();
    assert_eq!(current["serverUrl"], "https://generated");
    let err = apply_err(&json!({"isDefault": "yes"}));
    assert!(err.contains("'Edm.Boolean'"), "{err}");
    let err = apply_err(&json!({"isDefault": null}));
    assert!(err.contains("cannot be null"), "{err}");
}

#[test]
fn failed_apply_changes_nothing() {
    let mut current = obj(&json!({"name": "before"}));
    let before = current.clone();
    let err = apply(
        &DERIVED,
        &mut current,
        &obj(&json!({"name": "after", "count": "7"})),
    );
    assert!(err.is_err());
    assert_eq!(current, before);
}

#[test]
fn rejects_unknown_navigation_and_mistyped_properties() {
    let cases = [
        (
            json!({"nmae": "x"}),
            "'nmae' does not exist on type 'microsoft.graph.specialThing'",
        ),
        (json!({"owner": {}}), "navigation property 'owner'"),
        (
            json!({"enabled": "true"}),
            "'Edm.Boolean' expected by property 'enabled'",
        ),
        (json!({"count": 2_147_483_648_i64}), "'Edm.Int32'"),
        (json!({"count": 1.5}), "'Edm.Int32'"),
        (
            json!({"colour": "blue"}),
            "not a member of 'microsoft.graph.colour' (red, greenBlue)",
        ),
        (json!({"colour": 1}), "not a member"),
        (json!({"seen": "yesterday"}), "'Edm.DateTimeOffset'"),
        (
            json!({"groups": ["nope"]}),
            "'Edm.Guid' expected by property 'groups'",
        ),
        (
            json!({"groups": ["{6F9619FF-8B86-D011-B42D-00C04FC964FF}"]}),
            "'Edm.Guid'",
        ),
        (
            json!({"groups": "6f9619ff-8b86-d011-b42d-00c04fc964ff"}),
            "'Collection(Edm.Guid)'",
        ),
        (json!({"keys": [null]}), "cannot hold null values"),
        (
            json!({"outer": []}),
            "'microsoft.graph.outer' expected by property 'outer'",
        ),
        (
            json!({"outer": {"lable": "x"}}),
            "'lable' does not exist on type 'microsoft.graph.outer'",
        ),
        (
            json!({"outer": {"@odata.type": "#microsoft.graph.inner"}}),
            "does not match its type 'microsoft.graph.outer'",
        ),
        (
            json!({"outer": {"inner": {"hours": "3"}}}),
            "property 'outer/inner/hours'",
        ),
        (json!({"outers": [{"label": 5}]}), "property 'outers/label'"),
    ];
    for (body, expected) in cases {
        let err = apply_err(&body);
        assert!(err.contains(expected), "{body}: {err}");
    }
}

#[test]
fn enforces_caps() {
    assert!(
        apply_err(&json!({"name": "123456789"})).contains("'name' is longer than 8 characters")
    );
    let mut current = Map::new();
    apply(&DERIVED, &mut current, &obj(&json!({"name": "ééééééé€"}))).unwrap();
    assert!(apply_err(&json!({"keys": ["abcd"]})).contains("'keys' is longer than 3"));
    let three = ["6f9619ff-8b86-d011-b42d-00c04fc964ff"; 3];
    assert!(apply_err(&json!({"groups": three})).contains("'groups' holds more than 2 values"));
    assert!(
        apply_err(&json!({"outer": {"label": "12345"}})).contains("'outer/label' is longer than 4")
    );
}

#[test]
fn type_names_match_loosely() {
    assert!(type_name_matches("#microsoft.graph.outer", "outer"));
    assert!(type_name_matches("microsoft.graph.outer", "outer"));
    assert!(type_name_matches("Microsoft.Graph.OUTER", "outer"));
    assert!(type_name_matches("outer", "outer"));
    assert!(!type_name_matches("#microsoft.graph.inner", "outer"));
    assert!(!type_name_matches("#other.outer", "outer"));
    assert_eq!(unqualified_type_name("#microsoft.graph.x"), "x");
    assert_eq!(unqualified_type_name("#µ"), "µ");
}
