//! RFC 3161 trusted timestamps over manifest digests: a Time-Stamping Authority signs "this
//! SHA-256 existed at this time", which courts and auditors recognise, so a run's manifest —
//! and through its chain every run before — is shown to be no younger than the token says.
//!
//! The request is DER (`TimeStampReq`: the SHA-256 imprint, a random nonce, the TSA's
//! certificate asked for), POSTed as `application/timestamp-query`; the answer
//! (`TimeStampResp`) must grant a token whose `TSTInfo` carries our imprint and nonce. A token
//! is checked much as `openssl ts -verify` does: the imprint, the CMS signature over the signed
//! attributes (with the `messageDigest` of the `TSTInfo`), the signer's certificate marked for
//! timestamping (one extended key usage, critical) and valid at the time stated, and — given the
//! TSA's CA certificates — the chain up to one of them. Not checked, unlike `openssl ts
//! -verify`: the ESS `signingCertificate` attribute and the intermediates' constraints.

use crate::model::Digest;
use base64::Engine as _;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{GeneralizedTime, Int, ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode, Sequence};
use x509_cert::Certificate;
use x509_cert::spki::AlgorithmIdentifierOwned;

const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const EC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

#[derive(Debug, Clone, Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

#[derive(Debug, Clone, Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    cert_req: bool,
}

#[derive(Debug, Clone, Sequence)]
struct PkiStatusInfo {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<der::asn1::BitString>,
}

#[derive(Debug, Clone, Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<ContentInfo>,
}

#[derive(Debug, Clone, Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<Int>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<Int>,
}

#[derive(Debug, Clone, Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: GeneralizedTime,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<Any>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true", optional = "true")]
    extensions: Option<x509_cert::ext::Extensions>,
}

/// A request for a timestamp over `digest`, with `nonce`.
pub fn request(digest: &Digest, nonce: u64) -> Vec<u8> {
    let req = TimeStampReq {
        version: 1,
        message_imprint: imprint(digest),
        req_policy: None,
        nonce: Some(Int::new(&nonce_bytes(nonce)).expect("a nonce is an integer")),
        cert_req: true,
    };
    req.to_der().expect("a request encodes")
}

fn imprint(digest: &Digest) -> MessageImprint {
    MessageImprint {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: SHA256,
            parameters: Some(Any::null()),
        },
        hashed_message: OctetString::new(digest.0.to_vec()).expect("32 bytes"),
    }
}

/// A positive INTEGER's content octets: big-endian, a leading zero when the top bit is set.
fn nonce_bytes(nonce: u64) -> Vec<u8> {
    let mut b: Vec<u8> = nonce.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
    if b.first().is_none_or(|f| f & 0x80 != 0) {
        b.insert(0, 0);
    }
    b
}

/// What a token says, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The time the TSA says it saw the digest, as it wrote it (RFC 3339, UTC).
    pub time: String,
    /// The signer's certificate subject.
    pub signer: String,
    /// Whether the signer's chain was checked up to a trusted CA certificate.
    pub chain: bool,
}

/// The token out of a TSA's answer to [`request`] with `nonce`, checked; DER.
pub fn token_of(response: &[u8], digest: &Digest, nonce: u64) -> Result<Vec<u8>, String> {
    let resp = TimeStampResp::from_der(response).map_err(|e| format!("the answer is not a TimeStampResp ({e})"))?;
    // 0 granted, 1 granted with modifications.
    if resp.status.status > 1 {
        let said: Vec<String> = resp
            .status
            .status_string
            .iter()
            .flatten()
            .map(|s| crate::report::inert(s))
            .collect();
        return Err(format!("the TSA refused (status {}): {}", resp.status.status, said.join("; ")));
    }
    let token = resp.time_stamp_token.ok_or("the TSA granted no token")?;
    let der = token.to_der().map_err(|e| e.to_string())?;
    let (tst, _) = open(&der)?;
    if tst.nonce.as_ref().map(|n| n.as_bytes().to_vec()) != Some(nonce_bytes(nonce)) {
        return Err("the token does not carry the nonce asked for (a replayed answer?)".into());
    }
    check_der(&der, digest, &[])?;
    Ok(der)
}

/// The TSTInfo and SignedData of a token.
fn open(token: &[u8]) -> Result<(TstInfo, SignedData), String> {
    let info = ContentInfo::from_der(token).map_err(|e| format!("not a CMS ContentInfo ({e})"))?;
    if info.content_type != SIGNED_DATA {
        return Err(format!("a CMS {} where SignedData was expected", info.content_type));
    }
    let signed: SignedData = info.content.decode_as().map_err(|e| format!("not CMS SignedData ({e})"))?;
    if signed.encap_content_info.econtent_type != TST_INFO {
        return Err("the signed content is not a TSTInfo".into());
    }
    let content = signed.encap_content_info.econtent.as_ref().ok_or("the token holds no TSTInfo")?;
    let bytes = OctetString::from_der(&content.to_der().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let tst = TstInfo::from_der(bytes.as_bytes()).map_err(|e| format!("its TSTInfo does not parse ({e})"))?;
    Ok((tst, signed))
}

/// Checks a stored token (base64 of the DER) over `digest`, the chain against `trusted`
/// (DER certificates; none: the chain is not checked).
pub fn check(token: &str, digest: &Digest, trusted: &[Vec<u8>]) -> Result<Stamp, String> {
    let der = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|e| format!("the stored token is not base64 ({e})"))?;
    check_der(&der, digest, trusted)
}

/// Checks a token (DER) over `digest`.
pub fn check_der(der: &[u8], digest: &Digest, trusted: &[Vec<u8>]) -> Result<Stamp, String> {
    let (tst, signed) = open(der)?;
    let content = signed.encap_content_info.econtent.as_ref().ok_or("the token holds no TSTInfo")?;
    let tst_der = OctetString::from_der(&content.to_der().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?
        .as_bytes()
        .to_vec();
    if tst.message_imprint.hash_algorithm.oid != SHA256 || tst.message_imprint.hashed_message.as_bytes() != digest.0 {
        return Err(format!("the token is over another digest than {digest}"));
    }
    let signer = signed.signer_infos.0.iter().next().ok_or("the token has no signer")?;
    let attrs = signer.signed_attrs.as_ref().ok_or("the token's signer has no signed attributes")?;
    let attr = |oid: ObjectIdentifier| attrs.iter().find(|a| a.oid == oid).and_then(|a| a.values.iter().next());
    let content_type = attr(CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or("the signed attributes name no content type")?;
    if content_type != TST_INFO {
        return Err("the signed attributes name another content type than TSTInfo".into());
    }
    let said = attr(MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or("the signed attributes carry no message digest")?;
    if said.as_bytes() != hash(signer.digest_alg.oid, &tst_der)? {
        return Err("the TSTInfo was altered: its digest is not the one signed".into());
    }
    let certs: Vec<Certificate> = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let cert = certs
        .iter()
        .find(|c| signs(&signer.sid, c))
        .ok_or("the token does not carry its signer's certificate (ask the TSA for it: certReq)")?;
    let message = attrs.to_der().map_err(|e| e.to_string())?;
    verify_signature(
        cert,
        signer.signature_algorithm.oid,
        signer.digest_alg.oid,
        &message,
        signer.signature.as_bytes(),
    )
    .map_err(|e| format!("the token's signature does not hold: {e}"))?;
    if !for_timestamping(cert) {
        return Err("the signer's certificate is not for timestamping (RFC 3161: one extended key usage, timeStamping, critical)".into());
    }
    if !valid_at(cert, tst.gen_time.to_unix_duration()) {
        return Err("the signer's certificate was not valid at the time the token states".into());
    }
    let chain = match trusted.is_empty() {
        true => false,
        false => {
            chain_to(cert, &certs, trusted)?;
            true
        }
    };
    Ok(Stamp {
        time: tst.gen_time.to_date_time().to_string(),
        signer: cert.tbs_certificate.subject.to_string(),
        chain,
    })
}

fn hash(alg: ObjectIdentifier, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let alg = match alg {
        SHA256 => &ring::digest::SHA256,
        SHA384 => &ring::digest::SHA384,
        SHA512 => &ring::digest::SHA512,
        other => return Err(format!("the token uses a digest blackout does not check ({other})")),
    };
    Ok(ring::digest::digest(alg, bytes).as_ref().to_vec())
}

/// Whether `cert` is the one the signer identifier names.
fn signs(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(i) => {
            i.issuer == cert.tbs_certificate.issuer && i.serial_number == cert.tbs_certificate.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id == ObjectIdentifier::new_unwrap("2.5.29.14"))
            .any(|e| OctetString::from_der(e.extn_value.as_bytes()).is_ok_and(|k| k.as_bytes() == ski.0.as_bytes())),
    }
}

/// RFC 3161 §2.3: the TSA's certificate has one extended key usage, timeStamping, marked
/// critical.
fn for_timestamping(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == EXTENDED_KEY_USAGE && e.critical)
        .any(|e| x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).is_ok_and(|u| u.0 == [TIME_STAMPING]))
}

/// Whether `cert` was valid at `at`.
fn valid_at(cert: &Certificate, at: std::time::Duration) -> bool {
    let v = &cert.tbs_certificate.validity;
    v.not_before.to_unix_duration() <= at && at <= v.not_after.to_unix_duration()
}

/// Checks `signature` over `message` with `cert`'s key.
fn verify_signature(
    cert: &Certificate,
    alg: ObjectIdentifier,
    digest: ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use ring::signature as sig;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let key = spki.subject_public_key.raw_bytes();
    let scheme: &dyn sig::VerificationAlgorithm = match (spki.algorithm.oid, alg, digest) {
        (RSA, RSA_SHA256, _) | (RSA, RSA, SHA256) => &sig::RSA_PKCS1_2048_8192_SHA256,
        (RSA, RSA_SHA384, _) | (RSA, RSA, SHA384) => &sig::RSA_PKCS1_2048_8192_SHA384,
        (RSA, RSA_SHA512, _) | (RSA, RSA, SHA512) => &sig::RSA_PKCS1_2048_8192_SHA512,
        (EC_KEY, ECDSA_SHA256, _) | (EC_KEY, ECDSA_SHA384, _) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match (curve, alg) {
                (Some(P256), ECDSA_SHA256) => &sig::ECDSA_P256_SHA256_ASN1,
                (Some(P384), ECDSA_SHA384) => &sig::ECDSA_P384_SHA384_ASN1,
                (Some(P256), _) => &sig::ECDSA_P256_SHA384_ASN1,
                (Some(P384), _) => &sig::ECDSA_P384_SHA256_ASN1,
                _ => return Err("an elliptic curve blackout does not check".into()),
            }
        }
        (key_alg, alg, _) => return Err(format!("a key ({key_alg}) or signature ({alg}) blackout does not check")),
    };
    sig::UnparsedPublicKey::new(scheme, key)
        .verify(message, signature)
        .map_err(|_| "the signature does not match".to_string())
}

/// Checks that `cert` chains, through the token's certificates, to one of `trusted`.
fn chain_to(cert: &Certificate, carried: &[Certificate], trusted: &[Vec<u8>]) -> Result<(), String> {
    let trusted: Vec<Certificate> = trusted.iter().filter_map(|d| Certificate::from_der(d).ok()).collect();
    let mut at = cert.clone();
    for _ in 0..8 {
        if let Some(anchor) = trusted.iter().find(|t| t.tbs_certificate.subject == at.tbs_certificate.issuer) {
            return issued_by(&at, anchor);
        }
        let next = carried
            .iter()
            .find(|c| c.tbs_certificate.subject == at.tbs_certificate.issuer && c.tbs_certificate != at.tbs_certificate)
            .ok_or_else(|| {
                format!(
                    "its certificate chain does not reach a trusted CA (issuer {})",
                    at.tbs_certificate.issuer
                )
            })?;
        issued_by(&at, next)?;
        at = next.clone();
    }
    Err("its certificate chain is longer than 8".into())
}

fn issued_by(cert: &Certificate, issuer: &Certificate) -> Result<(), String> {
    let tbs = cert.tbs_certificate.to_der().map_err(|e| e.to_string())?;
    let alg = cert.signature_algorithm.oid;
    verify_signature(issuer, alg, alg, &tbs, cert.signature.raw_bytes()).map_err(|e| {
        format!(
            "{} was not issued by {}: {e}",
            cert.tbs_certificate.subject, issuer.tbs_certificate.subject
        )
    })
}

/// PEM certificates (a CA file) as DER.
pub fn pem_certificates(pem: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut inside: Option<String> = None;
    for line in pem.lines() {
        let line = line.trim();
        match (&mut inside, line) {
            (None, "-----BEGIN CERTIFICATE-----") => inside = Some(String::new()),
            (Some(b64), "-----END CERTIFICATE-----") => {
                if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()) {
                    out.push(der);
                }
                inside = None;
            }
            (Some(b64), l) => b64.push_str(l),
            (None, _) => {}
        }
    }
    out
}

/// The largest answer read from a TSA.
const MAX_ANSWER: usize = 1 << 20;

/// Asks the TSA at `url` for a token over `digest`, within `timeout`; base64 of the DER.
pub fn stamp(url: &url::Url, digest: &Digest, timeout: std::time::Duration) -> Result<String, String> {
    crate::http::install_crypto();
    let mut n = [0u8; 8];
    getrandom::fill(&mut n).map_err(|e| format!("no random nonce: {e}"))?;
    let nonce = u64::from_be_bytes(n);
    // The TSA's own address: no redirect followed (an https TSA is not left for http).
    let client = reqwest::Client::builder()
        .user_agent(crate::report::TOOL)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
    let body = request(digest, nonce);
    let asking = async {
        let r = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
            .body(body)
            .send()
            .await
            .map_err(|e| crate::report::error_chain(&e.without_url()))?;
        if !r.status().is_success() {
            return Err(format!("HTTP {}", r.status()));
        }
        // A token is a few kilobytes; an answer past the cap is not one.
        let mut r = r;
        let mut answer = Vec::new();
        while let Some(chunk) = r.chunk().await.map_err(|e| e.without_url().to_string())? {
            answer.extend_from_slice(&chunk);
            if answer.len() > MAX_ANSWER {
                return Err(format!("an answer larger than {MAX_ANSWER} bytes"));
            }
        }
        Ok(answer)
    };
    let answer = crate::http::bounded(timeout, asking)?
        .ok_or_else(|| format!("no answer within {} s", timeout.as_secs()))?
        .map_err(|why| format!("the TSA at {url}: {why}"))?;
    let der = token_of(&answer, digest, nonce)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_the_der_rfc_3161_lays_out() {
        // The DER laid out by hand from RFC 3161 §2.4.1 (that `openssl ts -reply` accepts it is
        // the integration test's): version 1, the SHA-256 imprint, nonce 0x0102 (a positive
        // INTEGER of two octets), certReq TRUE.
        let d = Digest([0xab; 32]);
        let der = request(&d, 0x0102);
        let expected_head = [0x30, 0x3d, 0x02, 0x01, 0x01, 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09];
        assert_eq!(&der[..expected_head.len()], expected_head);
        assert!(der.ends_with(&[0x02, 0x02, 0x01, 0x02, 0x01, 0x01, 0xff]), "{der:02x?}");
        assert_eq!(nonce_bytes(0x80), vec![0, 0x80], "a positive INTEGER");
    }
}
