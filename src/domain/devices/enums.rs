//! The enums of importedAppleDeviceIdentity: Graph enums whose JSON form is the member name.

use serde::{Serialize, Serializer};

/// What a Graph enum offers to generic parsing.
pub(super) trait GraphEnum: Sized {
    const TYPE_NAME: &'static str;
    const MEMBERS: &'static [&'static str];
    fn parse(s: &str) -> Option<Self>;
}

/// Declares a Graph enum whose JSON form is its member name.
macro_rules! graph_enum {
    ($(#[$meta:meta])* $name:ident = $graph:literal {
        $($(#[$vmeta:meta])* $variant:ident = $member:literal,)+
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Qualified Graph type name.
            pub const TYPE_NAME: &'static str = $graph;
            /// Member names in CSDL order and casing.
            pub const MEMBERS: &'static [&'static str] = &[$($member),+];
            /// Every member in CSDL order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The member name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $member,)+
                }
            }

            /// Parses a member name, case-insensitively.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|m| m.as_str().eq_ignore_ascii_case(s))
            }
        }

        impl GraphEnum for $name {
            const TYPE_NAME: &'static str = $graph;
            const MEMBERS: &'static [&'static str] = &[$($member),+];

            fn parse(s: &str) -> Option<Self> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

graph_enum! {
    /// `graph.discoverySource`: how the device became known.
    DiscoverySource = "microsoft.graph.discoverySource" {
        /// Not known.
        Unknown = "unknown",
        /// Imported by an administrator.
        AdminImport = "adminImport",
        /// Synced from Apple's device enrollment program.
        DeviceEnrollmentProgram = "deviceEnrollmentProgram",
    }
}

graph_enum! {
    /// `graph.enrollmentState`: the device's state in the MDM.
    EnrollmentState = "microsoft.graph.enrollmentState" {
        /// Not known.
        Unknown = "unknown",
        /// Enrolled.
        Enrolled = "enrolled",
        /// Enrolled, waiting for a reset.
        PendingReset = "pendingReset",
        /// Enrollment failed.
        Failed = "failed",
        /// Never contacted the MDM.
        NotContacted = "notContacted",
        /// Blocked from enrolling.
        Blocked = "blocked",
    }
}

graph_enum! {
    /// `graph.platform` (named apart from `profiles::Platform`); member order of the CSDL26
    /// description, `tvOS` spelled as the type mappings spell it.
    DevicePlatform = "microsoft.graph.platform" {
        /// Not known.
        Unknown = "unknown",
        /// iOS and iPadOS.
        Ios = "ios",
        /// Android.
        Android = "android",
        /// Windows.
        Windows = "windows",
        /// Windows Mobile.
        WindowsMobile = "windowsMobile",
        /// macOS.
        MacOs = "macOS",
        /// visionOS.
        VisionOs = "visionOS",
        /// tvOS.
        TvOs = "tvOS",
        /// Evolvable-enum sentinel.
        UnknownFutureValue = "unknownFutureValue",
    }
}
