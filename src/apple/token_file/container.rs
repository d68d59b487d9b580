//! Unwrapping token files: S/MIME (any headers), PEM armour, bare or cut base64, raw DER/BER,
//! down to the ASN.1 bytes of a PKCS#7 `EnvelopedData`.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

use super::TokenFileError;

/// `06 09 2A 86 48 86 F7 0D 01 07`: the OID arc 1.2.840.113549.1.7 (PKCS#7 content types).
const PKCS7_OID_ARC: [u8; 10] = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07];
const ENVELOPED_DATA: u8 = 3;

/// The ASN.1 bytes of any accepted input form; `Garbage` unless they start like a PKCS#7
/// `EnvelopedData` `ContentInfo`, `Truncated` when the text was cut inside the base64.
pub(super) fn container_bytes(input: &[u8]) -> Result<Vec<u8>, TokenFileError> {
    let (bytes, cut) = if input.first() == Some(&0x30) {
        (input.to_vec(), false)
    } else {
        let text = std::str::from_utf8(input).map_err(|_| TokenFileError::Garbage)?;
        lenient_base64(&skip_mime_headers(text))?
    };
    let head = &bytes[..bytes.len().min(16)];
    let content_type = head
        .windows(PKCS7_OID_ARC.len() + 1)
        .find(|w| w.starts_with(&PKCS7_OID_ARC))
        .map(|w| w[PKCS7_OID_ARC.len()]);
    match content_type {
        Some(ENVELOPED_DATA) if cut => Err(TokenFileError::Truncated),
        Some(ENVELOPED_DATA) => Ok(bytes),
        _ => Err(TokenFileError::Garbage),
    }
}

/// The text after the MIME headers (if any), without PEM armour lines.
fn skip_mime_headers(text: &str) -> String {
    let text = text.trim_start();
    let first = text.lines().next().unwrap_or_default();
    let has_headers = first.contains(':') && !first.starts_with("-----");
    let body = if has_headers {
        let lf = text.find("\n\n").map(|i| i + 2);
        let crlf = text.find("\r\n\r\n").map(|i| i + 4);
        match (lf, crlf) {
            (Some(a), Some(b)) => &text[a.min(b)..],
            (Some(a), None) | (None, Some(a)) => &text[a..],
            (None, None) => "",
        }
    } else {
        text
    };
    body.lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
}

/// Decodes base64 ignoring whitespace and tolerating missing padding. When the whole text does
/// not decode, the text was probably cut: its complete 4-character prefix is decoded and flagged.
fn lenient_base64(text: &str) -> Result<(Vec<u8>, bool), TokenFileError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if !compact.is_ascii() {
        return Err(TokenFileError::Garbage);
    }
    if let Ok(bytes) = LENIENT.decode(&compact) {
        return Ok((bytes, false));
    }
    let usable = &compact[..compact.len() - compact.len() % 4];
    let bytes = LENIENT
        .decode(usable)
        .map_err(|_| TokenFileError::Garbage)?;
    Ok((bytes, true))
}

/// The decoded body of an S/MIME entity (what follows the first blank line).
pub(super) fn base64_body(smime: &str) -> Option<Vec<u8>> {
    lenient_base64(&skip_mime_headers(smime))
        .ok()
        .map(|(bytes, _)| bytes)
}
