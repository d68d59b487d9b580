//! Gateway-wide secrets kept in the database so that every instance shares them.

use diesel::prelude::*;
use rand::RngCore;

use super::DbConnection;
use super::schema::gateway_secrets::dsl;

/// Returns the 32-byte secret `name`, creating a random one on first use. Concurrent first
/// uses by several instances converge on the value that was inserted first.
pub fn get_or_create(conn: &mut DbConnection, name: &str) -> QueryResult<[u8; 32]> {
    if let Some(value) = read(conn, name)? {
        return Ok(value);
    }
    let mut fresh = [0u8; 32];
    rand::rng().fill_bytes(&mut fresh);
    let inserted = diesel::insert_into(dsl::gateway_secrets)
        .values((dsl::name.eq(name), dsl::value.eq(hex(&fresh))))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(fresh),
        // Another instance won the race: use its value.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => read(conn, name)?.ok_or(diesel::result::Error::NotFound),
        Err(e) => Err(e),
    }
}

fn read(conn: &mut DbConnection, name: &str) -> QueryResult<Option<[u8; 32]>> {
    let stored: Option<String> = dsl::gateway_secrets
        .filter(dsl::name.eq(name))
        .select(dsl::value)
        .first(conn)
        .optional()?;
    Ok(stored.as_deref().and_then(unhex))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
