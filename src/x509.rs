//! Self-signed X.509 v3 end-entity certificates (OpenSSL): the one builder behind
//! `dep-gateway dev-cert` (a TLS server certificate) and the server-token certificates (the
//! MDM's encryption certificate and the throw-away recipient wrapper).

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, PKeyRef, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509NameBuilder};

/// What the certificate's key is for; decides the key-usage extensions.
#[derive(Debug, Clone, Copy)]
pub enum Usage<'a> {
    /// A TLS server (ECDHE/ECDSA): digitalSignature + keyAgreement, extended key usage
    /// serverAuth, the subject alternative names, and subject/authority key identifiers.
    TlsServer {
        /// DNS names in the subject alternative name.
        dns: &'a [&'a str],
        /// IP addresses (text) in the subject alternative name.
        ips: &'a [&'a str],
    },
    /// Key transport (CMS recipients): digitalSignature + keyEncipherment.
    KeyEncipherment,
}

/// Subject, validity and usage of a certificate to build.
#[derive(Debug, Clone, Copy)]
pub struct CertSpec<'a> {
    /// `CN` of both subject and issuer.
    pub common_name: &'a str,
    /// `notBefore`, Unix seconds.
    pub not_before: i64,
    /// `notAfter`, Unix seconds.
    pub not_after: i64,
    /// What the key is for.
    pub usage: Usage<'a>,
}

/// A self-signed-style certificate (issuer = subject `CN=<common_name>`) for `subject_key`,
/// signed by `signer` with SHA-256: X.509 v3, random positive 127-bit serial, critical
/// `CA:FALSE` and the key usages of `spec.usage`. `signer` is usually the subject's own private
/// key; a different one only makes sense for a certificate nobody verifies (a recipient wrapper).
pub fn self_signed<T: HasPublic>(
    subject_key: &PKeyRef<T>,
    signer: &PKeyRef<Private>,
    spec: &CertSpec<'_>,
) -> Result<X509, ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, spec.common_name)?;
    let name = name.build();
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::ONE, false)?;
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?;
    builder.set_serial_number(&*serial.to_asn1_integer()?)?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(subject_key)?;
    builder.set_not_before(&*Asn1Time::from_unix(spec.not_before)?)?;
    builder.set_not_after(&*Asn1Time::from_unix(spec.not_after)?)?;
    // An end-entity certificate (CA:FALSE): rustls/webpki clients refuse a CA certificate as the
    // server's own, and a token recipient is no CA either.
    builder.append_extension(BasicConstraints::new().critical().build()?)?;
    match spec.usage {
        Usage::TlsServer { dns, ips } => tls_server_extensions(&mut builder, dns, ips)?,
        Usage::KeyEncipherment => builder.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .key_encipherment()
                .build()?,
        )?,
    }
    builder.sign(signer, MessageDigest::sha256())?;
    Ok(builder.build())
}

fn tls_server_extensions(
    builder: &mut X509Builder,
    dns: &[&str],
    ips: &[&str],
) -> Result<(), ErrorStack> {
    builder.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_agreement()
            .build()?,
    )?;
    builder.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let mut san = SubjectAlternativeName::new();
    for name in dns {
        san.dns(name);
    }
    for ip in ips {
        san.ip(ip);
    }
    let san = san.build(&builder.x509v3_context(None, None))?;
    builder.append_extension(san)?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&builder.x509v3_context(None, None))?;
    builder.append_extension(aki)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::pkey::PKey;

    fn spec(usage: Usage<'_>) -> CertSpec<'_> {
        CertSpec {
            common_name: "unit",
            not_before: 1_700_000_000,
            not_after: 1_700_086_400,
            usage,
        }
    }

    #[test]
    fn builds_a_verifiable_end_entity_certificate() {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let usage = Usage::TlsServer {
            dns: &["localhost"],
            ips: &["127.0.0.1", "::1"],
        };
        let cert = self_signed(&key, &key, &spec(usage)).unwrap();
        assert!(cert.verify(&key).unwrap(), "signed by its own key");
        let cn = cert.subject_name().entries_by_nid(Nid::COMMONNAME).next();
        assert_eq!(cn.unwrap().data().to_string().unwrap(), "unit");
        assert_eq!(
            cert.not_before(),
            &*Asn1Time::from_unix(1_700_000_000).unwrap()
        );
        let sans = cert.subject_alt_names().unwrap();
        assert_eq!(sans.iter().filter_map(|n| n.dnsname()).count(), 1);
        assert_eq!(sans.iter().filter_map(|n| n.ipaddress()).count(), 2);
        let serial = cert.serial_number().to_bn().unwrap();
        assert_eq!(serial.num_bits(), 127, "positive, top bit set");
        let text = String::from_utf8(cert.to_text().unwrap()).unwrap();
        assert!(text.contains("CA:FALSE"), "{text}");
        assert!(text.contains("Key Agreement"), "{text}");
        assert!(text.contains("TLS Web Server Authentication"), "{text}");
    }

    #[test]
    fn a_recipient_wrapper_is_signed_by_another_key() {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let subject = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let signer = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let cert = self_signed(&subject, &signer, &spec(Usage::KeyEncipherment)).unwrap();
        assert!(cert.verify(&signer).unwrap());
        assert!(!cert.verify(&subject).unwrap());
        assert!(cert.subject_alt_names().is_none());
        assert!(cert.public_key().unwrap().public_eq(&subject));
        let text = String::from_utf8(cert.to_text().unwrap()).unwrap();
        assert!(text.contains("Key Encipherment"), "{text}");
        assert!(!text.contains("TLS Web Server"), "{text}");
    }
}
