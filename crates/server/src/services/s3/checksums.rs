//! Additional checksums (`x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}`), kept and
//! answered: the one a write sends (a header or an `aws-chunked` trailer), once its body has
//! been checked against it ([`super::blobs`]), or the one a multipart upload or a copy asks
//! for, computed as the body is sealed. A multipart object's checksum is made from its parts':
//! `COMPOSITE`, the checksum of the parts' checksums with `-N`; `FULL_OBJECT`, the CRC of the
//! whole object, combined from the parts' CRCs (`sigv4::checksum::combine_crc`).
//!
//! A checksum of the plaintext kept in the clear would let whoever reads the database confirm
//! a guess of an object's content, so each is sealed under the account's key
//! ([`crate::support::account_keys`]) and bound to its bucket and key, as user metadata is
//! ([`super::metadata`]); only the algorithm of an upload and an object's checksum type (which
//! say nothing of the content) are kept in the clear.

use super::input::GetObject;
use super::{s3err, Bucket};
use crate::error::ApiError;
use crate::pipeline::State;
use crate::protocol::xml;
use crate::records::s3::{ChecksumAlgorithm, ChecksumType, Object, SealedPart};
use crate::support::account_keys::{open_text, seal_text};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// A checksum: its algorithm and its value (base64, as the header carries it; a composite one
/// ends `-N`), what is sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Sum {
    pub algorithm: ChecksumAlgorithm,
    pub value: String,
}

impl Sum {
    /// The value without a composite checksum's `-N`.
    fn digest(&self) -> &str {
        self.value.split('-').next().unwrap_or_default()
    }

    /// Whether `given` (a request's value for the same algorithm) is this checksum: exactly,
    /// or a composite one without its `-N`.
    pub fn matches(&self, algorithm: ChecksumAlgorithm, given: &str) -> bool {
        let given = given.trim();
        self.algorithm == algorithm && (self.value == given || self.digest() == given)
    }
}

/// Seals and opens the checksums of one object (and of the parts of its uploads) under the
/// account's key, bound to the object's bucket and key.
pub(super) struct Sealer {
    key: std::sync::Arc<crypto::RootKey>,
    context: String,
}

impl Sealer {
    /// The sealer of object `key` of `bucket` (owned by `account`). Made before a write's
    /// transaction begins: the account's key may have to be read.
    pub fn new(state: &State, account: &str, bucket: &str, key: &str) -> Result<Sealer, ApiError> {
        let sealing = state.account_keys.of(state.store.as_ref(), &state.root, account)?;
        Ok(Sealer {
            key: sealing,
            context: format!("hermetic:object-checksum/v1\0{bucket}\0{key}"),
        })
    }

    /// `sum`, sealed.
    pub fn seal(&self, sum: &Sum) -> Result<String, ApiError> {
        seal_text(&self.key, &self.context, sum, "checksum")
    }

    /// What [`Sealer::seal`] sealed (an internal error if it was changed or moved).
    pub fn open(&self, sealed: &str) -> Result<Sum, ApiError> {
        open_text(&self.key, &self.context, sealed, "an object's checksum")
    }

    /// The checksum of `part`, if it keeps one.
    pub fn open_part(&self, part: &SealedPart) -> Result<Option<Sum>, ApiError> {
        part.checksum.as_deref().map(|sealed| self.open(sealed)).transpose()
    }
}

/// S3's refusal of a checksum member it does not accept.
fn invalid_request(message: impl Into<String>) -> ApiError {
    s3err(400, "InvalidRequest", message)
}

/// The algorithm `x-amz-checksum-algorithm` names (CreateMultipartUpload, CopyObject), if
/// given; `InvalidRequest` for one S3 does not know here.
pub(super) fn algorithm(given: Option<&str>) -> Result<Option<ChecksumAlgorithm>, ApiError> {
    given
        .map(|text| {
            ChecksumAlgorithm::parse(text).ok_or_else(|| {
                invalid_request("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
            })
        })
        .transpose()
}

/// A multipart upload's checksum algorithm and type, from CreateMultipartUpload's
/// `x-amz-checksum-algorithm` and `x-amz-checksum-type`, checked as S3 checks them: a type
/// needs an algorithm; CRC-64/NVME makes only full-object checksums, SHA-1 and SHA-256 only
/// composite ones. Without a type, CRC-64/NVME's is `FULL_OBJECT` and the others'
/// `COMPOSITE`, as in S3.
pub(super) fn upload_mode(
    algorithm_given: Option<&str>,
    type_given: Option<&str>,
) -> Result<Option<(ChecksumAlgorithm, ChecksumType)>, ApiError> {
    let algorithm = algorithm(algorithm_given)?;
    let kind = type_given
        .map(|t| {
            ChecksumType::parse(t)
                .ok_or_else(|| invalid_request("Value for x-amz-checksum-type header is invalid."))
        })
        .transpose()?;
    let Some(algorithm) = algorithm else {
        if kind.is_some() {
            return Err(invalid_request(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
            ));
        }
        return Ok(None);
    };
    let kind = kind.unwrap_or_else(|| default_type(algorithm));
    let allowed = match kind {
        ChecksumType::Composite => algorithm != ChecksumAlgorithm::Crc64Nvme,
        ChecksumType::FullObject => algorithm.is_crc(),
    };
    if !allowed {
        return Err(invalid_request(format!(
            "The {} checksum type cannot be used with the {} checksum algorithm.",
            kind.as_str(),
            algorithm.as_str().to_ascii_lowercase()
        )));
    }
    Ok(Some((algorithm, kind)))
}

/// The checksum type of an upload that names only its algorithm: `FULL_OBJECT` for
/// CRC-64/NVME (which makes no other), `COMPOSITE` for the others, as in S3.
pub(super) fn default_type(algorithm: ChecksumAlgorithm) -> ChecksumType {
    if algorithm == ChecksumAlgorithm::Crc64Nvme {
        ChecksumType::FullObject
    } else {
        ChecksumType::Composite
    }
}

/// A part's checksum must be its upload's: `InvalidRequest` for a part that sends another (a
/// part that sends none gets the upload's, computed as it is sealed).
pub(super) fn part_matches_upload(
    upload: Option<ChecksumAlgorithm>,
    sent: impl IntoIterator<Item = ChecksumAlgorithm>,
) -> Result<(), ApiError> {
    let Some(expected) = upload else { return Ok(()) };
    match sent.into_iter().find(|a| *a != expected) {
        Some(other) => Err(invalid_request(format!(
            "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
            expected.as_str().to_ascii_lowercase(),
            other.as_str().to_ascii_lowercase()
        ))),
        None => Ok(()),
    }
}

/// The checksum of a multipart object of `kind` from its parts' checksums (each of
/// `algorithm`) and sizes, in order: `COMPOSITE`, the checksum of the parts' checksums (their
/// bytes, laid end to end) with `-N`; `FULL_OBJECT`, the CRC of the whole object.
pub(super) fn of_parts(
    algorithm: ChecksumAlgorithm,
    kind: ChecksumType,
    parts: &[(Sum, u64)],
) -> Result<Sum, ApiError> {
    let malformed = || ApiError::internal("a part's checksum is malformed");
    let raw = |sum: &Sum| -> Result<Vec<u8>, ApiError> {
        if sum.algorithm != algorithm {
            return Err(malformed());
        }
        base64::engine::general_purpose::STANDARD.decode(sum.digest()).map_err(|_| malformed())
    };
    let value = match kind {
        ChecksumType::Composite => {
            let mut whole =
                sigv4::checksum::Checksum::for_header(algorithm.header()).ok_or_else(malformed)?;
            for (sum, _) in parts {
                whole.update(&raw(sum)?);
            }
            format!("{}-{}", whole.finish_base64(), parts.len())
        }
        ChecksumType::FullObject => {
            let mut whole: Option<Vec<u8>> = None;
            for (sum, size) in parts {
                let part = raw(sum)?;
                whole = Some(match whole {
                    None => part,
                    Some(before) => {
                        sigv4::checksum::combine_crc(algorithm.header(), &before, &part, *size)
                            .ok_or_else(malformed)?
                    }
                });
            }
            sigv4::checksum::base64(&whole.ok_or_else(malformed)?)
        }
    };
    Ok(Sum { algorithm, value })
}

/// The headers that answer `sum` (`x-amz-checksum-*`, and `x-amz-checksum-type` when the
/// operation gives one).
pub(super) fn headers(sum: &Sum, kind: Option<ChecksumType>) -> Vec<(String, String)> {
    let mut out = vec![(sum.algorithm.header().to_string(), sum.value.clone())];
    if let Some(kind) = kind {
        out.push(("x-amz-checksum-type".to_string(), kind.as_str().to_string()));
    }
    out
}

/// `sum` as XML members (`ChecksumSHA256`, ...; `ChecksumType` when given).
pub(super) fn members(w: &mut xml::Writer, sum: &Sum, kind: Option<ChecksumType>) {
    w.text(sum.algorithm.member(), &sum.value);
    if let Some(kind) = kind {
        w.text("ChecksumType", kind.as_str());
    }
}

/// The number of a part of a multipart object (the last field of its blob's identity).
pub(super) fn part_number(part: &SealedPart) -> Option<u32> {
    part.identity.rsplit('|').next()?.parse().ok()
}

/// The checksum a GET or HEAD of `object` (key `key` of `bucket`) answers: only when the
/// request asks (`x-amz-checksum-mode: ENABLED`), never for a range (the checksum is not the
/// range's); for `partNumber` of an object uploaded in parts, that part's (with the object's
/// type), else the object's.
pub(super) fn read_headers(
    state: &State,
    input: &GetObject,
    bucket: &Bucket,
    key: &str,
    object: &Object,
) -> Result<Vec<(String, String)>, ApiError> {
    let Some(sealed) = object.checksum.as_deref() else { return Ok(Vec::new()) };
    if !input.checksum_mode || input.range.is_some() {
        return Ok(Vec::new());
    }
    let sealer = Sealer::new(state, &bucket.account, &bucket.key, key)?;
    let multipart = object.etag.trim_matches('"').rsplit_once('-').is_some();
    let wanted = input.part_number.as_deref().and_then(|n| n.parse::<u32>().ok());
    let sum = match wanted {
        Some(n) if multipart => {
            let part = object.parts.iter().find(|p| part_number(p) == Some(n));
            match part.map(|p| sealer.open_part(p)).transpose()?.flatten() {
                Some(sum) => sum,
                None => return Ok(Vec::new()),
            }
        }
        _ => sealer.open(sealed)?,
    };
    Ok(headers(&sum, object.checksum_type))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sum(algorithm: ChecksumAlgorithm, value: &str) -> Sum {
        Sum { algorithm, value: value.to_string() }
    }

    /// Composite checksums as ceph's s3-tests compute them: SHA-256 and SHA-1 of three 5 MiB
    /// parts (`A`, `B`, `C`), and of one 1 KiB part.
    #[test]
    fn composite_checksums_hash_the_parts_checksums() {
        let size = 5 * 1024 * 1024;
        let sha256 = [
            "275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI=",
            "mrHwOfjTL5Zwfj74F05HOQGLdUb7E5szdCbxgUSq6NM=",
            "Vw7oB/nKQ5xWb3hNgbyfkvDiivl+U+/Dft48nfJfDow=",
        ]
        .map(|v| (sum(ChecksumAlgorithm::Sha256, v), size));
        let whole = of_parts(ChecksumAlgorithm::Sha256, ChecksumType::Composite, &sha256).unwrap();
        assert_eq!(whole.value, "uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3");
        let one = [(
            sum(ChecksumAlgorithm::Sha256, "arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0="),
            1024,
        )];
        let whole = of_parts(ChecksumAlgorithm::Sha256, ChecksumType::Composite, &one).unwrap();
        assert_eq!(whole.value, "Ok6Cs5b96ux6+MWQkJO7UBT5sKPBeXBLwvj/hK89smg=-1");
        let sha1 = [
            "iIaTCGbm+vdVjNqIMF2S0T7ibMk=",
            "LS/TJ32bAVKEwRu+sE3X7awh/lk=",
            "6DDwovUaHwrKNXDMzOGbuvj9kxI=",
        ]
        .map(|v| (sum(ChecksumAlgorithm::Sha1, v), size));
        let whole = of_parts(ChecksumAlgorithm::Sha1, ChecksumType::Composite, &sha1).unwrap();
        assert_eq!(whole.value, "sizjvY4eud3MrcHdZM3cQ/ol39o=-3");
        // A request may give a composite value with or without its `-N`.
        assert!(whole.matches(ChecksumAlgorithm::Sha1, "sizjvY4eud3MrcHdZM3cQ/ol39o=-3"));
        assert!(whole.matches(ChecksumAlgorithm::Sha1, "sizjvY4eud3MrcHdZM3cQ/ol39o="));
        assert!(!whole.matches(ChecksumAlgorithm::Sha256, "sizjvY4eud3MrcHdZM3cQ/ol39o="));
        assert!(!whole.matches(ChecksumAlgorithm::Sha1, "bad"));
        // A part of another algorithm is not the upload's.
        let mixed = [sha1[0].clone(), sha256[1].clone()];
        assert!(of_parts(ChecksumAlgorithm::Sha1, ChecksumType::Composite, &mixed).is_err());
    }

    /// Full-object checksums combine the parts' CRCs (the s3-tests' values).
    #[test]
    fn full_object_checksums_combine_the_parts_crcs() {
        let size = 5 * 1024 * 1024;
        for (algorithm, parts, expected) in [
            (ChecksumAlgorithm::Crc32, ["JRTCyQ==", "QoZTGg==", "YAgjqw=="], "WgDhBQ=="),
            (ChecksumAlgorithm::Crc32c, ["MDaLrw==", "TH4EZg==", "Z7mBIQ=="], "xU+Krw=="),
            (
                ChecksumAlgorithm::Crc64Nvme,
                ["L/E4WYn8v98=", "xW1l19VobYM=", "cK5MnNaWrW4="],
                "i+6LR0y3eFo=",
            ),
        ] {
            let parts = parts.map(|v| (sum(algorithm, v), size));
            let whole = of_parts(algorithm, ChecksumType::FullObject, &parts).unwrap();
            assert_eq!(whole, sum(algorithm, expected), "{algorithm:?}");
            // One part is its own full-object checksum.
            let first = of_parts(algorithm, ChecksumType::FullObject, &parts[..1]).unwrap();
            assert_eq!(first, parts[0].0);
        }
        // A hash does not combine.
        let sha = [
            (sum(ChecksumAlgorithm::Sha256, "c2E="), 1),
            (sum(ChecksumAlgorithm::Sha256, "c2E="), 1),
        ];
        assert!(of_parts(ChecksumAlgorithm::Sha256, ChecksumType::FullObject, &sha).is_err());
    }

    /// CreateMultipartUpload's algorithm and type, as S3 allows and defaults them.
    #[test]
    fn upload_modes_are_checked_and_defaulted() {
        use ChecksumAlgorithm as A;
        use ChecksumType as T;
        assert_eq!(upload_mode(None, None).unwrap(), None);
        assert_eq!(upload_mode(Some("SHA256"), None).unwrap(), Some((A::Sha256, T::Composite)));
        assert_eq!(upload_mode(Some("crc32"), None).unwrap(), Some((A::Crc32, T::Composite)));
        assert_eq!(
            upload_mode(Some("CRC64NVME"), None).unwrap(),
            Some((A::Crc64Nvme, T::FullObject))
        );
        assert_eq!(
            upload_mode(Some("CRC32C"), Some("FULL_OBJECT")).unwrap(),
            Some((A::Crc32c, T::FullObject))
        );
        for (a, t) in [
            (None, Some("COMPOSITE")),
            (Some("MD5"), None),
            (Some("CRC32"), Some("PARTIAL")),
            (Some("SHA256"), Some("FULL_OBJECT")),
            (Some("CRC64NVME"), Some("COMPOSITE")),
        ] {
            assert_eq!(upload_mode(a, t).unwrap_err().code, "InvalidRequest", "{a:?} {t:?}");
        }
        assert!(part_matches_upload(Some(A::Sha256), [A::Sha256]).is_ok());
        assert!(part_matches_upload(Some(A::Sha256), []).is_ok());
        assert!(part_matches_upload(None, [A::Crc32]).is_ok());
        let refused = part_matches_upload(Some(A::Sha256), [A::Crc32]).unwrap_err();
        assert!(refused.message.contains("expected checksum Type: sha256"), "{}", refused.message);
    }
}
