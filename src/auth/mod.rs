//! Access-token validation: issuers, JWKS cache, dev authority and permissions.
//!
//! [`Authenticator::authenticate`] turns an `Authorization` header into a [`Principal`] or an
//! [`AuthError`] (always a 401); [`Principal::require`] is the per-handler permission check (403).
//! The rules follow `shared/reference/entra-jwt.md` §2–§4.

mod dev_authority;
mod jwks;
mod permissions;
mod token_cache;
mod validator;

#[cfg(test)]
mod tests;

pub use dev_authority::{DevAuthority, TokenRequest};
pub use permissions::{CallerKind, Forbidden, Permission, Principal};
pub use validator::Authenticator;

/// Why a bearer token was refused. Every variant maps to `401 InvalidAuthenticationToken`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header, or an empty bearer token.
    #[error("access token is missing")]
    Missing,
    /// An `Authorization` scheme other than `Bearer`.
    #[error("unsupported authorization scheme")]
    UnsupportedScheme,
    /// The token is longer than `max_token_bytes`.
    #[error("access token is too large")]
    TooLarge,
    /// The token is not a well-formed JWS, or its header breaks a rule (reason given).
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// `alg` is not RS256.
    #[error("unsupported signing algorithm")]
    UnsupportedAlgorithm,
    /// No trusted key of the token's issuer has the token's `kid`.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("invalid signature")]
    BadSignature,
    /// `exp` (plus leeway) is in the past.
    #[error("token expired")]
    Expired,
    /// `nbf` (minus leeway) is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` (minus leeway) is in the future: no honest issuer signs tokens ahead of time.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `exp - iat` (or `exp - nbf` without `iat`) exceeds the configured maximum lifetime.
    #[error("token lifetime too long")]
    LifetimeTooLong,
    /// `aud` is not one of the configured audiences.
    #[error("invalid audience")]
    BadAudience,
    /// `iss` names no trusted issuer, or the signing key belongs to another issuer.
    #[error("invalid issuer")]
    BadIssuer,
    /// The tenant claim is not a GUID or not in the allow-list.
    #[error("invalid or disallowed tenant")]
    BadTenant,
    /// A required claim is missing or has the wrong JSON type.
    #[error("missing or invalid claim '{0}'")]
    InvalidClaim(String),
}

impl AuthError {
    /// The Graph-style message shown to the client; never contains token or key material.
    pub fn message(&self) -> String {
        let reason = match self {
            Self::Missing => return "Access token is empty.".to_owned(),
            Self::Expired => return "Lifetime validation failed, the token is expired.".to_owned(),
            Self::BadAudience => {
                return "Access token validation failure. Invalid audience.".to_owned();
            }
            Self::BadIssuer | Self::BadTenant => {
                return "Access token validation failure. Invalid issuer.".to_owned();
            }
            Self::UnsupportedScheme => "Unsupported authorization scheme",
            Self::TooLarge => "Token is too large",
            Self::Malformed(reason) => reason,
            Self::UnsupportedAlgorithm => "Unsupported signing algorithm",
            Self::UnknownKey => "Signing key not found",
            Self::BadSignature => "Invalid signature",
            Self::NotYetValid => "Lifetime validation failed, the token is not yet valid",
            Self::IssuedInFuture => "Lifetime validation failed, the token is issued in the future",
            Self::LifetimeTooLong => {
                "Lifetime validation failed, the token's lifetime exceeds the accepted maximum"
            }
            Self::InvalidClaim(claim) => {
                return format!(
                    "Access token validation failure. Missing or invalid claim '{claim}'."
                );
            }
        };
        format!("Access token validation failure. {reason}.")
    }
}

impl From<jsonwebtoken::errors::Error> for AuthError {
    fn from(err: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match err.into_kind() {
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidAudience => Self::BadAudience,
            ErrorKind::InvalidIssuer => Self::BadIssuer,
            ErrorKind::InvalidSignature => Self::BadSignature,
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidAlgorithmName
            | ErrorKind::UnsupportedAlgorithm
            | ErrorKind::MissingAlgorithm => Self::UnsupportedAlgorithm,
            ErrorKind::MissingRequiredClaim(claim) | ErrorKind::InvalidClaimFormat(claim) => {
                Self::InvalidClaim(claim)
            }
            _ => Self::Malformed("Malformed token"),
        }
    }
}
