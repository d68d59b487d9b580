//! Realistic generated devices: Apple-style serial numbers and a mix of families, models and
//! colours (`color` is omitted for models where Apple omits it, nanodep #81).

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::seq::IndexedRandom;

use super::model::Device;

/// Family, OS, models, colours (empty: no `color`), description stem, weight in percent.
struct Kind {
    family: &'static str,
    os: &'static str,
    models: &'static [&'static str],
    colors: &'static [&'static str],
    stem: &'static str,
    weight: u32,
}

const KINDS: &[Kind] = &[
    Kind {
        family: "iPhone",
        os: "iOS",
        models: &[
            "iPhone 15",
            "iPhone 15 Pro",
            "iPhone 16",
            "iPhone SE (3rd generation)",
            "iPhone 14",
        ],
        colors: &["BLACK", "BLUE", "WHITE", "NATURAL TITANIUM", "PINK"],
        stem: "IPHONE",
        weight: 40,
    },
    Kind {
        family: "iPad",
        os: "iPadOS",
        models: &[
            "iPad (10th generation)",
            "iPad Air 11-inch (M2)",
            "iPad Pro 11-inch (M4)",
            "iPad mini (A17 Pro)",
        ],
        colors: &["SPACE GRAY", "SILVER", "BLUE", "STARLIGHT"],
        stem: "IPAD WI-FI",
        weight: 25,
    },
    Kind {
        family: "Mac",
        os: "OSX",
        models: &["MacBook Air", "MacBook Pro", "Mac mini", "iMac"],
        colors: &[
            "SPACE GRAY",
            "SILVER",
            "MIDNIGHT",
            "STARLIGHT",
            "SPACE BLACK",
        ],
        stem: "MBP 14/M3/16GB/512GB",
        weight: 25,
    },
    Kind {
        family: "AppleTV",
        os: "tvOS",
        models: &["Apple TV 4K (3rd generation)"],
        colors: &[],
        stem: "APPLE TV 4K WI-FI + ETHERNET 128GB",
        weight: 6,
    },
    Kind {
        family: "Vision",
        os: "visionOS",
        models: &["Apple Vision Pro"],
        colors: &[],
        stem: "APPLE VISION PRO 256GB",
        weight: 4,
    },
];

/// Characters of randomised serials (no vowels, as in Apple's 10-character serials).
const SERIAL_CHARS: &[u8] = b"0123456789BCDFGHJKLMNPQRSTVWXYZ";
/// Factory prefixes of the older 12-character serials.
const LEGACY_PREFIXES: &[&str] = &["C02", "F9F", "DMP", "FVF", "G6T", "DLX"];

/// A serial not yet `taken`: 10 random characters (2021+ style) or 12 with a factory prefix.
pub(crate) fn serial(taken: &dyn Fn(&str) -> bool) -> String {
    let mut rng = rand::rng();
    loop {
        let (prefix, len) = if rng.random_bool(0.6) {
            ("", 10)
        } else {
            (*LEGACY_PREFIXES.choose(&mut rng).unwrap_or(&"C02"), 12)
        };
        let mut s = prefix.to_owned();
        while s.len() < len {
            s.push(char::from(
                SERIAL_CHARS[rng.random_range(0..SERIAL_CHARS.len())],
            ));
        }
        if !taken(&s) {
            return s;
        }
    }
}

/// A new device assigned to an MDM server by `admin_id`, profile status `empty`.
pub(crate) fn device(taken: &dyn Fn(&str) -> bool, admin_id: &str, now: DateTime<Utc>) -> Device {
    let mut rng = rand::rng();
    let kind = pick_kind(rng.random_range(0..100));
    let color = kind.colors.choose(&mut rng).map(|c| (*c).to_owned());
    let description = match &color {
        Some(c) => format!("{} {c}-USA", kind.stem),
        None => format!("{}-USA", kind.stem),
    };
    Device {
        serial_number: serial(taken),
        model: (*kind.models.choose(&mut rng).unwrap_or(&kind.family)).to_owned(),
        description: Some(description),
        color,
        asset_tag: rng
            .random_bool(0.5)
            .then(|| format!("AT-{:05}", rng.random_range(0..100_000))),
        os: Some(kind.os.to_owned()),
        device_family: Some(kind.family.to_owned()),
        profile_status: "empty".to_owned(),
        profile_uuid: None,
        profile_assign_time: None,
        profile_push_time: None,
        device_assigned_date: Some(now - Duration::days(rng.random_range(0..400))),
        device_assigned_by: Some(admin_id.to_owned()),
    }
}

fn pick_kind(mut roll: u32) -> &'static Kind {
    for kind in KINDS {
        if roll < kind.weight {
            return kind;
        }
        roll -= kind.weight;
    }
    &KINDS[0]
}

/// A random upper-case hex string of `len` characters (server and profile UUIDs).
pub(crate) fn hex_id(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b"0123456789ABCDEF"[rng.random_range(0..16)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_cover_one_hundred_percent() {
        assert_eq!(KINDS.iter().map(|k| k.weight).sum::<u32>(), 100);
        assert_eq!(pick_kind(99).family, "Vision");
        assert_eq!(pick_kind(0).family, "iPhone");
    }

    #[test]
    fn serials_look_like_apples_and_avoid_taken_ones() {
        for _ in 0..200 {
            let s = serial(&|s| s.starts_with('0'));
            assert!(s.len() == 10 || s.len() == 12, "{s}");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            );
            assert!(!s.starts_with('0'));
        }
    }
}
