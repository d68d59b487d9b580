//! The importedAppleDeviceIdentity entity (an Apple device serial number known to one token),
//! its import result, and the rules for writing it.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::ValidationError;
use super::ids::Serial;
use super::time::{UNSET_TICKS, format_ticks, graph_datetime};
use super::values::{Write, boolean, datetime, optional_string};

mod enums;

use enums::GraphEnum;
pub use enums::{DevicePlatform, DiscoverySource, EnrollmentState};

/// Graph type name of the entity.
pub const ODATA_TYPE: &str = "#microsoft.graph.importedAppleDeviceIdentity";
/// Graph type name of an import result.
pub const RESULT_ODATA_TYPE: &str = "#microsoft.graph.importedAppleDeviceIdentityResult";
const TYPE_NAME: &str = "microsoft.graph.importedAppleDeviceIdentity";

/// Longest accepted `description`.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// Longest accepted `requestedEnrollmentProfileId` (a `{token}_{guid}` id is 73 characters).
pub const MAX_PROFILE_ID_CHARS: usize = 256;

/// One Apple device identity of a token, in Graph's property order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedAppleDeviceIdentity {
    /// Identifier of the identity.
    pub id: String,
    /// When the identity was created.
    #[serde(serialize_with = "graph_datetime::serialize")]
    pub created_date_time: i64,
    /// Free-text description.
    pub description: Option<String>,
    /// How the device became known.
    pub discovery_source: DiscoverySource,
    /// The device's MDM state.
    pub enrollment_state: EnrollmentState,
    /// Deleted from Apple Business Manager.
    pub is_deleted: Option<bool>,
    /// The device is supervised.
    pub is_supervised: bool,
    /// Last time the device contacted the MDM.
    #[serde(serialize_with = "graph_datetime::serialize")]
    pub last_contacted_date_time: i64,
    /// Device platform.
    pub platform: DevicePlatform,
    /// When `requested_enrollment_profile_id` was assigned.
    #[serde(serialize_with = "optional_datetime")]
    pub requested_enrollment_profile_assignment_date_time: Option<i64>,
    /// Profile the admin wants applied at the next enrollment.
    pub requested_enrollment_profile_id: Option<String>,
    /// Normalised serial number (see [`Serial`](super::ids::Serial)).
    pub serial_number: String,
}

/// An `importedAppleDeviceIdentityResult`: the identity plus the per-item import `status`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImportedAppleDeviceIdentityResult {
    /// The identity as imported (or as it stood when the import was refused).
    #[serde(flatten)]
    pub identity: ImportedAppleDeviceIdentity,
    /// Whether this item was imported.
    pub status: bool,
}

#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with passes the field by reference"
)]
fn optional_datetime<S: Serializer>(ticks: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match ticks {
        Some(t) => s.serialize_str(&format_ticks(*t)),
        None => s.serialize_none(),
    }
}

/// The Graph platform of Apple's `device_family` (`iPhone`, `iPad`, `iPod`, `Mac`, `AppleTV`,
/// `Vision`/`RealityDevice`); anything else is `unknown`.
pub fn platform_from_device_family(family: &str) -> DevicePlatform {
    let is = |name: &str| family.eq_ignore_ascii_case(name);
    if is("iPhone") || is("iPad") || is("iPod") {
        DevicePlatform::Ios
    } else if is("Mac") {
        DevicePlatform::MacOs
    } else if is("AppleTV") {
        DevicePlatform::TvOs
    } else if is("Vision") || is("RealityDevice") {
        DevicePlatform::VisionOs
    } else {
        DevicePlatform::Unknown
    }
}

impl ImportedAppleDeviceIdentity {
    /// A new identity imported by an admin at `now` (ticks), not yet seen by the MDM.
    pub fn new(id: String, serial_number: String, now: i64) -> Self {
        Self {
            id,
            created_date_time: now,
            description: None,
            discovery_source: DiscoverySource::AdminImport,
            enrollment_state: EnrollmentState::NotContacted,
            is_deleted: Some(false),
            is_supervised: false,
            last_contacted_date_time: UNSET_TICKS,
            platform: DevicePlatform::Unknown,
            requested_enrollment_profile_assignment_date_time: None,
            requested_enrollment_profile_id: None,
            serial_number,
        }
    }

    /// Records (or clears, with `None`) the profile requested for the device, stamped `now`.
    pub fn assign_profile(&mut self, profile_id: Option<String>, now: i64) {
        self.requested_enrollment_profile_assignment_date_time = profile_id.as_ref().map(|_| now);
        self.requested_enrollment_profile_id = profile_id;
    }

    /// Applies a create or PATCH body. Writable: `serialNumber` (on PATCH only its current
    /// value: it is the identity), `description`, `platform`, `isSupervised`,
    /// `requestedEnrollmentProfileId`. The properties the gateway derives (from Apple's syncs,
    /// the MDM state or its own clock) are type-checked and ignored. `id` and `@` annotations
    /// are ignored; unknown properties are rejected. A create that names a profile stamps its assignment time with
    /// `createdDateTime`; on PATCH the caller stamps it (see [`Self::assign_profile`]). On error
    /// `self` is unchanged.
    pub fn apply(
        &mut self,
        body: &Map<String, Value>,
        write: Write,
    ) -> Result<(), ValidationError> {
        let mut next = self.clone();
        for (name, value) in body {
            next.apply_one(name, value, write)?;
        }
        if next.serial_number.is_empty() {
            return Err(ValidationError::new(
                "The property 'serialNumber' is required.",
            ));
        }
        if write == Write::Create && next.requested_enrollment_profile_id.is_some() {
            next.requested_enrollment_profile_assignment_date_time = Some(next.created_date_time);
        }
        *self = next;
        Ok(())
    }

    fn apply_one(
        &mut self,
        name: &str,
        value: &Value,
        write: Write,
    ) -> Result<(), ValidationError> {
        match name {
            "serialNumber" => self.apply_serial(value, write)?,
            "description" => {
                self.description = optional_string(name, value, MAX_DESCRIPTION_CHARS)?;
            }
            "platform" => self.platform = member(name, value)?,
            "isSupervised" => self.is_supervised = boolean(name, value)?,
            "requestedEnrollmentProfileId" => {
                self.requested_enrollment_profile_id =
                    optional_string(name, value, MAX_PROFILE_ID_CHARS)?;
            }
            // GRAPH-COMPAT: SDK models send `id` and `@odata.*` annotations in write bodies.
            _ if name == "id" || name.contains('@') => {}
            // GRAPH-COMPAT: import lists, restored GET bodies and whole-body PATCHes of
            // config-as-code tools carry the derived values; the CSDL marks none read-only, so
            // they are type-checked and ignored (the gateway's own values stand).
            _ if type_checks_derived(name, value)? => {}
            _ => return Err(ValidationError::unknown_property(name, TYPE_NAME)),
        }
        Ok(())
    }

    fn apply_serial(&mut self, value: &Value, write: Write) -> Result<(), ValidationError> {
        let serial = value
            .as_str()
            .ok_or_else(|| ValidationError::wrong_type("serialNumber", "Edm.String", value))
            .and_then(|s| Serial::parse(s).map(String::from))?;
        if write == Write::Create {
            self.serial_number = serial;
        } else if serial != self.serial_number {
            return Err(ValidationError::new(format!(
                "The property 'serialNumber' cannot be changed after creation (it is '{}'); \
                 delete the identity and import the new serial number.",
                self.serial_number
            )));
        }
        Ok(())
    }
}

/// Whether `name` is a derived property (then `value` must be of its type); `false` for
/// any other name.
fn type_checks_derived(name: &str, value: &Value) -> Result<bool, ValidationError> {
    match name {
        "createdDateTime" | "lastContactedDateTime" => {
            datetime(name, value)?;
        }
        "enrollmentState" => {
            member::<EnrollmentState>(name, value)?;
        }
        "discoverySource" => {
            member::<DiscoverySource>(name, value)?;
        }
        "isDeleted" => {
            nullable(value, |v| boolean(name, v))?;
        }
        "requestedEnrollmentProfileAssignmentDateTime" => {
            nullable(value, |v| datetime(name, v))?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn nullable<T>(
    value: &Value,
    parse: impl FnOnce(&Value) -> Result<T, ValidationError>,
) -> Result<Option<T>, ValidationError> {
    if value.is_null() {
        Ok(None)
    } else {
        parse(value).map(Some)
    }
}

fn member<T: GraphEnum>(name: &str, value: &Value) -> Result<T, ValidationError> {
    value.as_str().and_then(T::parse).ok_or_else(|| {
        ValidationError::new(format!(
            "The value {value} of property '{name}' is not a member of '{}' ({}).",
            T::TYPE_NAME,
            T::MEMBERS.join(", ")
        ))
    })
}

#[cfg(test)]
mod tests;
