//! The enrollment URL every profile defined at Apple carries (`mdm_enrollment_url`).
//!
//! The gateway is not an MDM server: Apple gives the device the profile's `url`, and Setup
//! Assistant enrolls there. Without a configured URL an assignment would reach Apple with a
//! URL nobody answers and the device would fail in Setup Assistant, so every request path
//! that leads to a push (`updateDeviceProfileAssignment`, `setDefaultProfile`, their legacy
//! forms, which call the same services) is refused up front instead, changing nothing.

use crate::domain::ValidationError;
use crate::domain::enrollment_url::EnrollmentUrl;

use super::Services;

/// The status of a queued assignment whose push found no enrollment URL (the gateway was
/// restarted without one after the assignment was accepted). Final: the row is settled;
/// assigning again after configuring the URL queues it anew.
pub const NO_ENROLLMENT_URL: &str = "NO_ENROLLMENT_URL";

/// The configured enrollment URL, or the 400 that names the setting to configure.
pub fn enrollment_url(svc: &Services) -> Result<&EnrollmentUrl, ValidationError> {
    svc.enrollment_url.as_ref().ok_or_else(|| {
        ValidationError::new(
            "No MDM enrollment URL is configured, so Apple would send devices nowhere: set \
             'mdm_enrollment_url' (DEP_GATEWAY_MDM_ENROLLMENT_URL) to the MDM server's \
             enrollment URL before assigning profiles.",
        )
    })
}
